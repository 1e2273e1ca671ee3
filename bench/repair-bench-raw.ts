// The repair bench's baseline: read exactly the source entries a stripe rebuild of the same loss
// reads (per block, the N lowest-numbered stripes the survivors hold: data stripes first, as
// block-reader.ts picks them), through the same Stripes peers and PeerPool, with no CRC check, no
// decode and no write. Directories are fetched before the clock starts.
//   stream: per survivor one StreamEntries call over all its entries with unlimited credit, all
//           survivors at once: the fastest way to pull those bytes (the baseline the target
//           compares with; measured side by side it was as fast as or faster than ReadEntries in
//           batches of 16 or in one call, and than the repair's own credit window);
//   block:  block by block, one ReadEntries call per entry, the N of a block in parallel: the
//           repair's own access pattern, to tell pattern costs from rebuild costs.
import { performance } from 'node:perf_hooks';
import type { PeerPool } from '../agent/stripes/peer-pool.js';
import { remoteArchiveSource, type RemoteArchiveSource } from '../agent/stripes/remote-source.js';
import { stripeCount, type EcProfile } from '../shared/xrdec/profile.js';
import type { ZipEntry } from '../shared/xrdec/zip-directory.js';
import type { StoredArchive } from './repair-bench-cluster.js';

export type RawMode = 'stream' | 'block';

export interface RawRead {
  readonly bytes: number;
  readonly entries: number;
  readonly seconds: number;
}

/** The entries the rebuild reads: per block needing a rebuild, the N lowest stripes held, as [source, entry]. */
export function entriesToRead(profile: EcProfile, dirs: readonly (readonly ZipEntry[])[]): { source: number; entry: ZipEntry }[][] {
  const byBlock = new Map<number, Map<number, { source: number; entry: ZipEntry }>>();
  dirs.forEach((entries, source) => {
    for (const entry of entries) {
      if (!entry.stripe) continue;
      const m = byBlock.get(entry.stripe.block) ?? new Map<number, { source: number; entry: ZipEntry }>();
      if (!m.has(entry.stripe.stripe)) m.set(entry.stripe.stripe, { source, entry });
      byBlock.set(entry.stripe.block, m);
    }
  });
  const out: { source: number; entry: ZipEntry }[][] = [];
  for (const block of [...byBlock.keys()].sort((a, b) => a - b)) {
    const m = byBlock.get(block) as Map<number, { source: number; entry: ZipEntry }>;
    if (m.size >= stripeCount(profile)) continue; // nothing missing: the rebuild reads nothing here
    out.push([...m.keys()].sort((a, b) => a - b).slice(0, profile.nbData).map((s) => m.get(s) as { source: number; entry: ZipEntry }));
  }
  return out;
}

export async function rawRead(pool: PeerPool, addresses: ReadonlyMap<string, string>, profile: EcProfile, survivors: readonly StoredArchive[], mode: RawMode): Promise<RawRead> {
  const sources: RemoteArchiveSource[] = survivors.map((s) => remoteArchiveSource(pool.client(s.serverId, addresses.get(s.serverId) ?? ''), s));
  // The same archives with credit for every entry at once: nothing paces the peers.
  const unpaced = survivors.map((s) => remoteArchiveSource(pool.client(s.serverId, addresses.get(s.serverId) ?? ''), s, { streamWindow: Number.MAX_SAFE_INTEGER }));
  try {
    const dirs = await Promise.all(sources.map(async (s) => (await s.directory()).entries));
    const blocks = entriesToRead(profile, dirs);
    let bytes = 0;
    let entries = 0;
    const got = (bufs: readonly Buffer[]): void => {
      for (const b of bufs) bytes += b.length;
      entries += bufs.length;
    };
    const t0 = performance.now();
    if (mode === 'stream') {
      const perSource = sources.map((_, i) => blocks.flatMap((b) => b.filter((x) => x.source === i).map((x) => x.entry)));
      await Promise.all(perSource.map(async (list, i) => {
        if (list.length === 0) return;
        const s = (unpaced[i] as RemoteArchiveSource).openEntryStream(list);
        try {
          for (let k = 0; k < list.length; k++) got([await s.next()]);
        } finally {
          s.close();
        }
      }));
    } else {
      for (const b of blocks) got(await Promise.all(b.map((x) => (sources[x.source] as RemoteArchiveSource).readEntry(x.entry))));
    }
    return { bytes, entries, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await Promise.all([...sources, ...unpaced].map((s) => s.close()));
  }
}
