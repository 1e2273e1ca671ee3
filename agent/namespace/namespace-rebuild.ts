// Recreates missing namespace symlinks (and their directories) from the data files' Pfns.
// Never overwrites anything: an existing entry at the link path is left alone and reported,
// and a link the kernel refuses (EEXIST: it appeared meanwhile) is reported too. Ambiguous
// cases (two data files claiming one LFN, hostile or missing Pfn) are skipped with the reason.
import { existsSync, lstatSync, lchownSync, mkdirSync, chownSync, statSync, symlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { errnoCode } from '../../shared/errors.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { rootOf } from './namespace-roots.js';
import { absDataPath } from './namespace-check.js';

export interface RebuildAction {
  readonly lfn: string;
  readonly linkPath: string;
  readonly target: string;
  /** Directories to create first, outermost first. */
  readonly createDirs: string[];
}

export interface RebuildSkip {
  readonly path: string;
  readonly lfn?: string;
  readonly reason: string;
}

export interface RebuildPlan {
  readonly actions: RebuildAction[];
  readonly skipped: RebuildSkip[];
}

export interface RebuildOutcome {
  readonly created: RebuildAction[];
  readonly skipped: RebuildSkip[];
  readonly failed: { action: RebuildAction; error: string }[];
}

/** `confirm` (coordinator mode) may veto an LFN; standalone --trust-pfn passes none. */
export function planRebuild(unlinked: readonly ArchiveRecord[], findings: readonly Finding[], disks: readonly DiskSpec[], nsRoots: readonly string[], confirm?: (r: ArchiveRecord) => string | undefined): RebuildPlan {
  const actions: RebuildAction[] = [];
  const skipped: RebuildSkip[] = [];
  const duplicated = new Set(findings.filter((f) => f.kind === 'duplicate-lfn' && f.lfn !== undefined).map((f) => f.lfn as string));
  for (const r of unlinked) {
    const target = absDataPath(r, disks);
    const skip = (reason: string): void => {
      skipped.push({ path: target, ...(r.lfn !== undefined ? { lfn: r.lfn } : {}), reason });
    };
    if (r.pfn === undefined || r.lfn === undefined) {
      skip('no usable Pfn (missing or hostile): the LFN is unknown');
      continue;
    }
    if (duplicated.has(r.lfn)) {
      skip(`another data file also claims ${r.lfn}: decide by hand which is live`);
      continue;
    }
    if (r.parseStatus !== 'ok' && r.parseStatus !== 'empty') {
      skip(`the archive is damaged (${r.parseStatus}): not made visible`);
      continue;
    }
    const root = rootOf(r.pfn, nsRoots);
    if (!root) {
      skip(`Pfn ${r.pfn} is outside the namespace roots ${nsRoots.join(', ')}`);
      continue;
    }
    if (!existsSync(root)) {
      // Never recreate the namespace root itself: missing, it may be an unmounted filesystem.
      skip(`the namespace root ${root} does not exist (not mounted?): create it first`);
      continue;
    }
    const veto = confirm?.(r);
    if (veto) {
      skip(veto);
      continue;
    }
    let exists = false;
    try {
      lstatSync(r.pfn);
      exists = true;
    } catch {
      /* free */
    }
    if (exists) {
      skip(`something already exists at ${r.pfn}: never overwritten`);
      continue;
    }
    const createDirs: string[] = [];
    let blocked: string | undefined;
    // Walk up to the first existing ancestor; every missing one is created, outermost first.
    for (let d = dirname(r.pfn); !nsRoots.includes(d) && d !== '/'; d = dirname(d)) {
      let st;
      try {
        st = lstatSync(d);
      } catch {
        createDirs.unshift(d);
        continue;
      }
      if (!st.isDirectory()) blocked = `${d} exists and is not a directory`;
      break;
    }
    if (blocked) {
      skip(blocked);
      continue;
    }
    actions.push({ lfn: r.lfn, linkPath: r.pfn, target, createDirs });
  }
  return { actions, skipped };
}

/** Creates directories and symlinks owned like their parent directory (xrootd must manage them). */
export function applyRebuild(plan: RebuildPlan): RebuildOutcome {
  const created: RebuildAction[] = [];
  const failed: { action: RebuildAction; error: string }[] = [];
  for (const a of plan.actions) {
    try {
      for (const d of a.createDirs) {
        try {
          mkdirSync(d, { mode: 0o755 });
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
          continue;
        }
        const p = statSync(dirname(d));
        chownSync(d, p.uid, p.gid);
      }
      symlinkSync(a.target, a.linkPath);
      const p = statSync(dirname(a.linkPath));
      lchownSync(a.linkPath, p.uid, p.gid);
      created.push(a);
    } catch (err) {
      failed.push({ action: a, error: errnoCode(err) === 'EEXIST' ? `${a.linkPath} appeared meanwhile: not overwritten` : String((err as Error).message) });
    }
  }
  return { created, skipped: [...plan.skipped], failed };
}
