// Synthetic archive inventories for the catalog bench: LFNs shared by `perLfn` archives on
// distinct servers (8+2 files), streamed per server in batches as agents send them.
import type { ArchiveRecord } from '../shared/domain/archive-record.js';

export interface SiteShape {
  readonly servers: number;
  readonly disksPerServer: number;
  /** Archives per LFN (n+m), each on a different server. */
  readonly perLfn: number;
  readonly lfns: number;
}

export const serverName = (s: number): string => `srv${String(s).padStart(2, '0')}`;
export const diskName = (s: number, d: number): string => `${serverName(s)}:/data/disk${d}`;
export const lfnName = (i: number): string => `/store/user/run${i % 1000}/file${i}.root`;

function record(server: number, disk: number, i: number, stripe: number): ArchiveRecord {
  const lfn = lfnName(i);
  const bucket = ((i * 2654435761) >>> 24).toString(16).toUpperCase().padStart(2, '0');
  return {
    serverId: serverName(server),
    diskId: diskName(server, disk),
    space: 'public',
    dataPath: `public/${bucket}/${(i * 40503).toString(36)}-${stripe}%`,
    nsPath: `/xrd/ns${lfn}`,
    pfn: lfn,
    lfn,
    size: 1_048_576 + (i % 4096),
    mtimeMs: 1_700_000_000_000 + i,
    inode: 1_000_000 + i,
    strpver: 1_700_000_000,
    filesize: 8 * 1_048_576,
    xattrNamespace: 'user.U.',
    nblocks: 8,
    nentries: 8,
    crcKind: 'crc32c',
    regular: true,
    parseStatus: 'ok',
    cdDigest: (i * 16 + stripe).toString(16).padStart(32, '0'), // distinct, as real directories are
  };
}

/** Archive `stripe` of LFN `i` lives on server (i + stripe) mod servers. */
const placement = (shape: SiteShape, i: number, stripe: number): { server: number; disk: number } => ({
  server: (i + stripe) % shape.servers,
  disk: Math.floor(i / shape.servers) % shape.disksPerServer,
});

/** One server's archives in batches of `batch` (generated lazily: a million records is ~0.5 GB). */
export function* serverBatches(shape: SiteShape, server: number, batch: number): Generator<ArchiveRecord[]> {
  let out: ArchiveRecord[] = [];
  for (let i = 0; i < shape.lfns; i++) {
    const stripe = (server - (i % shape.servers) + shape.servers) % shape.servers;
    if (stripe >= shape.perLfn) continue;
    const p = placement(shape, i, stripe);
    out.push(record(p.server, p.disk, i, stripe));
    if (out.length === batch) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/**
 * A site where server 0's disk 0 holds `lfns` archives (stripe 0 of every LFN) and the other
 * stripes spread over servers 1.. and their disks: the "one disk of a million archives" case.
 */
export function* bigDiskBatches(shape: SiteShape, server: number, batch: number): Generator<ArchiveRecord[]> {
  let out: ArchiveRecord[] = [];
  for (let i = 0; i < shape.lfns; i++) {
    for (let stripe = 0; stripe < shape.perLfn; stripe++) {
      const s = stripe === 0 ? 0 : 1 + ((i + stripe) % (shape.servers - 1));
      if (s !== server) continue;
      out.push(record(s, stripe === 0 ? 0 : i % shape.disksPerServer, i, stripe));
      if (out.length === batch) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}
