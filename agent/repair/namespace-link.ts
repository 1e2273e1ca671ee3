// The namespace symlink of a placed archive, created last and never over anything: when
// something already sits at the link path the coordinator decides, not us.
import { lstatSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { EcguardError, errnoCode, errorText, UsageError } from '../../shared/errors.js';
import { NOT_A_DIRECTORY, writeNamespaceLink } from '../namespace/safe-namespace-write.js';
import { fsyncDir } from './durable-fs.js';

/** What occupies `linkPath`, in words; undefined when it is free. */
export function linkOccupant(linkPath: string): string | undefined {
  let st;
  try {
    st = lstatSync(linkPath);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    if (errnoCode(err) === 'ENOTDIR') return `a parent directory of ${linkPath} is not a directory`;
    return `${linkPath} cannot be examined (${errnoCode(err) ?? errorText(err)})`;
  }
  if (!st.isSymbolicLink()) return `${linkPath} exists and is not a symlink`;
  const target = readlinkSync(linkPath);
  let dangling = false;
  try {
    statSync(linkPath);
  } catch {
    dangling = true;
  }
  return `a symlink ${linkPath} -> ${target}${dangling ? ' (dangling)' : ''} already exists`;
}

/** Checks that `linkPath` is a clean absolute path strictly below the namespace root. */
export function checkLinkPath(linkPath: string, namespaceRoot: string): void {
  const root = namespaceRoot.replace(/\/+$/, '');
  const bad = !linkPath.startsWith(root + '/') || linkPath.includes('\0') || linkPath.endsWith('/') ||
    linkPath.slice(root.length + 1).split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new UsageError(`link path ${JSON.stringify(linkPath)} is not a clean path below the namespace root ${root}`);
}

export interface LinkOutcome {
  readonly linked: boolean;
  /** Why not, when not linked. */
  readonly problem?: string;
}

/**
 * Creates `linkPath` → `target`, with missing parent directories below the namespace root,
 * each owned like its parent. The namespace root itself is never created (missing, it may be
 * an unmounted filesystem). Nothing below the root is followed through a symlink
 * (agent/namespace/safe-namespace-write.ts): the namespace owner could plant one.
 */
export function createNamespaceLink(linkPath: string, target: string, namespaceRoot: string, replaceInto?: string): LinkOutcome {
  checkLinkPath(linkPath, namespaceRoot);
  const root = namespaceRoot.replace(/\/+$/, '');
  try {
    if (!statSync(root).isDirectory()) return { linked: false, problem: `namespace root ${root} is not a directory` };
  } catch {
    return { linked: false, problem: `namespace root ${root} does not exist (not mounted?)` };
  }
  let r;
  try {
    r = writeNamespaceLink({
      root, linkPath, target, durable: true,
      // Atomic swap: a new symlink under a temp name renamed over the old one.
      ...(replaceInto !== undefined ? { replaceInto, tempName: basename(linkTempName(linkPath, target)) } : {}),
    });
  } catch (err) {
    if (err instanceof EcguardError && err.code === NOT_A_DIRECTORY) return { linked: false, problem: err.message };
    throw err;
  }
  if (r.link === 'exists') return { linked: false, problem: `${linkOccupant(linkPath) ?? `${linkPath} appeared meanwhile`}: not overwritten` };
  return { linked: true };
}

/** The temp name of the swap link for `target` (fixed, so a crash leftover can be found again). */
export function linkTempName(linkPath: string, target: string): string {
  return `${dirname(linkPath)}/.ecguard-link-${basename(target)}`;
}

/** Removes a leftover swap link of ours (a symlink to `target` under its temp name), nothing else. */
export function dropLinkTemp(linkPath: string, target: string): void {
  const tmp = linkTempName(linkPath, target);
  try {
    if (lstatSync(tmp).isSymbolicLink() && readlinkSync(tmp) === target) {
      unlinkSync(tmp);
      fsyncDir(dirname(tmp));
    }
  } catch {
    /* none there */
  }
}

/**
 * A symlink that may be replaced: it points into `diskPath` (a disk the caller has just found
 * failed or missing), so the archive it names no longer counts and the new one takes its place.
 */
export function replaceableLink(linkPath: string, diskPath: string): boolean {
  try {
    if (!lstatSync(linkPath).isSymbolicLink()) return false;
    return readlinkSync(linkPath).startsWith(diskPath.replace(/\/+$/, '') + '/');
  } catch {
    return false;
  }
}
