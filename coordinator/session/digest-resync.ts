// The coordinator's half of a digest resync (DESIGN.md §4): digest what the catalog holds of a
// server per hash bucket (shared/domain/inventory-digest.ts), compare with the agent's digests,
// and name the buckets it must send again. Those buckets are then replaced as a full inventory
// replaces everything (mark and sweep, scoped to them); the rest is left as it is.
import type { InventoryDigests } from '../../proto/gen/ecguard/v1/agent.js';
import { BucketDigests, bucketOf } from '../../shared/domain/inventory-digest.js';
import type { CatalogStore } from '../catalog/catalog-store.js';

const PAGE = 5000;

/** The catalog's digests of `serverId`'s archives on `diskIds`. */
export async function catalogDigests(store: Pick<CatalogStore, 'archivesOnDisk'>, serverId: string, diskIds: readonly string[], buckets: number, onPage?: () => void): Promise<BucketDigests> {
  const d = new BucketDigests(buckets);
  for (const diskId of diskIds) {
    for (let after = ''; ;) {
      const page = await store.archivesOnDisk(serverId, diskId, after, PAGE);
      for (const a of page) d.add(a);
      onPage?.();
      if (page.length < PAGE) break;
      after = page[page.length - 1]?.dataPath ?? after;
    }
  }
  return d;
}

/** What is wrong with an agent's digests, or undefined. */
export function badDigests(m: InventoryDigests, buckets: number): string | undefined {
  if (m.counts.length !== buckets || m.sums.length !== buckets) return `digests for ${m.counts.length}/${m.sums.length} buckets where ${buckets} were asked`;
  if (m.counts.some((c) => !Number.isSafeInteger(c) || c < 0) || m.sums.some((x) => !Number.isSafeInteger(x) || x < 0 || x >= 2 ** 48)) return 'a digest count or sum out of range';
  return undefined;
}

/** The archives a resync of `wanted` buckets replaces: those in the buckets. */
export function inBuckets(wanted: ReadonlySet<number>, buckets: number): (diskId: string, dataPath: string) => boolean {
  return (diskId, dataPath) => wanted.has(bucketOf(diskId, dataPath, buckets));
}
