// The native walker's records mode (native/src/scan-usual.h): the walker interprets the usual
// clean data file in its own thread (Pfn, xrdec xattrs, zip tail, CRC kind, digest) and returns
// it as a compact record; here each becomes the ArchiveRecord record-builder.ts would build
// (same keys, same order), and everything else is decoded raw for the JS builder. The texts of
// a bucket's compact records are one latin1 string, sliced per field.
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { errnoCode } from '../../shared/errors.js';
import type { BucketListing } from './bucket-reader-js.js';
import { decodeRawRecord, scanViews, type RecordsMode, type ScanDirAddon } from './bucket-reader-native.js';
import { MAX_XATTR_VALUE, SCAN_TAIL_BYTES, SCAN_XATTRS, type RawDataFile, type RecordStamp } from './raw-data-file.js';

// Must match scan-dir.h and scan-usual.h.
const RECORDS_MAGIC = 0x32445345;
const HEADER = 16;
const USUAL = 64;
const F_USUAL = 16;
const DIGEST = 16;
const NAMESPACES = ['user.U.', 'user.'] as const;
const CRC_KINDS = [undefined, 'crc32c', 'crc32'] as const;
const NX = SCAN_XATTRS.length;

/** Decodes one records-mode result of the bucket `stamp` names. */
export function decodeRecordsBuffer(raw: Buffer, stamp: RecordStamp): BucketListing {
  const v = scanViews(raw, RECORDS_MAGIC);
  const { buf, f64 } = v;
  const count = v.i32[1] as number;
  const text = buf.toString('latin1', f64[1] as number);
  const { serverId, diskId, space } = stamp;
  const prefix = stamp.bucketRel + '/';
  const built: ArchiveRecord[] = [];
  const files: RawDataFile[] = [];
  const cur = { at: HEADER };
  let t = 0;
  for (let r = 0; r < count; r++) {
    const o = cur.at;
    if (((buf[o] as number) & F_USUAL) === 0) {
      files.push(decodeRawRecord(v, cur, NX));
      continue;
    }
    cur.at = o + USUAL;
    const shape = (buf[o + 1] as number) - 1;
    const nameLen = (buf[o + 2] as number) | ((buf[o + 3] as number) << 8);
    const pfnLen = (buf[o + 4] as number) | ((buf[o + 5] as number) << 8);
    const lfnStart = (buf[o + 6] as number) | ((buf[o + 7] as number) << 8);
    const dataPath = prefix + text.slice(t, (t += nameLen));
    const pfn = text.slice(t, (t += pfnLen));
    const lfn = lfnStart === 0 ? pfn : pfn.slice(lfnStart);
    const cdDigest = text.slice(t, (t += DIGEST));
    const f = o / 8; // records start 8-aligned; not >>> 3: buckets of big tails pass 2 GiB
    const inode = f64[f + 1] as number;
    const size = f64[f + 2] as number;
    // Node's Stats.mtimeMs formula, as the raw decoder.
    const mtimeMs = (f64[f + 3] as number) * 1e3 + (f64[f + 4] as number) / 1e6;
    const strpver = f64[f + 5] as number;
    const filesize = f64[f + 6] as number;
    const n = f64[f + 7] as number;
    const xattrNamespace = NAMESPACES[shape % 2] as (typeof NAMESPACES)[number];
    const crcKind = CRC_KINDS[shape >> 1];
    built.push(crcKind !== undefined
      ? { serverId, diskId, space, dataPath, pfn, lfn, size, mtimeMs, inode, strpver, filesize, xattrNamespace, nblocks: n, nentries: n, crcKind, regular: true, parseStatus: 'ok', cdDigest }
      : { serverId, diskId, space, dataPath, pfn, lfn, size, mtimeMs, inode, strpver, filesize, xattrNamespace, nblocks: n, nentries: n, regular: true, parseStatus: 'ok', cdDigest });
  }
  return { files, built };
}

/** A bucket that cannot be listed: its errno code, as the other readers report it. */
export function listingError(err: unknown): BucketListing {
  return { files: [], error: errnoCode(err) ?? String(err) };
}

/** Sync reader in records mode (a stamp carries the localroot and exports the walker needs). */
export function nativeRecordReader(addon: ScanDirAddon): (dir: string, stamp: RecordStamp) => BucketListing {
  return (dir, stamp) => {
    let raw: Buffer;
    try {
      raw = addon.scanDirSync(dir, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, stamp);
    } catch (err) {
      return listingError(err);
    }
    return decodeRecordsBuffer(raw, stamp);
  };
}

/**
 * Walks `dirs` in records mode on `threads` walker threads (one site: `mode` holds its
 * localroot and exports); decode each result with decodeRecordsBuffer, or listingError.
 */
export function walkBuckets(
  addon: ScanDirAddon, dirs: readonly string[], mode: RecordsMode, threads: number,
  onBucket: (index: number, raw: Buffer | null, error: Error | null) => void,
): Promise<void> {
  return addon.scanBuckets(dirs, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, mode, threads, onBucket);
}
