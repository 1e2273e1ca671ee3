// Writes a file as one XrdEc object: K archives (one per output path), block by block, with
// the stripe placement, CRC kind, xattrs and optional `.mt` files XrdEc would produce.
import { closeSync, fstatSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import type { CrcKind, ErasureCodec } from '../codec/codec.js';
import { crcOf } from '../codec/codec.js';
import { EcguardError } from '../errors.js';
import { ArchiveFileWriter } from './archive-writer.js';
import { entryName } from './entry-name.js';
import { buildMetadataFile } from './mt-file.js';
import { randomPlacement, validatePlacement, type Placement } from './placement.js';
import { blockCount, blockDataLength, codingLength, stripeCount, stripeSize, validateProfile, type EcProfile } from './profile.js';
import { writeEcXattrsSync, type XattrNamespace } from './xattrs.js';
import { dosTimestamp } from './zip-constants.js';

export interface EncodeOptions {
  readonly profile: EcProfile;
  readonly crcKind: CrcKind;
  readonly input: string;
  /** One archive path per placement index (K ≥ N+M). */
  readonly archivePaths: readonly string[];
  /** Explicit placement, or a generator for one (default: random like XrdEc). */
  readonly placement?: Placement | ((blocks: number) => Placement);
  readonly xattrNamespace: XattrNamespace;
  /** Also write `<archive>.mt` beside every archive. */
  readonly mtFile: boolean;
  /** Version stamp; XrdEc uses its close time in Unix seconds. */
  readonly strpver: number;
  readonly codec: ErasureCodec;
  readonly time?: Date;
  readonly onBlock?: (done: number, total: number) => void;
}

export interface EncodeResult {
  readonly filesize: number;
  readonly blocks: number;
  readonly strpver: number;
  readonly placement: Placement;
  readonly archives: readonly { path: string; size: number; entries: number }[];
}

export function encodeObject(o: EncodeOptions): EncodeResult {
  const p = validateProfile(o.profile);
  const n = p.nbData;
  const k = stripeCount(p);
  const inFd = openSync(o.input, 'r');
  const fds: number[] = [];
  // Files this call created: removed again if it fails, so a failed encode leaves nothing behind.
  const created: string[] = [];
  let done = false;
  try {
    const filesize = fstatSync(inFd).size;
    const blocks = blockCount(p, filesize);
    const placement = typeof o.placement === 'function' ? o.placement(blocks)
      : o.placement ? validatePlacement(o.placement, o.archivePaths.length, k, blocks)
        : randomPlacement(o.archivePaths.length, k, blocks);
    const t = dosTimestamp(o.time ?? new Date());
    for (const path of o.archivePaths) {
      try {
        fds.push(openSync(path, 'wx'));
        created.push(path);
      } catch (err) {
        throw new EcguardError('OUTPUT_EXISTS', `cannot create ${path}: ${(err as Error).message}. ecguard encode never overwrites; remove it or choose other --out-dirs`, { cause: err });
      }
    }
    const writers = fds.map((fd) => new ArchiveFileWriter(fd, t));
    const blockBuf = Buffer.alloc(n * p.chunkSize);
    for (let b = 0; b < blocks; b++) {
      const r = blockDataLength(p, filesize, b);
      readFully(inFd, blockBuf, r, b * n * p.chunkSize);
      const len = codingLength(p, filesize, b);
      // Data stripes zero-padded to the coding length; parity comes out at that length.
      const data: Buffer[] = [];
      for (let s = 0; s < n; s++) {
        const d = Buffer.alloc(len);
        blockBuf.copy(d, 0, s * p.chunkSize, s * p.chunkSize + stripeSize(p, filesize, b, s));
        data.push(d);
      }
      const parity = o.codec.encode(n, p.nbParity, data, len);
      const row = placement[b] ?? [];
      // Within a block, stripes go out in stripe order (matters only when one archive gets two).
      for (let s = 0; s < k; s++) {
        const bytes = s < n ? (data[s] as Buffer).subarray(0, stripeSize(p, filesize, b, s)) : (parity[s - n] as Buffer);
        const crc = bytes.length === 0 ? 0 : crcOf(o.codec, o.crcKind, bytes);
        (writers[row[s] as number] as ArchiveFileWriter).append(entryName(b, s), bytes, crc);
      }
      o.onBlock?.(b + 1, blocks);
    }
    const tails = writers.map((w) => w.finish());
    const archives = o.archivePaths.map((path, i) => ({ path, size: (writers[i] as ArchiveFileWriter).size + ((writers[i] as ArchiveFileWriter).size > 0 ? (tails[i] as Buffer).length : 0), entries: countEntries(placement, i) }));
    for (const fd of fds.splice(0)) closeSync(fd);
    for (const path of o.archivePaths) writeEcXattrsSync(path, { strpver: o.strpver, filesize }, o.xattrNamespace);
    if (o.mtFile) {
      const mt = buildMetadataFile(tails, o.crcKind, o.codec, t);
      for (const path of o.archivePaths) {
        writeFileSync(path + '.mt', mt, { flag: 'wx' });
        created.push(path + '.mt');
      }
    }
    done = true;
    return { filesize, blocks, strpver: o.strpver, placement, archives };
  } finally {
    for (const fd of fds) closeSync(fd);
    closeSync(inFd);
    if (!done) for (const path of created) rmSync(path, { force: true });
  }
}

function countEntries(placement: Placement, archive: number): number {
  let c = 0;
  for (const row of placement) for (const a of row) if (a === archive) c++;
  return c;
}

function readFully(fd: number, buf: Buffer, length: number, position: number): void {
  let got = 0;
  while (got < length) {
    const nr = readSync(fd, buf, got, length - got, position + got);
    if (nr === 0) throw new EcguardError('INPUT_CHANGED', `input ended at ${position + got} while reading; did it change during encoding?`);
    got += nr;
  }
}
