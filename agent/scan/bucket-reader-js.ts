// Reads one bucket directory with plain Node sync calls (fs + fs-xattr): the fallback when the
// native batched walker is not available, and its test oracle.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { getAttributeSync } from 'fs-xattr';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { errnoCode } from '../../shared/errors.js';
import { MAX_XATTR_VALUE, SCAN_TAIL_BYTES, SCAN_XATTRS, skipXattr, type RawDataFile, type ScanStep } from './raw-data-file.js';

export interface BucketListing {
  readonly files: RawDataFile[];
  /** Set when the directory itself could not be listed. */
  readonly error?: string;
  /**
   * Data files the reader already made records of (the native walker's records mode: the usual
   * clean archive); they are not in `files`.
   */
  readonly built?: ArchiveRecord[];
}

// ignoreBOM: keep a leading U+FEFF in the name, or we would open another file than listed.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
// O_NOATIME: a scan must not mark what it reads as accessed (see native/src/scan-dir.cc); only
// the owner and root may ask, anyone else gets EPERM and opens without it.
const NOATIME = constants.O_NOATIME ?? 0;
let noatime = NOATIME !== 0;

export function readBucketJs(bucketDir: string): BucketListing {
  let names: Buffer[];
  try {
    names = readdirSync(bucketDir, { encoding: 'buffer' });
  } catch (err) {
    return { files: [], error: errnoCode(err) ?? String(err) };
  }
  const files: RawDataFile[] = [];
  for (const raw of names) {
    let name: string;
    try {
      name = utf8.decode(raw);
    } catch {
      // Not a name xrootd writes; opening it by a lossy string would name another file.
      files.push(failed(raw.toString('latin1'), 'open', { code: 'EILSEQ' }));
      continue;
    }
    files.push(readOne(bucketDir, name));
  }
  return { files };
}

function failed(name: string, step: ScanStep, err: unknown): RawDataFile {
  return { name, error: { code: errnoCode(err) ?? 'EIO', step }, isFile: false, ino: 0, size: 0, mtimeMs: 0, xattrs: [], tail: Buffer.alloc(0) };
}

function openEntry(path: string): number {
  if (noatime) {
    try {
      return openSync(path, OPEN_FLAGS | NOATIME);
    } catch (err) {
      if (errnoCode(err) !== 'EPERM') throw err;
      noatime = false; // not the files' owner: never allowed, do not ask again
    }
  }
  return openSync(path, OPEN_FLAGS);
}

export function readOne(dir: string, name: string): RawDataFile {
  const path = `${dir}/${name}`;
  let fd: number;
  try {
    fd = openEntry(path);
  } catch (err) {
    // ELOOP: a symlink where a data file should be (O_NOFOLLOW): report, never follow.
    return failed(name, 'open', err);
  }
  try {
    let st;
    try {
      st = fstatSync(fd);
    } catch (err) {
      return failed(name, 'fstat', err);
    }
    const base = { name, isFile: st.isFile(), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    if (!st.isFile()) return { ...base, xattrs: [], tail: Buffer.alloc(0) };
    const xattrs: (Buffer | undefined | 'oversized')[] = [];
    for (const [i, x] of SCAN_XATTRS.entries()) {
      if (skipXattr(i, xattrs)) {
        xattrs.push(undefined);
        continue;
      }
      try {
        const v = getAttributeSync(path, x);
        xattrs.push(v.length > MAX_XATTR_VALUE ? 'oversized' : v);
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENODATA' || code === 'ENOATTR') xattrs.push(undefined);
        else if (code === 'ERANGE' || code === 'E2BIG') xattrs.push('oversized');
        else return { ...failed(name, 'xattr', err), isFile: true, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
      }
    }
    const tailLen = Math.min(st.size, SCAN_TAIL_BYTES);
    const tail = Buffer.allocUnsafe(tailLen);
    try {
      let got = 0;
      while (got < tailLen) {
        const n = readSync(fd, tail, got, tailLen - got, st.size - tailLen + got);
        if (n === 0) break;
        got += n;
      }
      // Shorter than fstat said: it is being rewritten or truncated right now.
      if (got < tailLen) return { ...failed(name, 'read', { code: 'ESHRANK' }), isFile: true, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, xattrs };
      return { ...base, xattrs, tail };
    } catch (err) {
      return { ...failed(name, 'read', err), isFile: true, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, xattrs };
    }
  } finally {
    closeSync(fd);
  }
}
