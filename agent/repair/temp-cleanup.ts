// Leftovers of interrupted repairs on a disk, removed at agent start: temp files of writes
// that never finished (scanner-invisible, but they hold space) and half-written ledger records.
// A resumable partial archive stays while young: a retry of its task may still resume it.
// Every directory is reached by descriptor (disk-dir.ts): a space directory or bucket the xrootd
// account swapped for a symlink is not followed, so nothing outside the disk is ever removed.
import { lstatSync, unlinkSync } from 'node:fs';
import { EcguardError, errnoCode } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { isPlacementOpen } from './archive-placer.js';
import { DISK_NOT_DIRECTORY, DiskDir } from './disk-dir.js';
import { atPartial, PARTIAL_SUFFIX, partialPath, TEMP_PREFIX } from './partial-archive.js';
import { checkTaskSlot, cleanupLedgerTemps } from './placement-ledger.js';

const log = getLogger('repair');

/**
 * Removes leftover temp files of this disk and space (only those): all but resumable partials
 * modified within `keepPartialsMs` (default 6 h), which a retry of their task may still resume.
 */
export function cleanupTempFiles(diskPath: string, space: string, keepPartialsMs = 6 * 3600_000, nowMs = Date.now()): string[] {
  const removed: string[] = [];
  let spaceDir: DiskDir;
  try {
    spaceDir = DiskDir.open(diskPath, [space]);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return removed;
    throw err; // a symlinked space directory stops the disk's cleanup, with the reason
  }
  try {
    for (const b of spaceDir.list().filter((n) => /^[0-9A-F]{2}$/.test(n))) {
      let dir: DiskDir;
      try {
        dir = DiskDir.open(diskPath, [space, b]);
      } catch (err) {
        if (err instanceof EcguardError && err.code === DISK_NOT_DIRECTORY) log.warn(`${err.message}; its temp files are not cleaned`);
        continue;
      }
      try {
        removeTemps(dir, keepPartialsMs, nowMs, removed);
      } catch (err) {
        throw dir.relabel(err);
      } finally {
        dir.close();
      }
    }
  } finally {
    spaceDir.close();
  }
  return removed.concat(cleanupLedgerTemps(diskPath));
}

function removeTemps(dir: DiskDir, keepPartialsMs: number, nowMs: number, removed: string[]): void {
  let any = false;
  for (const n of dir.list()) {
    if (!n.startsWith(TEMP_PREFIX)) continue;
    try {
      const st = lstatSync(dir.at(n));
      if (!st.isFile()) continue;
      if (n.endsWith(PARTIAL_SUFFIX) && nowMs - st.mtimeMs < keepPartialsMs) continue;
      unlinkSync(dir.at(n));
      removed.push(`${dir.path}/${n}`);
      any = true;
    } catch (err) {
      // Gone meanwhile (a retry published it): nothing to clean; anything else stops the disk's
      // cleanup with the reason, as before.
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  if (any) dir.fsync();
}

/** Drops the partial archives of these slots of a task given up (not one being written now). */
export function discardPartials(disks: readonly { readonly path: string; readonly space: string }[], taskId: string, slots: readonly number[]): string[] {
  const removed: string[] = [];
  for (const slot of slots.slice(0, 256)) {
    try {
      checkTaskSlot(taskId, slot);
    } catch {
      continue; // not a name we would have written
    }
    for (const d of disks) {
      if (isPlacementOpen(d.path, taskId, slot)) continue;
      try {
        atPartial(d.path, d.space, taskId, slot, undefined, (p) => {
          if (!lstatSync(p).isFile()) return; // not something we wrote: left alone
          unlinkSync(p); // a second hard link, if any, keeps its data
          removed.push(partialPath(d.path, d.space, taskId, slot));
        });
      } catch (err) {
        // A disk that went away meanwhile is the disk check's business, not a reason to stop.
        if (errnoCode(err) !== 'ENOENT') log.warn(`cannot remove the partial archive ${partialPath(d.path, d.space, taskId, slot)}: ${String(err)}`);
      }
    }
  }
  return removed;
}
