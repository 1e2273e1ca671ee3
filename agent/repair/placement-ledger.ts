// Idempotence of placements: at most one rebuilt archive per (task, slot) on a disk.
//
// Scheme: the written data file carries `user.ecguard.repair` = `<task>:<slot>` (the proof,
// which travels with the file), and `<disk>/.ecguard-repair/<task>.<slot>` holds its path
// relative to the disk (the index, so a retry finds it with one read instead of scanning every
// bucket). The ledger record is written and fsync'ed BEFORE the rename that makes the data file
// visible, so a final file always has its record; a record whose file is missing or does not
// carry the matching xattr (a crash before the rename, a file removed since) counts as nothing.
import { closeSync, constants, existsSync, lstatSync, openSync, fsyncSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { getAttributeSync } from 'fs-xattr';
import { errnoCode, UsageError } from '../../shared/errors.js';
import { fsyncDir, mkdirLikeParent, writeFully } from './durable-fs.js';

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

function recordPath(diskPath: string, taskId: string, slot: number): string {
  return `${diskPath}/${LEDGER_DIR}/${taskId}.${slot}`;
}

/** Records (durably) that (task, slot) is about to be published at `relPath` on this disk. */
export function writeLedgerRecord(diskPath: string, taskId: string, slot: number, relPath: string): void {
  const dir = `${diskPath}/${LEDGER_DIR}`;
  mkdirLikeParent(dir, 0o700, false); // stays root's: nobody else may plant names in it
  const final = recordPath(diskPath, taskId, slot);
  const tmp = `${dir}/.${taskId}.${slot}.tmp`;
  rmSync(tmp, { force: true }); // a leftover (or planted) name: unlink never follows it
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeFully(fd, Buffer.from(relPath + '\n'), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  fsyncDir(dir);
}

export interface PlacedRecord {
  /** Absolute path of the data file. */
  readonly path: string;
  /** Its Pfn (the namespace link path), from user.XrdFrm.Pfn. */
  readonly pfn?: string;
}

/** The archive already placed for (task, slot) on this disk, if its record and proof agree. */
export function findPlaced(diskPath: string, taskId: string, slot: number): PlacedRecord | undefined {
  checkTaskSlot(taskId, slot);
  let rel: string;
  try {
    rel = readFileSync(recordPath(diskPath, taskId, slot), 'utf8').trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (rel === '' || rel.includes('..') || rel.startsWith('/')) return undefined;
  const path = `${diskPath}/${rel}`;
  try {
    if (!lstatSync(path).isFile()) return undefined;
    if (getAttributeSync(path, REPAIR_XATTR).toString('latin1') !== repairMarker(taskId, slot)) return undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENODATA' || code === 'ENOATTR') return undefined;
    throw err;
  }
  let pfn: string | undefined;
  try {
    const raw = getAttributeSync(path, 'user.XrdFrm.Pfn');
    pfn = raw.subarray(0, raw.length > 0 && raw[raw.length - 1] === 0 ? raw.length - 1 : raw.length).toString('utf8');
  } catch {
    /* no Pfn: reported by the scanner, not our concern here */
  }
  return { path, ...(pfn !== undefined ? { pfn } : {}) };
}

/** Drops the record once the coordinator has confirmed the task (the data file stays). */
export function forgetPlaced(diskPath: string, taskId: string, slot: number): void {
  checkTaskSlot(taskId, slot);
  rmSync(recordPath(diskPath, taskId, slot), { force: true });
}

/** Leftover ledger temp files of a crash; returns the removed paths. */
export function cleanupLedgerTemps(diskPath: string): string[] {
  const dir = `${diskPath}/${LEDGER_DIR}`;
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
    rmSync(`${dir}/${name}`, { force: true });
    removed.push(`${dir}/${name}`);
  }
  return removed;
}
