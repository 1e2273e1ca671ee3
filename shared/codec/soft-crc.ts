// Table-driven (slice-by-8) reflected CRC-32s in plain JS: CRC-32C (Castagnoli) and zip CRC-32.
// Results are the standard finalised values; `prev` takes a previous result, so calls chain.
import { checkCrcArgs } from './codec-args.js';

export type CrcFn = (data: Uint8Array, prev?: number) => number;

/** Reflected polynomials. */
export const CRC32C_POLY = 0x82f63b78;
export const CRC32_POLY = 0xedb88320;

/** 8 tables of 256 entries: table t gives the CRC of a byte followed by t zero bytes. */
function sliceTables(poly: number): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let s = 1; s < 8; s++) {
      const prev = t[(s - 1) * 256 + b]!;
      t[s * 256 + b] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

export function makeCrc(poly: number, fn: string): CrcFn {
  const t = sliceTables(poly);
  return (data: Uint8Array, prev = 0): number => {
    checkCrcArgs(fn, data, prev);
    let crc = ~prev >>> 0;
    const n = data.length;
    // DataView little-endian word reads measured ~1.5x faster than assembling bytes.
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const lo = crc ^ view.getUint32(i, true);
      const hi = view.getUint32(i + 4, true);
      crc =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + (hi & 0xff)]! ^
        t[512 + ((hi >>> 8) & 0xff)]! ^
        t[256 + ((hi >>> 16) & 0xff)]! ^
        t[hi >>> 24]!;
    }
    for (; i < n; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
    return ~crc >>> 0;
  };
}

export const softCrc32c: CrcFn = makeCrc(CRC32C_POLY, 'crc32c');
export const softCrc32: CrcFn = makeCrc(CRC32_POLY, 'crc32');
