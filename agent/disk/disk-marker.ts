// Reading a disk's `.ecguard-disk` marker safely. The disk directory belongs to the xrootd
// account, so the marker may be anything it made: a symlink (to a file elsewhere), a FIFO (a
// blocking read would freeze the agent's event loop: no heartbeats), /dev/zero (a read without
// end). It is opened without following links and without blocking, and read only when it is a
// small regular file.
import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../repair/durable-fs.js';
import { EcguardError, errnoCode } from '../../shared/errors.js';

export const MARKER_FILE = '.ecguard-disk';
/** A marker is a few lines of JSON: anything bigger is not ours. */
const MARKER_MAX_BYTES = 4096;

export interface DiskMarker {
  readonly uuid: string;
  readonly createdAt: string;
  readonly serverId: string;
  readonly path: string;
  /** `ecguard disk accept --clear-downgrade`: the downgrade (its time, as the agent stored it) an operator cleared. */
  readonly clearedDowngradeAt?: number;
  /** When the operator cleared it (for people). */
  readonly downgradeClearedAt?: string;
  /** `ecguard disk downgrade`: an operator asked for the disk to be downgraded (when, and why). */
  readonly operatorDowngrade?: { readonly at: number; readonly reason: string };
}

/** The operator's downgrade request in a marker, when well formed (a marker is the xrootd account's to write). */
export function operatorDowngradeOf(m: DiskMarker): { at: number; reason: string } | undefined {
  const o = m.operatorDowngrade as unknown;
  if (typeof o !== 'object' || o === null) return undefined;
  const { at, reason } = o as { at?: unknown; reason?: unknown };
  return typeof at === 'number' && Number.isFinite(at) && at > 0 && typeof reason === 'string' ? { at, reason: reason.slice(0, MAX_REASON) } : undefined;
}

/** An operator's reason is kept to this many characters. */
export const MAX_REASON = 500;

/**
 * Writes `marker` to DIR/.ecguard-disk (plus `extra` fields): a temp file, fsync, then rename, so
 * the marker is never half written and a link at its name is replaced, not followed.
 */
export function writeMarker(dir: string, marker: DiskMarker, extra: Record<string, unknown> = {}): void {
  const markerPath = join(dir, MARKER_FILE);
  const text = JSON.stringify({ ...marker, ...extra }, null, 2) + '\n';
  // the agent takes a bigger file for something else's (and the disk for failed)
  if (Buffer.byteLength(text) > MARKER_MAX_BYTES) throw new EcguardError('DISK_MARKER_TOO_LARGE', `the marker would be ${Buffer.byteLength(text)} bytes, over ${MARKER_MAX_BYTES}: nothing written (a shorter --reason)`);
  const tmp = join(dir, `${MARKER_FILE}.${randomUUID()}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, markerPath);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  fsyncDir(dir); // the rename survives a power cut
}

/** A lock older than this is left over from a command that died: taken over. */
const LOCK_STALE_MS = 60_000;

/**
 * Runs `fn` (a read, change and write of DIR's marker) holding DIR/.ecguard-disk.lock, so two
 * operator commands on one disk (accept and downgrade at once) cannot lose one's change.
 */
export function withMarkerLock<T>(dir: string, fn: () => T, now = Date.now()): T {
  const lock = join(dir, `${MARKER_FILE}.lock`);
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined && attempt < 5; attempt++) {
    try {
      fd = openSync(lock, 'wx', 0o644);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      let since: number | undefined;
      try {
        since = lstatSync(lock).mtimeMs;
      } catch {
        since = undefined; // released meanwhile: try again
      }
      if (since !== undefined && (now - since < LOCK_STALE_MS || attempt > 0)) {
        throw new EcguardError('DISK_MARKER_BUSY', `another ecguard disk command is changing ${join(dir, MARKER_FILE)} (lock ${lock}, since ${new Date(since).toISOString()}): nothing written; run it again, or remove the lock if no such command runs`);
      }
      if (since !== undefined) rmSync(lock, { force: true }); // stale: its command died
    }
  }
  if (fd === undefined) throw new EcguardError('DISK_MARKER_BUSY', `${lock} keeps appearing and going: another command is changing the marker; run this one again`);
  try {
    writeSync(fd, `${process.pid} ${new Date(now).toISOString()}\n`);
    closeSync(fd);
    fd = undefined;
    return fn();
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(lock, { force: true });
  }
}

export type MarkerRead =
  | { readonly kind: 'ok'; readonly marker: DiskMarker }
  | { readonly kind: 'absent' }
  /** EIO: the disk itself is failing. */
  | { readonly kind: 'io-error' }
  /** A symlink, FIFO, device, directory or an oversized file: the disk is failed until removed. */
  | { readonly kind: 'not-regular'; readonly what: string }
  | { readonly kind: 'invalid'; readonly problem: string };

export function readMarker(markerPath: string): MarkerRead {
  let fd: number;
  try {
    fd = openSync(markerPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { kind: 'absent' };
    if (code === 'EIO') return { kind: 'io-error' };
    // O_NOFOLLOW on a symlink fails with ELOOP.
    if (code === 'ELOOP') return { kind: 'not-regular', what: 'a symlink' };
    return { kind: 'invalid', problem: `${markerPath} is unreadable (${code ?? 'error'})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'not-regular', what: st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : 'a device' };
    if (st.size > MARKER_MAX_BYTES) return { kind: 'not-regular', what: `${st.size} bytes (a marker is under ${MARKER_MAX_BYTES})` };
    const buf = Buffer.alloc(MARKER_MAX_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, n)) > 0;) n += r;
    if (n > MARKER_MAX_BYTES) return { kind: 'not-regular', what: `over ${MARKER_MAX_BYTES} bytes` };
    let parsed: Partial<DiskMarker>;
    try {
      parsed = JSON.parse(buf.subarray(0, n).toString('utf8')) as Partial<DiskMarker>;
    } catch {
      return { kind: 'invalid', problem: `${markerPath} is not JSON` };
    }
    if (typeof parsed === 'object' && parsed !== null && typeof parsed.uuid === 'string' && /^[0-9a-f-]{36}$/.test(parsed.uuid)) return { kind: 'ok', marker: parsed as DiskMarker };
    return { kind: 'invalid', problem: `${markerPath} has no valid uuid` };
  } catch (err) {
    return errnoCode(err) === 'EIO' ? { kind: 'io-error' } : { kind: 'invalid', problem: `${markerPath} is unreadable (${errnoCode(err) ?? 'error'})` };
  } finally {
    closeSync(fd);
  }
}
