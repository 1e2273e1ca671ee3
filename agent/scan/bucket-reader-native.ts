// Reads one bucket directory with the addon's batched walker (native/src/scan-dir.cc): one
// N-API call per bucket returns one Buffer, decoded here into the same BucketListing the JS
// reader (bucket-reader-js.ts) returns. Xattr values and tails are views into that Buffer.
import { getSystemErrorName } from 'node:util';
import { loadNativeAddon } from '../../shared/codec/native-codec.js';
import { errnoCode, errorText } from '../../shared/errors.js';
import type { BucketListing } from './bucket-reader-js.js';
import { MAX_XATTR_VALUE, SCAN_TAIL_BYTES, SCAN_XATTRS, type RawDataFile, type ScanStep } from './raw-data-file.js';

/** The walker's exports (see native/src/scan-dir.h for the Buffer layout). */
export interface ScanDirAddon {
  scanDirSync(dirPath: string, tailBytes: number, maxXattr: number, xattrNames: readonly string[], records?: RecordsMode): Buffer;
  scanDir(dirPath: string, tailBytes: number, maxXattr: number, xattrNames: readonly string[], records?: RecordsMode): Promise<Buffer>;
  /**
   * Walks every directory of `dirs` on `threads` threads of the addon's own (native/src/
   * scan-buckets.cc); each finished one reaches onBucket (index into dirs, its scanDir Buffer or
   * the error scanDir would reject with), in completion order. onBucket returning false or
   * throwing stops the walk; the promise settles when every thread has ended.
   */
  /** One file of a directory as a scanDir result of one record; the directory is opened without following a symlink. Newer builds only. */
  readFileTail?(dirPath: string, tailBytes: number, maxXattr: number, xattrNames: readonly string[], name: string): Promise<Buffer>;
  scanBuckets(
    dirs: readonly string[], tailBytes: number, maxXattr: number, xattrNames: readonly string[], records: RecordsMode | undefined, threads: number,
    onBucket: (index: number, raw: Buffer | null, error: Error | null) => boolean | void,
  ): Promise<void>;
}

/** Records mode (native/src/scan-usual.h): usual data files come back as compact records. */
export interface RecordsMode {
  readonly localroot?: string;
  readonly exports: readonly string[];
}

// Must match scan-dir.h.
const MAGIC = 0x31445345;
const HEADER = 8;
const FIXED = 44;
const F_FILE = 1;
const F_ASCII = 2;
const F_BAD_NAME = 4;
const F_XATTRS = 8;
const STEPS: readonly (ScanStep | undefined)[] = [undefined, 'open', 'fstat', 'xattr', 'read'];
const ERR_SHRANK = -1;
const X_ABSENT = -1;

const EMPTY = Buffer.alloc(0);
const codes = new Map<number, string>([[ERR_SHRANK, 'ESHRANK']]);

function codeOf(errno: number): string {
  let c = codes.get(errno);
  if (c === undefined) {
    c = getSystemErrorName(-errno);
    codes.set(errno, c);
  }
  return c;
}

/** Aligned views over one scanDir result (f64/i32 fields are read through them). */
export interface ScanViews {
  readonly buf: Buffer;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

export function scanViews(raw: Buffer, magic: number): ScanViews {
  // The addon's Buffers start aligned; a copy aligns any other.
  const buf = raw.byteOffset % 8 === 0 ? raw : Buffer.from(new Uint8Array(raw).buffer);
  const i32 = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
  const f64 = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 3);
  if (buf.byteLength < HEADER || i32[0] !== magic) throw new Error('scanDir returned a buffer of an unknown layout: rebuild the addon with `npm run build:native`');
  return { buf, i32, f64 };
}

/** A read position in a scanDir result, advanced past each record decoded. */
export interface ScanCursor {
  at: number;
}

/** Decodes the raw record at `cur.at` and moves past it; `nx` = number of xattr names asked for. */
export function decodeRawRecord(v: ScanViews, cur: ScanCursor, nx: number): RawDataFile {
  const { buf, i32, f64 } = v;
  const o = cur.at;
  const flags = buf[o] as number;
  const step = buf[o + 1] as number;
  const nameLen = (buf[o + 2] as number) | ((buf[o + 3] as number) << 8);
  let p = o + FIXED + 4 * nx;
  const name = buf.toString(flags & (F_ASCII | F_BAD_NAME) ? 'latin1' : 'utf8', p, p + nameLen);
  p += nameLen;
  const ino = f64[(o + 8) >>> 3] as number;
  const size = f64[(o + 16) >>> 3] as number;
  // Node's Stats.mtimeMs formula, so both readers agree to the last bit.
  const mtimeMs = (f64[(o + 24) >>> 3] as number) * 1e3 + (f64[(o + 32) >>> 3] as number) / 1e6;
  const tailLen = i32[(o + 40) >>> 2] as number;
  let xattrs: (Buffer | undefined | 'oversized')[] = [];
  if (flags & F_XATTRS) {
    xattrs = new Array(nx);
    const x0 = (o + FIXED) >>> 2;
    for (let i = 0; i < nx; i++) {
      const len = i32[x0 + i] as number;
      if (len >= 0) {
        xattrs[i] = buf.subarray(p, p + len);
        p += len;
      } else {
        xattrs[i] = len === X_ABSENT ? undefined : 'oversized';
      }
    }
  }
  const tail = tailLen > 0 ? buf.subarray(p, p + tailLen) : EMPTY;
  p += tailLen;
  cur.at = p + ((8 - (p % 8)) % 8); // arithmetic, not bit ops: buckets of big tails pass 2 GiB
  const isFile = (flags & F_FILE) !== 0;
  const stepName = STEPS[step];
  return stepName === undefined
    ? { name, isFile, ino, size, mtimeMs, xattrs, tail }
    : { name, error: { code: codeOf(i32[(o + 4) >>> 2] as number), step: stepName }, isFile, ino, size, mtimeMs, xattrs, tail };
}

/** Decodes one scanDir result (raw mode); `nx` = number of xattr names it was asked for. */
export function decodeScanBuffer(raw: Buffer, nx: number): RawDataFile[] {
  const v = scanViews(raw, MAGIC);
  const count = v.i32[1] as number;
  const files: RawDataFile[] = new Array(count);
  const cur = { at: HEADER };
  for (let r = 0; r < count; r++) files[r] = decodeRawRecord(v, cur, nx);
  return files;
}

let loaded: { addon?: ScanDirAddon; problem?: string } | undefined;

/** The addon when it has the walker; else why not (missing build, missing libisal, old build). */
export function loadScanAddon(): { addon?: ScanDirAddon; problem?: string } {
  if (loaded) return loaded;
  try {
    const addon = loadNativeAddon() as unknown as Partial<ScanDirAddon>;
    loaded = typeof addon.scanDirSync === 'function' && typeof addon.scanDir === 'function' && typeof addon.scanBuckets === 'function'
      ? { addon: addon as ScanDirAddon }
      : { problem: 'the ecguard_native addon was built without scanDirSync / scanBuckets: rebuild it with `npm run build:native`' };
  } catch (err) {
    loaded = { problem: `the ecguard_native addon does not load: ${errorText(err).split('\n')[0]}` };
  }
  return loaded;
}

export function nativeBucketReader(addon: ScanDirAddon): (dir: string) => BucketListing {
  return (dir) => {
    let raw: Buffer;
    try {
      raw = addon.scanDirSync(dir, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS);
    } catch (err) {
      return { files: [], error: errnoCode(err) ?? String(err) };
    }
    return { files: decodeScanBuffer(raw, SCAN_XATTRS.length) };
  };
}
