// What the scan reads per data file, before interpretation: the syscall results of one
// open + fstat + fgetxattr of the names skipXattr keeps + pread(tail). Produced by the native
// batched walker or by the JS fallback; turned into an ArchiveRecord by record-builder.ts.

/** xattrs the scan reads, in this order. */
export const SCAN_XATTRS = [
  'user.XrdFrm.Pfn',
  'user.U.xrdec.strpver',
  'user.U.xrdec.filesize',
  'user.xrdec.strpver',
  'user.xrdec.filesize',
] as const;

/**
 * The user. pair is read only when the user.U. pair (what xrootd writes) is absent: a production
 * archive then costs three fgetxattr, not five (nor flistxattr, which cost two on tmpfs). A file
 * holding both pairs is read as holding the user.U. one, the pair its record uses anyway; that
 * the other disagrees goes unseen. Mirrors SkipName in native/src/scan-dir.cc.
 */
export function skipXattr(i: number, before: readonly (Buffer | undefined | 'oversized')[]): boolean {
  return i >= 3 && !(before[1] === undefined && before[2] === undefined);
}

/** Largest xattr value read; a longer one (a 64 KiB Pfn) is reported as oversized, not read. */
export const MAX_XATTR_VALUE = 8192;
/** Bytes read from the end of each archive: EOCD + central directory of most archives. */
export const SCAN_TAIL_BYTES = 16 * 1024;

export type ScanStep = 'open' | 'fstat' | 'xattr' | 'read';

export interface RawDataFile {
  /** File name inside the bucket directory. */
  readonly name: string;
  /** Set when a step failed: the errno code (ENOENT when it vanished mid-scan). */
  readonly error?: { readonly code: string; readonly step: ScanStep };
  readonly isFile: boolean;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Per SCAN_XATTRS: value, undefined when absent, 'oversized' when longer than MAX_XATTR_VALUE. */
  readonly xattrs: readonly (Buffer | undefined | 'oversized')[];
  /** Last min(size, SCAN_TAIL_BYTES) bytes. */
  readonly tail: Buffer;
}

/**
 * Where a bucket's records belong and how Pfns are judged there: what a reader that builds
 * records itself (the native walker's records mode, native-records.ts) needs to know.
 */
export interface RecordStamp {
  readonly serverId: string;
  readonly diskId: string;
  readonly space: string;
  /** `<space>/<XX>` relative to the disk. */
  readonly bucketRel: string;
  readonly localroot?: string;
  readonly exports: readonly string[];
}
