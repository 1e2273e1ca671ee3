// Idempotence of placements: at most one rebuilt archive per (task, slot) on a disk.
//
// Scheme: the written data file carries `user.ecguard.repair` = `<task>:<slot>` (the proof,
// which travels with the file), and `<disk>/.ecguard-repair/<task>.<slot>` holds its path
// relative to the disk (the index, so a retry finds it with one read instead of scanning every
// bucket). The ledger record is written and fsync'ed BEFORE the rename that makes the data file
// visible, so a final file always has its record; a record whose file is missing or does not
// carry the matching xattr (a crash before the rename, a file removed since) counts as nothing.
//
// The ledger directory is reached by descriptor (disk-dir.ts): its name sits in the disk's top
// directory, which the xrootd account may own, so it could be swapped for a symlink.
import { closeSync, constants, fstatSync, openSync, fsyncSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { getAttributeSync } from 'fs-xattr';
import { EcguardError, errnoCode, UsageError } from '../../shared/errors.js';
import { DISK_NOT_DIRECTORY, DiskDir, fdPath, requireOwnPrivate } from './disk-dir.js';
import { writeFully } from './durable-fs.js';

export const REPAIR_XATTR = 'user.ecguard.repair';
export const LEDGER_DIR = '.ecguard-repair';

const TASK_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Task ids end up in file names: only a safe alphabet is accepted. */
export function checkTaskSlot(taskId: string, slot: number): void {
  if (!TASK_RE.test(taskId)) throw new UsageError(`task id ${JSON.stringify(taskId)} must be 1-128 characters of A-Z a-z 0-9 _ - (not starting with _ or -)`);
  if (!Number.isSafeInteger(slot) || slot < 0 || slot > 0xffff) throw new UsageError(`slot must be an integer 0..65535, got ${slot}`);
}

export function repairMarker(taskId: string, slot: number): string {
  return `${taskId}:${slot}`;
}

const recordName = (taskId: string, slot: number): string => `${taskId}.${slot}`;

// The ledger directory, open; undefined when it does not exist (nothing was ever placed).
function openLedger(diskPath: string, create: boolean): DiskDir | undefined {
  try {
    // Stays root's (0700, never chowned): nobody else may plant names in it, and one that is not
    // ours (renamed in by the owner of the disk root) is refused.
    return requireOwnPrivate(DiskDir.open(diskPath, [LEDGER_DIR], create ? { existing: 0, mode: 0o700, ownLikeParent: false, durable: true } : {}), 'LEDGER_UNSAFE');
  } catch (err) {
    if (!create && errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function withLedger<T>(diskPath: string, create: boolean, none: T, fn: (dir: DiskDir) => T): T {
  const dir = openLedger(diskPath, create);
  if (!dir) return none;
  try {
    return fn(dir);
  } catch (err) {
    throw dir.relabel(err);
  } finally {
    dir.close();
  }
}

/** Records (durably) that (task, slot) is about to be published at `relPath` on this disk. */
export function writeLedgerRecord(diskPath: string, taskId: string, slot: number, relPath: string): void {
  withLedger(diskPath, true, undefined, (dir) => {
    const tmp = dir.at(`.${taskId}.${slot}.tmp`);
    rmSync(tmp, { force: true }); // a leftover (or planted) name: unlink never follows it
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeFully(fd, Buffer.from(relPath + '\n'), 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dir.at(recordName(taskId, slot)));
    dir.fsync();
  });
}

export interface PlacedRecord {
  /** Absolute path of the data file. */
  readonly path: string;
  /** Its Pfn (the namespace link path), from user.XrdFrm.Pfn. */
  readonly pfn?: string;
}

/**
 * The archive already placed for (task, slot) on this disk, if its record and proof agree. The
 * data file is reached by descriptor too: a symlink on its way (or in its place) is not ours.
 */
export function findPlaced(diskPath: string, taskId: string, slot: number): PlacedRecord | undefined {
  checkTaskSlot(taskId, slot);
  const rel = withLedger(diskPath, false, undefined, (dir) => {
    let fd: number;
    try {
      fd = openSync(dir.at(recordName(taskId, slot)), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return readFileSync(fd, 'utf8').trim();
    } finally {
      closeSync(fd);
    }
  });
  if (rel === undefined) return undefined;
  const parts = rel.split('/');
  if (rel === '' || parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  let dir: DiskDir;
  try {
    dir = DiskDir.open(diskPath, parts.slice(0, -1));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || (err instanceof EcguardError && err.code === DISK_NOT_DIRECTORY)) return undefined;
    throw err;
  }
  let fd: number;
  try {
    fd = openSync(dir.at(parts[parts.length - 1] as string), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw dir.relabel(err);
  } finally {
    dir.close();
  }
  const path = `${diskPath}/${rel}`;
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const at = fdPath(fd, path);
    try {
      if (getAttributeSync(at, REPAIR_XATTR).toString('latin1') !== repairMarker(taskId, slot)) return undefined;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENODATA' || code === 'ENOATTR') return undefined;
      throw err;
    }
    let pfn: string | undefined;
    try {
      const raw = getAttributeSync(at, 'user.XrdFrm.Pfn');
      pfn = raw.subarray(0, raw.length > 0 && raw[raw.length - 1] === 0 ? raw.length - 1 : raw.length).toString('utf8');
    } catch {
      /* no Pfn: reported by the scanner, not our concern here */
    }
    return { path, ...(pfn !== undefined ? { pfn } : {}) };
  } finally {
    closeSync(fd);
  }
}

/** Drops the record once the coordinator has confirmed the task (the data file stays). */
export function forgetPlaced(diskPath: string, taskId: string, slot: number): void {
  checkTaskSlot(taskId, slot);
  withLedger(diskPath, false, undefined, (dir) => rmSync(dir.at(recordName(taskId, slot)), { force: true }));
}

/** The names in the ledger directory (none when it does not exist). */
export function ledgerNames(diskPath: string): string[] {
  return withLedger(diskPath, false, [], (dir) => dir.list());
}

/** Leftover ledger temp files of a crash; returns the removed paths. */
export function cleanupLedgerTemps(diskPath: string): string[] {
  return withLedger(diskPath, false, [], (dir) => {
    const removed: string[] = [];
    for (const name of dir.list()) {
      if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
      rmSync(dir.at(name), { force: true });
      removed.push(`${dir.path}/${name}`);
    }
    return removed;
  });
}
