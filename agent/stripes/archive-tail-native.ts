// ReadDirectory's fast path: an archive's tail and EC xattrs from one native call (the scan
// walker's readFileTail: open the bucket without following a symlink, openat O_NOFOLLOW,
// fstat, fgetxattr of each of SCAN_XATTRS, pread of the last 64 KiB, close, in one trip to the
// libuv pool: every name, not the scan's user.U.-first subset, so it matches the slow path). The
// async fs path took about a dozen trips per archive; with a repair's n+m-1 directory reads
// arriving at once that was 12-16 ms per call on a busy holder.
// It answers only when its answer is exactly the slow path's: any error, a file that is not
// regular, an oversized attribute or a directory reaching past the window gives undefined,
// and readArchiveTail takes the slow path, which tells what went wrong.
import { decodeScanBuffer, loadScanAddon } from '../scan/bucket-reader-native.js';
import { MAX_XATTR_VALUE, SCAN_XATTRS } from '../scan/raw-data-file.js';

/** Bytes read from the end: EOCD and the directory of archives up to ~1,000 entries. */
export const TAIL_WINDOW = 64 * 1024;

export interface QuickTail {
  readonly fileSize: number;
  /** Where the tail starts in the file. */
  readonly offset: number;
  /** From `offset` to the end of the file: the central directory and end records. */
  readonly tail: Buffer;
  /** The EC attributes and Pfn that are set. */
  readonly xattrs: Record<string, Buffer>;
}

/**
 * `tailStart(fileSize, window, base)` runs the directory parser over `window` (the file's bytes
 * from `base` on) and returns where the directory starts, throwing TruncatedArchive when the
 * parser needs bytes before `base` (or another parse error).
 */
export async function readTailQuick(bucketDir: string, name: string, tailStart: (fileSize: number, window: Buffer, base: number) => number): Promise<QuickTail | undefined> {
  const { addon } = loadScanAddon();
  if (addon?.readFileTail === undefined) return undefined;
  let raw: Buffer;
  try {
    raw = await addon.readFileTail(bucketDir, TAIL_WINDOW, MAX_XATTR_VALUE, SCAN_XATTRS, name);
  } catch {
    return undefined;
  }
  const [f] = decodeScanBuffer(raw, SCAN_XATTRS.length);
  if (f === undefined || f.error !== undefined || !f.isFile || f.tail.length !== Math.min(f.size, TAIL_WINDOW)) return undefined;
  const xattrs: Record<string, Buffer> = {};
  for (const [i, x] of SCAN_XATTRS.entries()) {
    const v = f.xattrs[i];
    if (v === 'oversized') return undefined;
    // A copy: the values are views into the addon's result, which the tail shares.
    if (v !== undefined) xattrs[x] = Buffer.from(v);
  }
  const base = f.size - f.tail.length;
  let from: number;
  try {
    from = tailStart(f.size, f.tail, base);
  } catch {
    return undefined; // reaches before the window, or broken: the slow path says which
  }
  return { fileSize: f.size, offset: from, tail: f.tail.subarray(from - base), xattrs };
}
