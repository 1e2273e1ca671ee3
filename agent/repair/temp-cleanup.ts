// Leftovers of interrupted repairs on a disk, removed at agent start: temp files of writes
// that never finished (scanner-invisible, but they hold space) and half-written ledger records.
// A resumable partial archive stays while young: a retry of its task may still resume it.
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { errnoCode } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { fsyncDir } from './durable-fs.js';
import { isPlacementOpen } from './archive-placer.js';
import { PARTIAL_SUFFIX, partialPath, TEMP_PREFIX } from './partial-archive.js';
import { checkTaskSlot, cleanupLedgerTemps } from './placement-ledger.js';

/**
 * Removes leftover temp files of this disk and space (only those): all but resumable partials
 * modified within `keepPartialsMs` (default 6 h), which a retry of their task may still resume.
 */
export function cleanupTempFiles(diskPath: string, space: string, keepPartialsMs = 6 * 3600_000, nowMs = Date.now()): string[] {
  const removed: string[] = [];
  const spaceDir = `${diskPath}/${space}`;
  let buckets: string[];
  try {
    buckets = readdirSync(spaceDir).filter((b) => /^[0-9A-F]{2}$/.test(b));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return removed;
    throw err;
  }
  for (const b of buckets) {
    const dir = `${spaceDir}/${b}`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    let any = false;
    for (const n of names) {
      if (!n.startsWith(TEMP_PREFIX)) continue;
      const path = `${dir}/${n}`;
      try {
        const st = lstatSync(path);
        if (!st.isFile()) continue;
        if (n.endsWith(PARTIAL_SUFFIX) && nowMs - st.mtimeMs < keepPartialsMs) continue;
        unlinkSync(path);
        removed.push(path);
        any = true;
      } catch (err) {
        // Gone meanwhile (a retry published it): nothing to clean; anything else stops the disk's
        // cleanup with the reason, as before.
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    if (any) fsyncDir(dir);
  }
  return removed.concat(cleanupLedgerTemps(diskPath));
}

const log = getLogger('repair');

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
      const p = partialPath(d.path, d.space, taskId, slot);
      try {
        if (!lstatSync(p).isFile()) continue; // not something we wrote: left alone
        unlinkSync(p); // a second hard link, if any, keeps its data
        removed.push(p);
      } catch (err) {
        // A disk that went away meanwhile is the disk check's business, not a reason to stop.
        if (errnoCode(err) !== 'ENOENT') log.warn(`cannot remove the partial archive ${p}: ${String(err)}`);
      }
    }
  }
  return removed;
}
