// What the agent does with its quarantines on its own: at start, finish or undo a move a crash
// interrupted (manifest `begun`), and purge what has been kept longer than the retention
// (DESIGN.md §8.1: quarantined first, kept `debris.retention`, then purged). Nothing outside
// `<disk>/.ecguard-quarantine/` is deleted here; a begun move is undone only by dropping our own
// extra hard link while the original name still holds the same inode.
import { lstatSync, rmdirSync, unlinkSync } from 'node:fs';
import { errnoCode, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { DiskDir } from '../repair/disk-dir.js';
import { MANIFEST_NAME, QUARANTINED_FILE, QUARANTINE_DIR, openOrderIn, openQuarantineRoot, readManifest, writeManifest, type QuarantineManifest } from './quarantine-manifest.js';
import { removeLinkIfOurs, type QuarantineContext } from './quarantine-move.js';

const log = getLogger('debris');

export interface QuarantineEntry {
  readonly diskId: string;
  readonly path: string;
  readonly manifest: QuarantineManifest;
}

export interface SweepOptions {
  readonly retentionMs: number;
  readonly purge: boolean;
  /**
   * Finish or undo begun moves. Only the agent may: a begun move may be one it is making right
   * now (review: a listing CLI "undid" a move in flight and the archive was lost).
   */
  readonly recover: boolean;
}

export interface SweepReport {
  readonly kept: QuarantineEntry[];
  readonly purged: QuarantineEntry[];
  /** Begun moves finished (the data file had left its bucket) or undone (it had not). */
  finished: number;
  undone: number;
  readonly problems: string[];
}

const statAt = (p: string): { ino: number; dev: number } | undefined => {
  try {
    const st = lstatSync(p);
    return { ino: st.ino, dev: st.dev };
  } catch {
    return undefined;
  }
};

/** The data file at its old name, looked up through its bucket held open (never a symlink swapped in). */
function originalAt(diskPath: string, dataPath: string): { ino: number; dev: number } | undefined {
  const parts = dataPath.split('/');
  if (parts.length !== 3 || parts.some((x) => x === '' || x === '.' || x === '..')) return undefined;
  let bucket: DiskDir | undefined;
  try {
    bucket = DiskDir.open(diskPath, [parts[0] as string, parts[1] as string]);
    return statAt(bucket.at(parts[2] as string));
  } catch {
    return undefined;
  } finally {
    bucket?.close();
  }
}

/**
 * Walks the quarantine of every online disk: recovers begun moves, purges done ones older than
 * `retentionMs` (none when `purge` is false), and lists the rest.
 */
export function sweepQuarantines(disks: readonly { diskId: string; path: string }[], ctx: QuarantineContext, o: SweepOptions): SweepReport {
  const r: SweepReport = { kept: [], purged: [], finished: 0, undone: 0, problems: [] };
  for (const d of disks) {
    let root: DiskDir | undefined;
    try {
      root = openQuarantineRoot(d.path);
      if (!root) continue;
      for (const id of root.list()) {
        try {
          sweepOne(d, root, id, ctx, o, r);
        } catch (err) {
          r.problems.push(`${d.path}/${QUARANTINE_DIR}/${id}: ${errorText(err)}`);
        }
      }
    } catch (err) {
      r.problems.push(`${d.path}/${QUARANTINE_DIR}: ${errorText(err)}`);
    } finally {
      root?.close();
    }
  }
  for (const p of r.problems) log.warn(`quarantine: ${p}`);
  return r;
}

function sweepOne(d: { diskId: string; path: string }, root: DiskDir, id: string, ctx: QuarantineContext, o: SweepOptions, r: SweepReport): void {
  const dir = openOrderIn(root, id, false);
  if (!dir) return; // gone meanwhile
  try {
    let m = readManifest(dir);
    if (!m) {
      r.problems.push(`${dir.path}: no manifest (left alone)`);
      return;
    }
    if (m.orderId !== id) {
      r.problems.push(`${dir.path}: its manifest names order ${JSON.stringify(m.orderId)} (left alone)`);
      return;
    }
    const entry = (): QuarantineEntry => ({ diskId: d.diskId, path: `${dir.path}/${QUARANTINED_FILE}`, manifest: m as QuarantineManifest });
    if (m.state === 'begun' && !o.recover) {
      r.kept.push(entry());
      return;
    }
    if (m.state === 'begun') {
      const original = `${d.path.replace(/\/+$/, '')}/${m.dataPath}`;
      const held = statAt(dir.at(QUARANTINED_FILE));
      const there = originalAt(d.path, m.dataPath);
      if (there !== undefined && held !== undefined && there.ino === m.inode && there.dev === held.dev) {
        // the old name still holds it: undo (drop our extra link and the manifest)
        if (held.ino === m.inode) unlinkSync(dir.at(QUARANTINED_FILE));
        unlinkSync(dir.at(MANIFEST_NAME));
        dir.fsync();
        rmdirSync(`${root.at(id)}`);
        root.fsync();
        r.undone++;
        log.info(`quarantine ${id}: a move a crash interrupted is undone; ${original} stays where it was`);
        return;
      }
      if (held === undefined || held.ino !== m.inode) {
        r.problems.push(`${dir.path}: begun, but the data file is neither at ${original} nor here (left alone)`);
        return;
      }
      const linkRemoved = m.link !== undefined && removeLinkIfOurs(m.link, ctx);
      m = { ...m, state: 'done', linkRemoved };
      writeManifest(dir, m);
      r.finished++;
      log.info(`quarantine ${id}: a move a crash interrupted is finished`);
    }
    if (o.purge && ctx.now() - m.at >= o.retentionMs) {
      for (const name of [QUARANTINED_FILE, MANIFEST_NAME]) {
        try {
          unlinkSync(dir.at(name));
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw dir.relabel(err);
        }
      }
      dir.fsync();
      rmdirSync(root.at(id));
      root.fsync();
      r.purged.push(entry());
      log.info(`quarantine ${id}: purged ${m.lfn} (${m.dataPath}, ${m.size} bytes), kept ${Math.round((ctx.now() - m.at) / 3600_000)} h`);
      return;
    }
    r.kept.push(entry());
  } finally {
    dir.close();
  }
}
