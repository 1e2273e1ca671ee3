// Recreates missing namespace symlinks (and their directories) from the data files' Pfns.
// Never overwrites anything: an existing entry at the link path is left alone and reported,
// and a link the kernel refuses (EEXIST: it appeared meanwhile) is reported too. Ambiguous
// cases (two data files claiming one LFN, hostile or missing Pfn) are skipped with the reason.
import { existsSync, lstatSync } from 'node:fs';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { errnoCode } from '../../shared/errors.js';
import { METADATA_NOTE } from '../../shared/xrdec/mt-file.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { rootOf } from './namespace-roots.js';
import { absDataPath } from './namespace-check.js';
import { writeNamespaceLink } from './safe-namespace-write.js';

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
  /** The namespace roots planned against: apply walks from them, never from a path. */
  readonly nsRoots: readonly string[];
}

export interface RebuildOutcome {
  readonly created: RebuildAction[];
  readonly skipped: RebuildSkip[];
  readonly failed: { action: RebuildAction; error: string }[];
  /** Existing directories an interrupted run had left root's (empty): given their parent's owner. */
  readonly fixedOwners: string[];
}

/** Why a data file that is not a sound XrdEc archive gets no link, and what to do instead. */
/** One shell word: file names come from clients, and an operator may paste the command as root. */
const shellWord = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function notRebuilt(r: ArchiveRecord, target: string): string {
  const byHand = `if it is live, link it by hand: ln -s -- ${shellWord(target)} ${shellWord(r.pfn ?? '')} (then chown -h it like its directory)`;
  // .mt files carry no version of their own: no other server can confirm one by strpver
  if (r.parseStatus === 'not-ec' && (r.parseError ?? '').startsWith(METADATA_NOTE)) return `an XrdEc metadata (.mt) file: not rebuilt (no version to confirm it by); once its object is linked, ${byHand}`;
  if (r.parseStatus === 'not-zip') return `not an XrdEc archive (a plain file): no other server can confirm it; ${byHand}`;
  return `the archive is damaged (${r.parseStatus}${r.parseError ? `: ${r.parseError}` : ''}): not made visible`;
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
      skip(notRebuilt(r, target));
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
    // Down from the root, never through a symlink: one planted in the namespace would lead
    // outside it. Below the first missing directory every one is created, outermost first.
    const createDirs: string[] = [];
    let blocked: string | undefined;
    const parts = r.pfn.slice(root === '/' ? 1 : root.length + 1).split('/');
    let d = root === '/' ? '' : root; // a root of '/' (all.export / without a localroot)
    for (const c of parts.slice(0, -1)) {
      d = `${d}/${c}`;
      if (createDirs.length > 0) {
        createDirs.push(d);
        continue;
      }
      let st;
      try {
        st = lstatSync(d);
      } catch {
        createDirs.push(d);
        continue;
      }
      if (st.isSymbolicLink()) blocked = `${d} is a symlink, where a directory should be: nothing is created through it`;
      else if (!st.isDirectory()) blocked = `${d} exists and is not a directory`;
      if (blocked) break;
    }
    if (blocked) {
      skip(blocked);
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
    actions.push({ lfn: r.lfn, linkPath: r.pfn, target, createDirs });
  }
  return { actions, skipped, nsRoots };
}

/**
 * Creates directories and symlinks owned like their parent directory (xrootd must manage them),
 * walking from the namespace root by directory descriptors: a symlink swapped in since the plan
 * makes the action fail instead of leading outside the namespace or having root chown through it.
 */
export function applyRebuild(plan: RebuildPlan): RebuildOutcome {
  const created: RebuildAction[] = [];
  const failed: { action: RebuildAction; error: string }[] = [];
  const fixedOwners: string[] = [];
  for (const a of plan.actions) {
    try {
      const root = rootOf(a.linkPath, plan.nsRoots);
      if (root === undefined) throw new Error(`${a.linkPath} is outside the namespace roots ${plan.nsRoots.join(', ')}`);
      const r = writeNamespaceLink({ root, linkPath: a.linkPath, target: a.target });
      fixedOwners.push(...r.fixed);
      if (r.link === 'exists') failed.push({ action: a, error: `${a.linkPath} appeared meanwhile: not overwritten` });
      else created.push({ ...a, createDirs: r.created });
    } catch (err) {
      failed.push({ action: a, error: errnoCode(err) === 'EEXIST' ? `${a.linkPath} appeared meanwhile: not overwritten` : String((err as Error).message) });
    }
  }
  return { created, skipped: [...plan.skipped], failed, fixedOwners };
}
