// What the agent does with its quarantines on its own: at start, finish or undo a move a crash
// interrupted (manifest `begun`), and purge what has been kept longer than the retention
// (DESIGN.md §8.1: quarantined first, kept `debris.retention`, then purged). Nothing outside
// `<disk>/.ecguard-quarantine/` is deleted here; a begun move is undone only by dropping our own
// extra hard link while the original name still holds the same inode.
import { lstatSync, rmdirSync, unlinkSync } from 'node:fs';
import { errnoCode, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { DiskDir } from '../repair/disk-dir.js';
import { MANIFEST_NAME, QUARANTINED_FILE, QUARANTINE_DIR, openQuarantineRoot, readManifest, writeManifest, type QuarantineManifest } from './quarantine-manifest.js';
import { removeLinkIfOurs, type QuarantineContext } from './quarantine-move.js';

const log = getLogger('debris');

export interface QuarantineEntry {
  readonly diskId: string;
  readonly path: string;
  readonly manifest: QuarantineManifest;
}

export interface SweepReport {
  readonly kept: QuarantineEntry[];
  readonly purged: QuarantineEntry[];
  /** Begun moves finished (the data file had left its bucket) or undone (it had not). */
  finished: number;
  undone: number;
  readonly problems: string[];
}

const inodeAt = (p: string): number | undefined => {
  try {
    return lstatSync(p).ino;
  } catch {
    return undefined;
  }
};

/**
 * Walks the quarantine of every online disk: recovers begun moves, purges done ones older than
 * `retentionMs` (none when `purge` is false), and lists the rest.
 */
export function sweepQuarantines(disks: readonly { diskId: string; path: string }[], ctx: QuarantineContext, o: { retentionMs: number; purge: boolean }): SweepReport {
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

function sweepOne(d: { diskId: string; path: string }, root: DiskDir, id: string, ctx: QuarantineContext, o: { retentionMs: number; purge: boolean }, r: SweepReport): void {
  const dir = DiskDir.open(root.path, [id]);
  try {
    let m = readManifest(dir);
    if (!m) {
      r.problems.push(`${dir.path}: no manifest (left alone)`);
      return;
    }
    const entry = (): QuarantineEntry => ({ diskId: d.diskId, path: `${dir.path}/${QUARANTINED_FILE}`, manifest: m as QuarantineManifest });
    if (m.state === 'begun') {
      const original = `${d.path.replace(/\/+$/, '')}/${m.dataPath}`;
      const held = inodeAt(dir.at(QUARANTINED_FILE));
      if (inodeAt(original) === m.inode) {
        // the old name still holds it: undo (drop our extra link and the manifest)
        if (held === m.inode) unlinkSync(dir.at(QUARANTINED_FILE));
        unlinkSync(dir.at(MANIFEST_NAME));
        dir.fsync();
        rmdirSync(`${root.at(id)}`);
        root.fsync();
        r.undone++;
        log.info(`quarantine ${id}: a move a crash interrupted is undone; ${original} stays where it was`);
        return;
      }
      if (held !== m.inode) {
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
