// Builds the zip records of an archive exactly as XrdZip lays them out: local header + data per
// entry from offset 0, then the central directory, then (when needed) ZIP64 EOCD + locator, then
// the EOCD. Pure functions over entry metadata, so writers can stream data and tests can build
// sparse multi-GiB archives by writing headers alone.
import {
  CDFH_SIZE, EOCD_SIZE, EXTERNAL_ATTRS, LFH_SIZE, MADE_BY, SIG_CDFH, SIG_EOCD, SIG_LFH,
  SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR, U16_MAX, U32_MAX, VERSION_NEEDED, VERSION_NEEDED_ZIP64,
  ZIP64_EOCD_SIZE, ZIP64_EXTRA_ID, ZIP64_LOCATOR_SIZE,
} from './zip-constants.js';

export interface LayoutEntry {
  readonly name: string;
  readonly size: number;
  readonly crc: number;
  /** This entry's own DOS time (XrdZip stamps each entry when it writes it); default: the archive's. */
  readonly time?: DosTime;
}

export interface DosTime {
  readonly time: number;
  readonly date: number;
}

/** Local header (+ ZIP64 extra when the entry itself is ≥ 4 GiB). */
export function localHeader(e: LayoutEntry, t: DosTime): Buffer {
  const name = Buffer.from(e.name, 'latin1');
  const big = e.size >= U32_MAX;
  const extraLen = big ? 20 : 0;
  const b = Buffer.alloc(LFH_SIZE + name.length + extraLen);
  b.writeUInt32LE(SIG_LFH, 0);
  b.writeUInt16LE(big ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 4);
  b.writeUInt16LE(0, 6); // flags
  b.writeUInt16LE(0, 8); // stored
  b.writeUInt16LE((e.time ?? t).time, 10);
  b.writeUInt16LE((e.time ?? t).date, 12);
  b.writeUInt32LE(e.crc >>> 0, 14);
  b.writeUInt32LE(big ? U32_MAX : e.size, 18);
  b.writeUInt32LE(big ? U32_MAX : e.size, 22);
  b.writeUInt16LE(name.length, 26);
  b.writeUInt16LE(extraLen, 28);
  name.copy(b, LFH_SIZE);
  if (big) {
    const x = LFH_SIZE + name.length;
    b.writeUInt16LE(ZIP64_EXTRA_ID, x);
    b.writeUInt16LE(16, x + 2);
    b.writeBigUInt64LE(BigInt(e.size), x + 4);
    b.writeBigUInt64LE(BigInt(e.size), x + 12);
  }
  return b;
}

export function localHeaderSize(e: LayoutEntry): number {
  return LFH_SIZE + Buffer.byteLength(e.name, 'latin1') + (e.size >= U32_MAX ? 20 : 0);
}

/** Central header; the ZIP64 extra holds (sizes if ≥ 4 GiB, then offset if ≥ 4 GiB), as XrdZip does. */
export function centralHeader(e: LayoutEntry, lfhOffset: number, t: DosTime): Buffer {
  const name = Buffer.from(e.name, 'latin1');
  const bigSize = e.size >= U32_MAX;
  const bigOff = lfhOffset >= U32_MAX;
  const dataLen = (bigSize ? 16 : 0) + (bigOff ? 8 : 0);
  const extraLen = dataLen > 0 ? dataLen + 4 : 0;
  const b = Buffer.alloc(CDFH_SIZE + name.length + extraLen);
  b.writeUInt32LE(SIG_CDFH, 0);
  b.writeUInt16LE(MADE_BY, 4);
  b.writeUInt16LE(extraLen > 0 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 6);
  b.writeUInt16LE(0, 8);
  b.writeUInt16LE(0, 10);
  b.writeUInt16LE((e.time ?? t).time, 12);
  b.writeUInt16LE((e.time ?? t).date, 14);
  b.writeUInt32LE(e.crc >>> 0, 16);
  b.writeUInt32LE(bigSize ? U32_MAX : e.size, 20);
  b.writeUInt32LE(bigSize ? U32_MAX : e.size, 24);
  b.writeUInt16LE(name.length, 28);
  b.writeUInt16LE(extraLen, 30);
  b.writeUInt16LE(0, 32); // comment
  b.writeUInt16LE(0, 34); // disk
  b.writeUInt16LE(0, 36); // internal attrs
  b.writeUInt32LE(EXTERNAL_ATTRS, 38);
  b.writeUInt32LE(bigOff ? U32_MAX : lfhOffset, 42);
  name.copy(b, CDFH_SIZE);
  if (extraLen > 0) {
    let x = CDFH_SIZE + name.length;
    b.writeUInt16LE(ZIP64_EXTRA_ID, x);
    b.writeUInt16LE(dataLen, x + 2);
    x += 4;
    if (bigSize) {
      b.writeBigUInt64LE(BigInt(e.size), x);
      b.writeBigUInt64LE(BigInt(e.size), x + 8);
      x += 16;
    }
    if (bigOff) b.writeBigUInt64LE(BigInt(lfhOffset), x);
  }
  return b;
}

/** ZIP64 EOCD + locator (when needed) and the EOCD, for a CD of `count` entries at cdOffset. */
export function endRecords(count: number, cdOffset: number, cdSize: number): Buffer {
  const zip64 = count >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  const parts: Buffer[] = [];
  if (zip64) {
    const z = Buffer.alloc(ZIP64_EOCD_SIZE + ZIP64_LOCATOR_SIZE);
    z.writeUInt32LE(SIG_ZIP64_EOCD, 0);
    z.writeBigUInt64LE(BigInt(ZIP64_EOCD_SIZE - 12), 4);
    z.writeUInt16LE(MADE_BY, 12);
    z.writeUInt16LE(VERSION_NEEDED_ZIP64, 14);
    z.writeUInt32LE(0, 16);
    z.writeUInt32LE(0, 20);
    z.writeBigUInt64LE(BigInt(count), 24);
    z.writeBigUInt64LE(BigInt(count), 32);
    z.writeBigUInt64LE(BigInt(cdSize), 40);
    z.writeBigUInt64LE(BigInt(cdOffset), 48);
    const l = ZIP64_EOCD_SIZE;
    z.writeUInt32LE(SIG_ZIP64_LOCATOR, l);
    z.writeUInt32LE(0, l + 4);
    z.writeBigUInt64LE(BigInt(cdOffset + cdSize), l + 8);
    z.writeUInt32LE(1, l + 16);
    parts.push(z);
  }
  const e = Buffer.alloc(EOCD_SIZE);
  const overflowCd = cdOffset >= U32_MAX || cdSize >= U32_MAX;
  e.writeUInt32LE(SIG_EOCD, 0);
  e.writeUInt16LE(0, 4);
  e.writeUInt16LE(0, 6);
  e.writeUInt16LE(Math.min(count, U16_MAX), 8);
  e.writeUInt16LE(Math.min(count, U16_MAX), 10);
  e.writeUInt32LE(overflowCd ? U32_MAX : cdSize, 12);
  e.writeUInt32LE(overflowCd ? U32_MAX : cdOffset, 16);
  e.writeUInt16LE(0, 20);
  parts.push(e);
  return Buffer.concat(parts);
}

export interface ArchiveLayout {
  /** Offset of each entry's local header. */
  readonly lfhOffsets: number[];
  /** Central directory + end records: everything after the last entry's data. */
  readonly tail: Buffer;
  readonly cdOffset: number;
  readonly totalSize: number;
}

/** Offsets and tail of an archive holding `entries` in this order. */
export function archiveLayout(entries: readonly LayoutEntry[], t: DosTime): ArchiveLayout {
  const lfhOffsets: number[] = [];
  let off = 0;
  for (const e of entries) {
    lfhOffsets.push(off);
    off += localHeaderSize(e) + e.size;
  }
  const cd = Buffer.concat(entries.map((e, i) => centralHeader(e, lfhOffsets[i] ?? 0, t)));
  const tail = Buffer.concat([cd, endRecords(entries.length, off, cd.length)]);
  return { lfhOffsets, tail, cdOffset: off, totalSize: off + tail.length };
}
