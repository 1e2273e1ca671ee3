// Rebuilds an object's bytes from any ≥ N of its archives, the way the XrdEc reader would: only
// archives of the newest strpver count, every entry is CRC-checked and a bad one is an erasure.
// Works block by block, so memory stays at one block whatever the file size.
import { closeSync, existsSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { CrcKind, ErasureCodec, IndexedChunk } from '../codec/codec.js';
import { EcguardError, errorText } from '../errors.js';
import { loadArchives, type LoadedArchive } from './archive-set.js';
import { crcMatches, matchCrc } from './archive-summary.js';
import { readEntrySync } from './archive-io.js';
import { blockCount, blockDataLength, codingLength, stripeCount, stripeSize, validateProfile, type EcProfile } from './profile.js';
import type { ZipEntry } from './zip-directory.js';

export interface DecodeOptions {
  readonly profile: EcProfile;
  readonly archivePaths: readonly string[];
  readonly output: string;
  /** Object size; default: the archives' xrdec.filesize. */
  readonly size?: number;
  readonly codec: ErasureCodec;
  /** Replace an existing output file (default: refuse). */
  readonly overwrite?: boolean;
  readonly onBlock?: (done: number, total: number) => void;
}

export interface DecodeReport {
  readonly filesize: number;
  readonly strpver?: number;
  readonly crcKind?: CrcKind;
  readonly blocks: number;
  /** Blocks that needed Reed-Solomon decoding (a data stripe was missing or corrupt). */
  readonly blocksRebuilt: number;
  readonly used: readonly string[];
  readonly ignored: readonly { path: string; reason: string }[];
  readonly badEntries: readonly { path: string; entry: string; reason: string }[];
}

export class DecodeError extends EcguardError {}

interface Candidate {
  readonly archive: LoadedArchive;
  readonly entry: ZipEntry;
}

export async function decodeObject(o: DecodeOptions): Promise<DecodeReport> {
  const p = validateProfile(o.profile);
  if (!o.overwrite && existsSync(o.output)) {
    throw new DecodeError('OUTPUT_EXISTS', `${o.output} already exists; choose another --out or remove it first`);
  }
  const set = await loadArchives(o.archivePaths, o.codec);
  try {
    if (o.size === undefined && set.filesizes.length > 1) {
      throw new DecodeError('FILESIZE_DISAGREES', `archives of strpver ${set.strpver} disagree on xrdec.filesize (${set.filesizes.join(', ')}); pass --size BYTES if you know the right one`);
    }
    const filesize = o.size ?? set.filesizes[0];
    if (filesize === undefined) {
      throw new DecodeError('NO_FILESIZE', 'the archives carry no xrdec.filesize; pass --size BYTES (the object size)');
    }
    if (set.used.length === 0) {
      throw new DecodeError('NO_ARCHIVES', `none of the ${o.archivePaths.length} archives is usable: ${set.ignored.map((i) => `${i.path}: ${i.reason}`).join('; ')}`);
    }
    const n = p.nbData;
    const blocks = blockCount(p, filesize);
    const badEntries: { path: string; entry: string; reason: string }[] = [];
    // Index candidates per block and stripe; entries that contradict the geometry are erasures.
    const index = new Map<number, Map<number, Candidate[]>>();
    for (const a of set.used) {
      for (const e of a.dir.entries) {
        const id = e.stripe;
        if (!id) continue;
        const expected = id.block < blocks && id.stripe < stripeCount(p) ? stripeSize(p, filesize, id.block, id.stripe) : -1;
        if (e.size !== expected) {
          badEntries.push({ path: a.path, entry: e.name, reason: expected < 0 ? 'outside the object for this profile and size' : `size ${e.size}, expected ${expected} for this profile and size` });
          continue;
        }
        const byStripe = index.get(id.block) ?? new Map<number, Candidate[]>();
        const list = byStripe.get(id.stripe) ?? [];
        list.push({ archive: a, entry: e });
        byStripe.set(id.stripe, list);
        index.set(id.block, byStripe);
      }
    }
    const kind = set.crcKind;
    const tmp = `${o.output}.ecguard-partial`;
    const out = openSync(tmp, 'wx');
    let blocksRebuilt = 0;
    let ok = false;
    try {
      for (let b = 0; b < blocks; b++) {
        const len = codingLength(p, filesize, b);
        const byStripe = index.get(b) ?? new Map<number, Candidate[]>();
        const valid = new Map<number, Buffer>();
        const fetch = (s: number): void => {
          for (const c of byStripe.get(s) ?? []) {
            let bytes: Buffer;
            try {
              bytes = readEntrySync(c.archive.fd, c.archive.dir, c.entry);
            } catch (err) {
              badEntries.push({ path: c.archive.path, entry: c.entry.name, reason: errorText(err) });
              continue;
            }
            if (!entryCrcOk(o.codec, kind, bytes, c.entry.crc)) {
              badEntries.push({ path: c.archive.path, entry: c.entry.name, reason: `CRC mismatch (${kind ?? 'neither crc32c nor crc32'})` });
              continue;
            }
            valid.set(s, bytes);
            return;
          }
        };
        for (let s = 0; s < n; s++) fetch(s);
        for (let s = n; s < stripeCount(p) && valid.size < n; s++) fetch(s);
        if (valid.size < n) {
          throw new DecodeError('TOO_FEW_STRIPES', `block ${b}: only ${valid.size} of the ${n} stripes needed are readable with a good CRC (have stripes ${[...valid.keys()].sort((x, y) => x - y).join(',') || 'none'}); give more archives of this object`);
        }
        const missing: number[] = [];
        for (let s = 0; s < n; s++) if (!valid.has(s)) missing.push(s);
        if (missing.length > 0) {
          blocksRebuilt++;
          const avail: IndexedChunk[] = [...valid.entries()].map(([index, data]) => ({ index, data: padTo(data, len) }));
          const rebuilt = o.codec.decode(n, p.nbParity, avail, missing, len);
          missing.forEach((s, i) => valid.set(s, rebuilt[i] as Buffer));
        }
        const parts: Buffer[] = [];
        for (let s = 0; s < n; s++) parts.push((valid.get(s) as Buffer).subarray(0, stripeSize(p, filesize, b, s)));
        const blockBytes = Buffer.concat(parts);
        if (blockBytes.length !== blockDataLength(p, filesize, b)) throw new DecodeError('INTERNAL', `block ${b} has ${blockBytes.length} bytes, expected ${blockDataLength(p, filesize, b)}`);
        let done = 0;
        while (done < blockBytes.length) done += writeSync(out, blockBytes, done, blockBytes.length - done, b * n * p.chunkSize + done);
        o.onBlock?.(b + 1, blocks);
      }
      ok = true;
    } finally {
      closeSync(out);
      if (!ok) unlinkSync(tmp);
    }
    renameSync(tmp, o.output);
    return {
      filesize,
      ...(set.strpver !== undefined ? { strpver: set.strpver } : {}),
      ...(kind !== undefined ? { crcKind: kind } : {}),
      blocks,
      blocksRebuilt,
      used: set.used.map((a) => a.path),
      ignored: set.ignored,
      badEntries,
    };
  } finally {
    set.close();
  }
}

function padTo(data: Buffer, len: number): Buffer {
  if (data.length === len) return data;
  const b = Buffer.alloc(len);
  data.copy(b);
  return b;
}

/** With the kind unknown (no entry decided it), an entry must match one of the two CRCs. */
function entryCrcOk(codec: ErasureCodec, kind: CrcKind | undefined, data: Buffer, stored: number): boolean {
  if (kind !== undefined) return crcMatches(codec, kind, data, stored);
  return matchCrc(codec, data, stored) !== 'neither';
}
