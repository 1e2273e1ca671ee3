// Digest resync (DESIGN.md §4, the walb "hash backup" idea): when an agent's journal cannot
// cover the gap, agent and coordinator each digest what they hold of that server, per hash
// bucket of the archive key, and only the buckets that differ are sent again. Both sides run
// these functions on the same ArchiveRecord fields, so equal records give equal digests; any
// field that does not round-trip only costs its bucket being re-sent.
import { hash } from 'node:crypto';
import type { ArchiveRecord } from './archive-record.js';

/** Buckets per server: ~250 archives each at a million archives, a 50 KB summary. */
export const DIGEST_BUCKETS = 4096;

const MOD = 2 ** 48;

/** The bucket of an archive key (disk id and data path): FNV-1a over its UTF-16 code units. */
export function bucketOf(diskId: string, dataPath: string, buckets = DIGEST_BUCKETS): number {
  // a spread, not a guard against forgery: cheap enough to run on every row of a server twice
  let h = 0x811c9dc5;
  for (const s of [diskId, '\0', dataPath]) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return (h >>> 0) % buckets;
}

/** 48 bits of a record's content, every field in a fixed order (absent fields as null). */
export function recordDigest(r: ArchiveRecord): number {
  const fields = [
    r.diskId, r.dataPath, r.space, r.nsPath ?? null, r.pfn ?? null, r.lfn ?? null, r.size, r.mtimeMs, r.inode, r.strpver ?? null,
    r.filesize ?? null, r.xattrNamespace ?? null, r.nblocks, r.nentries, r.crcKind ?? null, r.regular, r.stripeMap ?? null,
    r.parseStatus, r.parseError ?? null, r.cdDigest ?? null,
  ];
  return hash('sha1', JSON.stringify(fields), 'buffer').readUIntBE(0, 6);
}

/** Per bucket, the number of archives and the sum of their digests (mod 2^48): order-free. */
export class BucketDigests {
  readonly counts: number[];
  readonly sums: number[];

  constructor(readonly buckets = DIGEST_BUCKETS) {
    this.counts = new Array<number>(buckets).fill(0);
    this.sums = new Array<number>(buckets).fill(0);
  }

  add(r: ArchiveRecord): void {
    const b = bucketOf(r.diskId, r.dataPath, this.buckets);
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.sums[b] = ((this.sums[b] ?? 0) + recordDigest(r)) % MOD;
  }

  /** Buckets whose count or sum differs from the other side's. */
  differing(counts: readonly number[], sums: readonly number[]): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.buckets; b++) if (this.counts[b] !== counts[b] || this.sums[b] !== sums[b]) out.push(b);
    return out;
  }
}
