// The coordinator's half of a digest resync (DESIGN.md §4): digest what the catalog holds of a
// server per hash bucket (shared/domain/inventory-digest.ts), compare with the agent's digests,
// and name the buckets it must send again. Those buckets are then replaced as a full inventory
// replaces everything (mark and sweep, scoped to them); the rest is left as it is.
import type { InventoryDigests } from '../../proto/gen/ecguard/v1/agent.js';
import { BucketDigests, bucketOf } from '../../shared/domain/inventory-digest.js';
import type { ArchiveRemoval, CatalogStore } from '../catalog/catalog-store.js';
import type { ArchiveRow } from '../catalog/catalog-types.js';

const PAGE = 5000;

/** Visits every archive of `serverId` on `diskIds`, a page at a time, yielding between pages. */
async function eachArchive(store: Pick<CatalogStore, 'archivesOnDisk'>, serverId: string, diskIds: readonly string[], visit: (a: ArchiveRow) => void, onPage?: () => void): Promise<void> {
  for (const diskId of diskIds) {
    for (let after = ''; ;) {
      const page = await store.archivesOnDisk(serverId, diskId, after, PAGE);
      for (const a of page) visit(a);
      onPage?.();
      // SQLite answers synchronously: without a turn, other agents' heartbeats would wait for
      // the whole pass over a server of millions of archives, and look silent
      await new Promise((resolve) => setImmediate(resolve));
      if (page.length < PAGE) break;
      after = page[page.length - 1]?.dataPath ?? after;
    }
  }
}

/** The catalog's digests of `serverId`'s archives on `diskIds`. */
export async function catalogDigests(store: Pick<CatalogStore, 'archivesOnDisk'>, serverId: string, diskIds: readonly string[], buckets: number, onPage?: () => void): Promise<BucketDigests> {
  const d = new BucketDigests(buckets);
  await eachArchive(store, serverId, diskIds, (a) => d.add(a), onPage);
  return d;
}

/**
 * The catalog's archives in the `wanted` buckets: the only ones the resync may drop (those the
 * agent does not send again). A second pass, so the sweep touches these keys only.
 */
export async function archivesInBuckets(store: Pick<CatalogStore, 'archivePathsOnDisk'>, serverId: string, diskIds: readonly string[], wanted: ReadonlySet<number>, buckets: number, onPage?: () => void): Promise<ArchiveRemoval[]> {
  const out: ArchiveRemoval[] = [];
  if (wanted.size === 0) return out;
  for (const diskId of diskIds) {
    for (let after = ''; ;) {
      const page = await store.archivePathsOnDisk(serverId, diskId, after, PAGE * 4);
      for (const dataPath of page) if (wanted.has(bucketOf(diskId, dataPath, buckets))) out.push({ diskId, dataPath });
      onPage?.();
      await new Promise((resolve) => setImmediate(resolve));
      if (page.length < PAGE * 4) break;
      after = page[page.length - 1] ?? after;
    }
  }
  return out;
}

/** What is wrong with an agent's digests, or undefined. */
export function badDigests(m: InventoryDigests, buckets: number): string | undefined {
  if (m.counts.length !== buckets || m.sums.length !== buckets) return `digests for ${m.counts.length}/${m.sums.length} buckets where ${buckets} were asked`;
  if (m.counts.some((c) => !Number.isSafeInteger(c) || c < 0) || m.sums.some((x) => !Number.isSafeInteger(x) || x < 0 || x >= 2 ** 48)) return 'a digest count or sum out of range';
  return undefined;
}

