// A rebuilt archive that was not finished (its task failed, its stream broke, an agent was
// killed) is kept under a fixed temp name per (task, slot), so a retry of the same task resumes
// at the first block it lacks instead of re-reading every source from the start. Only the
// local headers + data written so far are trusted, and only after re-reading them: every entry
// must parse, be named obj.<block>.<stripe>, fit in the file and match its CRC. Whatever
// follows the last good entry (a torn write) is cut off when the writer resumes.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { crcOf } from '../../shared/codec/codec.js';
import { EcguardError, errnoCode } from '../../shared/errors.js';
import { bucketOf } from '../../shared/xrdec/data-file-name.js';
import { parseEntryName } from '../../shared/xrdec/entry-name.js';
import type { DosTime, LayoutEntry } from '../../shared/xrdec/zip-layout.js';
import { LFH_SIZE, SIG_LFH, U32_MAX, ZIP64_EXTRA_ID } from '../../shared/xrdec/zip-constants.js';
import { DISK_NOT_DIRECTORY, DiskDir } from './disk-dir.js';

export const TEMP_PREFIX = '.ecguard-tmp-';
/** Suffix of a resumable partial archive: `.ecguard-tmp-<task>-<slot>.part`. */
export const PARTIAL_SUFFIX = '.part';
/** Entries larger than this are not trusted from a partial (XrdEc chunks are far smaller). */
const MAX_ENTRY = 1 << 30;
const MAX_NAME = 64;

export function partialName(taskId: string, slot: number): string {
  return `${TEMP_PREFIX}${taskId}-${slot}${PARTIAL_SUFFIX}`;
}

/** The bucket low byte of a (task, slot): fixed, so a retry finds its partial without a search. */
export function partialBucketByte(taskId: string, slot: number): number {
  return createHash('sha256').update(`${taskId}:${slot}`).digest()[0] as number;
}

/** Where the partial archive of (task, slot) lives on a disk. */
export function partialPath(diskPath: string, space: string, taskId: string, slot: number): string {
  return `${diskPath}/${space}/${bucketOf(partialBucketByte(taskId, slot))}/${partialName(taskId, slot)}`;
}

/**
 * Runs `fn` on the partial archive of (task, slot) reached by descriptor (disk-dir.ts), with its
 * bucket; `none` when the space directory or bucket is missing, or is a symlink (never ours).
 */
export function atPartial<T>(diskPath: string, space: string, taskId: string, slot: number, none: T, fn: (path: string, dir: DiskDir) => T): T {
  let dir: DiskDir;
  try {
    dir = DiskDir.open(diskPath, [space, bucketOf(partialBucketByte(taskId, slot))]);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || (err instanceof EcguardError && err.code === DISK_NOT_DIRECTORY)) return none;
    throw err;
  }
  try {
    return fn(dir.at(partialName(taskId, slot)), dir);
  } catch (err) {
    throw dir.relabel(err);
  } finally {
    dir.close();
  }
}

export interface PartialScan {
  readonly entries: LayoutEntry[];
  /** Local header offset of each entry. */
  readonly offsets: number[];
  /** Where the next entry goes (end of the last good one). */
  readonly end: number;
  /** The DOS time of the first entry (so the central directory matches the local headers). */
  readonly time?: DosTime;
}

const EMPTY: PartialScan = { entries: [], offsets: [], end: 0 };

/**
 * The good entries at the start of a partial archive, at most `limit` of them. A missing file
 * is an empty scan. `crcKind` undefined: only empty entries can be trusted (CRC 0).
 */
export function scanPartial(path: string, crcKind: CrcKind | undefined, codec: ErasureCodec, limit = Number.MAX_SAFE_INTEGER): PartialScan {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return EMPTY;
    if (errnoCode(err) === 'ELOOP') return EMPTY; // a symlink is never our partial
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) return EMPTY;
    const size = st.size;
    const entries: LayoutEntry[] = [];
    const offsets: number[] = [];
    let time: DosTime | undefined;
    let pos = 0;
    const head = Buffer.alloc(LFH_SIZE + MAX_NAME + 20);
    while (entries.length < limit && pos + LFH_SIZE <= size) {
      const got = readSync(fd, head, 0, Math.min(head.length, size - pos), pos);
      if (got < LFH_SIZE || head.readUInt32LE(0) !== SIG_LFH) break;
      const nameLen = head.readUInt16LE(26);
      const extraLen = head.readUInt16LE(28);
      if (nameLen === 0 || nameLen > MAX_NAME || (extraLen !== 0 && extraLen !== 20) || LFH_SIZE + nameLen + extraLen > got) break;
      const name = head.toString('latin1', LFH_SIZE, LFH_SIZE + nameLen);
      if (parseEntryName(name) === undefined) break;
      let dataSize = head.readUInt32LE(22);
      if (extraLen === 20) {
        const x = LFH_SIZE + nameLen;
        if (head.readUInt16LE(x) !== ZIP64_EXTRA_ID || dataSize !== U32_MAX) break;
        dataSize = Number(head.readBigUInt64LE(x + 12));
      }
      const crc = head.readUInt32LE(14);
      const dataAt = pos + LFH_SIZE + nameLen + extraLen;
      if (dataSize > MAX_ENTRY || dataAt + dataSize > size) break;
      if (dataSize > 0) {
        if (crcKind === undefined) break;
        const data = Buffer.allocUnsafe(dataSize);
        if (readSync(fd, data, 0, dataSize, dataAt) !== dataSize || crcOf(codec, crcKind, data) >>> 0 !== crc) break;
      } else if (crc !== 0) break;
      // Each kept entry keeps its own stamp, so the directory written later matches its header.
      const stamp = { time: head.readUInt16LE(10), date: head.readUInt16LE(12) };
      time ??= stamp;
      entries.push({ name, size: dataSize, crc, time: stamp });
      offsets.push(pos);
      pos = dataAt + dataSize;
    }
    return { entries, offsets, end: pos, ...(time ? { time } : {}) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens the partial archive for writing and cuts it to `keepBytes` (0: start over; created when
 * missing). Only a plain file with a single name is ever truncated: never a symlink (O_NOFOLLOW)
 * and never a file with a second hard link (say a published archive, if a crash came between
 * the link to the final name and the unlink of the temp name). Anything else is refused with
 * nothing changed.
 */
export function openPartialForWrite(path: string, keepBytes: number, shown = path): number {
  const flags = constants.O_RDWR | constants.O_NOFOLLOW | (keepBytes === 0 ? constants.O_CREAT : 0);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o644);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') throw new EcguardError('PARTIAL_UNSAFE', `${shown} is a symlink, not a partial archive of ours: left alone, nothing written`, { cause: err });
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) {
      throw new EcguardError('PARTIAL_UNSAFE', `${shown} is ${st.isFile() ? `a file with ${st.nlink} names (another name holds the same data)` : 'not a regular file'}: left alone, nothing written`);
    }
    ftruncateSync(fd, keepBytes);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
