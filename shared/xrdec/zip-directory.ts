// Parses a zip's end records and central directory from bounded reads near the end of the file,
// never reading entry data. Written as a generator that yields read requests so the same parser
// runs over sync reads (scanner worker threads) and async reads (CLI, repair).
// Every size field is checked against the real file size before it drives a read or allocation.
import { parseEntryName, type StripeId } from './entry-name.js';
import { BadCentralDirectory, BadEocd, NotAZip, NotXrdEcEntry, TruncatedArchive } from './errors.js';
import {
  CDFH_SIZE, EOCD_SIZE, MAX_COMMENT, SIG_CDFH, SIG_EOCD, SIG_LFH, SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR, U16_MAX, U32_MAX, ZIP64_EOCD_SIZE, ZIP64_EXTRA_ID, ZIP64_LOCATOR_SIZE,
} from './zip-constants.js';

export interface ReadRequest {
  readonly position: number;
  readonly length: number;
}

export type DirectoryParser<T> = Generator<ReadRequest, T, Buffer>;

export interface ZipEntry {
  readonly name: string;
  readonly size: number;
  readonly crc: number;
  readonly lfhOffset: number;
  /** Offset of this entry's central header record. */
  readonly recordOffset: number;
  /** Block and stripe for XrdEc entries; undefined when parsed with names: 'any'. */
  readonly stripe?: StripeId;
}

export interface ZipDirectory {
  readonly archiveSize: number;
  /** True for the 0-byte archive XrdEc writes for an empty object (no records at all). */
  readonly empty: boolean;
  readonly entries: readonly ZipEntry[];
  readonly cdOffset: number;
  readonly cdSize: number;
  readonly zip64: boolean;
  /** Bytes from the start of the central directory to the end of the file (CD + end records). */
  readonly tail: Buffer;
}

export interface DirectoryOptions {
  /** 'xrdec' requires every name to be obj.<block>.<stripe>; 'any' accepts any name (.mt files). */
  readonly names?: 'xrdec' | 'any';
  /** First tail read; one read suffices for most archives. */
  readonly initialTail?: number;
  /** Refuse central directories larger than this (bytes). */
  readonly maxCentralDirectory?: number;
}

const DEFAULT_INITIAL_TAIL = 16 * 1024;
const DEFAULT_MAX_CD = 256 * 1024 * 1024;

function u64(b: Buffer, off: number, what: string, at: number): number {
  const v = b.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BadEocd(`${what} is absurd (${v})`, at);
  return Number(v);
}

/** Finds the EOCD in `buf` (which ends at the end of the file): signature and a comment length that reaches exactly the end. */
function findEocd(buf: Buffer): number {
  for (let i = buf.length - EOCD_SIZE; i >= 0; i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + buf.readUInt16LE(i + 20) === buf.length) return i;
  }
  return -1;
}

export function* parseZipDirectory(archiveSize: number, opts: DirectoryOptions = {}): DirectoryParser<ZipDirectory> {
  if (archiveSize === 0) {
    return { archiveSize, empty: true, entries: [], cdOffset: 0, cdSize: 0, zip64: false, tail: Buffer.alloc(0) };
  }
  const maxCd = opts.maxCentralDirectory ?? DEFAULT_MAX_CD;
  let tailLen = Math.min(archiveSize, opts.initialTail ?? DEFAULT_INITIAL_TAIL);
  let tailStart = archiveSize - tailLen;
  let tail: Buffer = yield { position: tailStart, length: tailLen };
  let at = findEocd(tail);
  const fullSearch = Math.min(archiveSize, EOCD_SIZE + MAX_COMMENT + ZIP64_EOCD_SIZE + ZIP64_LOCATOR_SIZE);
  if (at < 0 && tailLen < fullSearch) {
    tailLen = fullSearch;
    tailStart = archiveSize - tailLen;
    tail = yield { position: tailStart, length: tailLen };
    at = findEocd(tail);
  }
  if (at < 0) {
    const head: Buffer = yield { position: 0, length: Math.min(4, archiveSize) };
    const lfhSig = Buffer.alloc(4);
    lfhSig.writeUInt32LE(SIG_LFH, 0);
    // A file that starts like a local header (even 1-3 bytes of one) is an archive cut short.
    if (head.equals(lfhSig.subarray(0, head.length))) {
      throw new TruncatedArchive('no end-of-central-directory record: the archive was cut short', archiveSize);
    }
    throw new NotAZip('no zip signature at the start and no end-of-central-directory record', 0);
  }
  const eocdOffset = tailStart + at;
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) {
    throw new BadEocd('multi-disk archives are not XrdEc archives', eocdOffset);
  }
  let count = tail.readUInt16LE(at + 10);
  if (tail.readUInt16LE(at + 8) !== count) throw new BadEocd('entry counts of this disk and in total differ', eocdOffset + 8);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  let cdEnd = eocdOffset;
  let zip64 = false;

  const wantsZip64 = count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX;
  const locAt = eocdOffset - ZIP64_LOCATOR_SIZE;
  if (wantsZip64 && locAt >= 0) {
    const loc: Buffer = yield { position: locAt, length: ZIP64_LOCATOR_SIZE };
    if (loc.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const z64At = u64(loc, 8, 'ZIP64 EOCD offset', locAt + 8);
      if (z64At + ZIP64_EOCD_SIZE > locAt) throw new BadEocd(`ZIP64 EOCD offset ${z64At} is not before its locator`, locAt + 8);
      const z: Buffer = yield { position: z64At, length: ZIP64_EOCD_SIZE };
      if (z.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw new BadEocd('ZIP64 locator does not point at a ZIP64 EOCD record', z64At);
      count = u64(z, 32, 'ZIP64 entry count', z64At + 32);
      cdSize = u64(z, 40, 'ZIP64 central directory size', z64At + 40);
      cdOffset = u64(z, 48, 'ZIP64 central directory offset', z64At + 48);
      cdEnd = z64At;
      zip64 = true;
    }
  }
  if (!zip64 && (cdSize === U32_MAX || cdOffset === U32_MAX)) {
    throw new BadEocd('EOCD announces ZIP64 values but there is no ZIP64 locator', eocdOffset);
  }
  if (cdOffset > cdEnd || cdSize > cdEnd - cdOffset) {
    throw new BadEocd(`central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at ${cdEnd}`, eocdOffset + 12);
  }
  if (cdOffset + cdSize !== cdEnd) {
    throw new BadEocd(`central directory ends at ${cdOffset + cdSize} but its end record is at ${cdEnd}`, eocdOffset + 12);
  }
  if (cdSize > maxCd) throw new BadEocd(`central directory of ${cdSize} bytes exceeds the ${maxCd}-byte limit`, eocdOffset + 12);
  if (count > cdSize / CDFH_SIZE) {
    throw new BadCentralDirectory(`${count} entries cannot fit in a ${cdSize}-byte central directory`, cdOffset);
  }

  let cdTail: Buffer;
  if (cdOffset >= tailStart) cdTail = tail.subarray(cdOffset - tailStart);
  else cdTail = yield { position: cdOffset, length: archiveSize - cdOffset };
  const entries = parseCentralRecords(cdTail.subarray(0, cdSize), cdOffset, count, opts.names ?? 'xrdec');
  return { archiveSize, empty: false, entries, cdOffset, cdSize, zip64, tail: cdTail };
}

function parseCentralRecords(cd: Buffer, cdOffset: number, count: number, names: 'xrdec' | 'any'): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    const at = cdOffset + p;
    if (p + CDFH_SIZE > cd.length) throw new BadCentralDirectory(`entry ${i} of ${count} is cut off`, at);
    if (cd.readUInt32LE(p) !== SIG_CDFH) throw new BadCentralDirectory(`no central header signature for entry ${i}`, at);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let csize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let lfhOffset = cd.readUInt32LE(p + 42);
    const recLen = CDFH_SIZE + nameLen + extraLen + commentLen;
    if (p + recLen > cd.length) throw new BadCentralDirectory(`entry ${i} runs past the central directory`, at);
    const name = cd.toString('latin1', p + CDFH_SIZE, p + CDFH_SIZE + nameLen);
    if (method !== 0) throw new BadCentralDirectory(`entry ${JSON.stringify(name)} is compressed (method ${method}); XrdEc stores entries`, at + 10);
    if (flags & 1) throw new BadCentralDirectory(`entry ${JSON.stringify(name)} is encrypted`, at + 8);
    if (usize === U32_MAX || csize === U32_MAX || lfhOffset === U32_MAX) {
      [usize, csize, lfhOffset] = zip64Values(cd, p + CDFH_SIZE + nameLen, extraLen, usize, csize, lfhOffset, at);
    }
    if (csize !== usize) throw new BadCentralDirectory(`entry ${JSON.stringify(name)}: stored sizes differ (${csize} vs ${usize})`, at + 20);
    if (lfhOffset > cdOffset || usize > cdOffset - lfhOffset || 30 + nameLen > cdOffset - lfhOffset - usize) {
      throw new BadCentralDirectory(`entry ${JSON.stringify(name)} (local header at ${lfhOffset}, ${usize} bytes) overlaps the central directory`, at + 42);
    }
    let stripe: StripeId | undefined;
    if (names === 'xrdec') {
      stripe = parseEntryName(name);
      if (!stripe) throw new NotXrdEcEntry(`entry name ${JSON.stringify(name)} is not obj.<block>.<stripe>`, at + CDFH_SIZE);
    }
    if (seen.has(name)) throw new BadCentralDirectory(`entry ${JSON.stringify(name)} appears twice`, at);
    seen.add(name);
    entries.push({ name, size: usize, crc, lfhOffset, recordOffset: at, ...(stripe ? { stripe } : {}) });
    p += recLen;
  }
  if (p !== cd.length) throw new BadCentralDirectory(`${cd.length - p} stray bytes after ${count} central headers`, cdOffset + p);
  return entries;
}

/** Reads the ZIP64 extended-information extra field: only overflowed fields are present, in order. */
function zip64Values(cd: Buffer, start: number, len: number, usize: number, csize: number, off: number, at: number): [number, number, number] {
  let p = start;
  const end = start + len;
  while (p + 4 <= end) {
    const id = cd.readUInt16LE(p);
    const size = cd.readUInt16LE(p + 2);
    if (p + 4 + size > end) break;
    if (id === ZIP64_EXTRA_ID) {
      let q = p + 4;
      const take = (what: string): number => {
        if (q + 8 > p + 4 + size) throw new BadCentralDirectory(`ZIP64 extra field too short for ${what}`, at);
        const v = cd.readBigUInt64LE(q);
        q += 8;
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BadCentralDirectory(`ZIP64 ${what} is absurd (${v})`, at);
        return Number(v);
      };
      const u = usize === U32_MAX ? take('uncompressed size') : usize;
      const c = csize === U32_MAX ? take('compressed size') : csize;
      const o = off === U32_MAX ? take('local header offset') : off;
      return [u, c, o];
    }
    p += 4 + size;
  }
  throw new BadCentralDirectory('central header has 0xFFFFFFFF fields but no ZIP64 extra field', at);
}
