// The scanner's fast path through an archive's tail: the EOCD and central directory of the
// usual XrdEc archive (no comment, no ZIP64, the whole directory inside the tail read, entries
// obj.<i>.<stripe> for blocks 0, 1, 2, ... in order) read straight from the bytes, with no
// entry objects. Anything else returns false and the caller runs the full parser
// (shared/xrdec/zip-directory.ts), so errors and unusual layouts keep its exact results.
// Every check below mirrors one of that parser's: when this accepts, it would have too, and its
// summary would say regular, nblocks = nentries = count.
import { CDFH_SIZE, EOCD_SIZE, SIG_CDFH, SIG_EOCD, U16_MAX, U32_MAX } from '../../shared/xrdec/zip-constants.js';

/** What the fast path found; valid after tailDirectory() returned true. */
export interface TailDirectory {
  /** Entries (= blocks: one stripe each, blocks 0..count-1). */
  count: number;
  /** Where the central directory starts in the tail (dir.tail = tail.subarray(cdStart)). */
  cdStart: number;
  /** The last entry with data (size 0: none): what the CRC kind is decided from. */
  lastSize: number;
  lastCrc: number;
  lastLfhOffset: number;
  lastNameLen: number;
}

const MAX_BLOCK = 0xffffffff;
const MAX_STRIPE = 254;

/** Fills `out` and returns true for the usual archive; false means "use the full parser". */
export function tailDirectory(size: number, tail: Buffer, out: TailDirectory): boolean {
  const len = tail.length;
  if (size === 0 || len < EOCD_SIZE || len > size) return false;
  const e = len - EOCD_SIZE;
  // The full parser takes the last EOCD signature whose comment reaches the end: here, at e.
  if (u32(tail, e) !== SIG_EOCD || u16(tail, e + 20) !== 0) return false;
  if (u16(tail, e + 4) !== 0 || u16(tail, e + 6) !== 0) return false;
  const count = u16(tail, e + 10);
  if (u16(tail, e + 8) !== count || count === U16_MAX) return false;
  const cdSize = u32(tail, e + 12);
  const cdOffset = u32(tail, e + 16);
  if (cdSize === U32_MAX || cdOffset === U32_MAX) return false;
  const tailBase = size - len;
  if (cdOffset + cdSize !== tailBase + e || cdOffset < tailBase) return false;
  if (count > cdSize / CDFH_SIZE) return false;
  const cdStart = cdOffset - tailBase;
  const cdEnd = cdStart + cdSize;
  out.lastSize = 0;
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (p + CDFH_SIZE > cdEnd || u32(tail, p) !== SIG_CDFH) return false;
    if ((u16(tail, p + 8) & 1) !== 0 || u16(tail, p + 10) !== 0) return false; // encrypted, compressed
    const crc = u32(tail, p + 16);
    const csize = u32(tail, p + 20);
    const usize = u32(tail, p + 24);
    const nameLen = u16(tail, p + 28);
    const recLen = CDFH_SIZE + nameLen + u16(tail, p + 30) + u16(tail, p + 32);
    const lfhOffset = u32(tail, p + 42);
    if (p + recLen > cdEnd) return false;
    if (usize === U32_MAX || csize === U32_MAX || lfhOffset === U32_MAX || csize !== usize) return false;
    if (lfhOffset > cdOffset || usize > cdOffset - lfhOffset || 30 + nameLen > cdOffset - lfhOffset - usize) return false;
    // Block i in entry i: names are all different, each block has one stripe.
    if (entryBlock(tail, p + CDFH_SIZE, nameLen) !== i) return false;
    if (usize !== 0) {
      out.lastSize = usize;
      out.lastCrc = crc;
      out.lastLfhOffset = lfhOffset;
      out.lastNameLen = nameLen;
    }
    p += recLen;
  }
  if (p !== cdEnd) return false;
  out.count = count;
  out.cdStart = cdStart;
  return true;
}

// Plain byte reads: every offset above is inside the tail by the checks before it, and
// Buffer#readUInt*LE's argument validation was a tenth of this function's time.
function u16(b: Buffer, p: number): number {
  return (b[p] as number) | ((b[p + 1] as number) << 8);
}

function u32(b: Buffer, p: number): number {
  return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000;
}

/**
 * The block of an entry named exactly as entry-name.ts accepts (obj.<block>.<stripe>, decimal
 * without leading zeros, block ≤ 2^32-1, stripe ≤ 254); -1 for any other name.
 */
function entryBlock(b: Buffer, at: number, len: number): number {
  const end = at + len;
  // "obj."
  if (len < 7 || b[at] !== 0x6f || b[at + 1] !== 0x62 || b[at + 2] !== 0x6a || b[at + 3] !== 0x2e) return -1;
  let p = at + 4;
  const block = digits(b, p, end, 10);
  if (block < 0) return -1;
  p += digitCount;
  if (p >= end || b[p] !== 0x2e) return -1;
  p++;
  const stripe = digits(b, p, end, 3);
  if (stripe < 0 || p + digitCount !== end) return -1;
  return block > MAX_BLOCK || stripe > MAX_STRIPE ? -1 : block;
}

let digitCount = 0;

/** 1..max decimal digits at p, no leading zero (bar "0" itself); sets digitCount; -1 if none. */
function digits(b: Buffer, p: number, end: number, max: number): number {
  let v = 0;
  let n = 0;
  while (p + n < end && n <= max) {
    const d = (b[p + n] as number) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    n++;
  }
  if (n === 0 || n > max || (n > 1 && b[p] === 0x30)) return -1;
  digitCount = n;
  return v;
}
