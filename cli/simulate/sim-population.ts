// The synthetic site `ecguard simulate` drives a coordinator with (DESIGN.md §9): S servers of D
// disks, and the files alive now, a range [lo, hi) of file numbers. File f is one N+M object:
// archive i (stripe i of every block) on server (f + i) mod S, disk (f + i) mod D. Everything is
// computed from f, so a million files cost no memory, every server agrees with the others, and
// creating or deleting files is moving the range's ends.
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { RemoveDelta, UpsertDelta } from '../../shared/domain/delta.js';
import { UsageError } from '../../shared/errors.js';
import { blockBytes, blockCount, type EcProfile } from '../../shared/xrdec/profile.js';

/** A change before its agent numbers it. */
export type SimChange = Omit<UpsertDelta, 'seq'> | Omit<RemoveDelta, 'seq'>;

export interface SimShape {
  readonly servers: number;
  readonly disksPerServer: number;
  readonly profile: EcProfile;
}

const STRPVER = 1_700_000_000;
const SPACE = 'public';

export const simServerId = (s: number): string => `sim-${String(s).padStart(3, '0')}`;
export const simDiskPath = (d: number): string => `/sim/disk${d}`;
export const simDiskId = (s: number, d: number): string => `${simServerId(s)}:${simDiskPath(d)}`;

export class SimPopulation {
  /** Files alive: lo ≤ f < hi. */
  lo = 0;
  hi = 0;

  constructor(readonly shape: SimShape) {
    const k = shape.profile.nbData + shape.profile.nbParity;
    if (!Number.isInteger(shape.servers) || shape.servers < k) throw new UsageError(`--servers ${shape.servers}: a ${shape.profile.nbData}+${shape.profile.nbParity} file needs ${k} servers at least (one archive per server)`);
    if (!Number.isInteger(shape.disksPerServer) || shape.disksPerServer < 1 || shape.disksPerServer > 64) throw new UsageError(`--disks ${shape.disksPerServer}: give 1 to 64 disks per server`);
  }

  get width(): number {
    return this.shape.profile.nbData + this.shape.profile.nbParity;
  }

  get files(): number {
    return this.hi - this.lo;
  }

  /** The archive index server s holds of file f, or -1. */
  archiveOn(f: number, s: number): number {
    const i = (((s - f) % this.shape.servers) + this.shape.servers) % this.shape.servers;
    return i < this.width ? i : -1;
  }

  diskOf(f: number, i: number): number {
    return (f + i) % this.shape.disksPerServer;
  }

  lfn(f: number): string {
    return `/sim/run${f % 1000}/file${f}.root`;
  }

  /** Archive i of file f as its agent reports it. */
  record(f: number, i: number): ArchiveRecord {
    const p = this.shape.profile;
    const s = (f + i) % this.shape.servers;
    // 0 to 3 blocks, the last one partial: sizes from the empty object to several blocks
    const filesize = f % 7 === 0 ? 0 : Math.max(1, (f % 3) * blockBytes(p) + ((f * 7919) % blockBytes(p)));
    const nblocks = blockCount(p, filesize);
    const name = `sim${f.toString(36)}x${i}%`;
    return {
      serverId: simServerId(s),
      diskId: simDiskId(s, this.diskOf(f, i)),
      space: SPACE,
      dataPath: `${SPACE}/${(f & 0xff).toString(16).padStart(2, '0').toUpperCase()}/${name}`,
      pfn: this.lfn(f),
      lfn: this.lfn(f),
      size: nblocks === 0 ? 0 : nblocks * (p.chunkSize + 83) + 22,
      mtimeMs: 1_750_000_000_000 + f,
      inode: f * 64 + i,
      strpver: STRPVER,
      filesize,
      xattrNamespace: 'user.U.',
      nblocks,
      nentries: nblocks,
      crcKind: 'crc32c',
      regular: true,
      parseStatus: nblocks === 0 ? 'empty' : 'ok',
      cdDigest: (f * 64 + i).toString(16).padStart(16, '0'),
    };
  }

  /** Server s's archives of files from..to-1 (default: the live range), in file order. */
  *recordsOf(s: number, from = this.lo, to = this.hi): Generator<ArchiveRecord> {
    const S = this.shape.servers;
    // the first f ≥ from whose archive 0 is on s, then every file whose archive i is on s
    for (let i = 0; i < this.width; i++) {
      // f ≡ s - i (mod S)
      const r = (((s - i) % S) + S) % S;
      let f = from + ((((r - from) % S) + S) % S);
      for (; f < to; f += S) yield this.record(f, i);
    }
  }

  /** How many of the live files hold an archive on server s (every one when S = N+M). */
  filesOn(s: number): number {
    let n = 0;
    for (let i = 0; i < this.width; i++) {
      const r = (((s - i) % this.shape.servers) + this.shape.servers) % this.shape.servers;
      const first = this.lo + ((((r - this.lo) % this.shape.servers) + this.shape.servers) % this.shape.servers);
      if (first < this.hi) n += Math.floor((this.hi - 1 - first) / this.shape.servers) + 1;
    }
    return n;
  }

  /** Live files with an archive on disk d of server s. */
  filesOnDisk(s: number, d: number): number {
    let n = 0;
    for (const r of this.recordsOf(s)) if (r.diskId === simDiskId(s, d)) n++;
    return n;
  }

  /**
   * Creates `count` files at the top and deletes `count` at the bottom of the range; returns each
   * server's deltas (without sequence numbers: the server's agent numbers them).
   */
  churn(count: number, at: number): Map<number, SimChange[]> {
    const out = new Map<number, SimChange[]>();
    const push = (s: number, d: SimChange): void => {
      const list = out.get(s);
      if (list) list.push(d);
      else out.set(s, [d]);
    };
    const del = Math.min(count, this.files);
    for (let f = this.lo; f < this.lo + del; f++) {
      for (let i = 0; i < this.width; i++) {
        const r = this.record(f, i);
        push((f + i) % this.shape.servers, { at, kind: 'remove', diskId: r.diskId, dataPath: r.dataPath, cause: 'unlink' });
      }
    }
    for (let f = this.hi; f < this.hi + count; f++) {
      for (let i = 0; i < this.width; i++) push((f + i) % this.shape.servers, { at, kind: 'upsert', record: this.record(f, i) });
    }
    this.lo += del;
    this.hi += count;
    return out;
  }
}
