// Leftovers of interrupted repairs on a disk, removed at agent start: temp files of writes
// that never finished (scanner-invisible, but they hold space) and half-written ledger records.
// A resumable partial archive stays while young: a retry of its task may still resume it.
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { errnoCode } from '../../shared/errors.js';
import { fsyncDir } from './durable-fs.js';
import { PARTIAL_SUFFIX, TEMP_PREFIX } from './partial-archive.js';
import { cleanupLedgerTemps } from './placement-ledger.js';

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
      const st = lstatSync(path);
      if (!st.isFile()) continue;
      if (n.endsWith(PARTIAL_SUFFIX) && nowMs - st.mtimeMs < keepPartialsMs) continue;
      unlinkSync(path);
      removed.push(path);
      any = true;
    }
    if (any) fsyncDir(dir);
  }
  return removed.concat(cleanupLedgerTemps(diskPath));
}
