// The namespace side of a quarantine: the symlink LFN → data file that goes with the archive.
// Removed or put back through its directory held open by descriptor (the xrootd account owns the
// namespace and may swap a directory for a symlink at any moment).
import { errnoCode } from '../../shared/errors.js';
import { checkLinkPath } from '../repair/namespace-link.js';
import { DiskDir } from '../repair/disk-dir.js';
import { readlinkSync } from 'node:fs';

/** The open directory holding `linkPath` (below the trusted `root`), or undefined when it is gone. */
export function namespaceDir(root: string, linkPath: string): { dir: DiskDir; name: string } | undefined {
  checkLinkPath(linkPath, root);
  const base = root.replace(/\/+$/, '');
  const parts = linkPath.slice(base.length + 1).split('/');
  const name = parts.pop() as string;
  try {
    return { dir: DiskDir.open(base === '' ? '/' : base, parts), name };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether `linkPath` is a symlink whose target is exactly `target` (a first look, by path). */
export function pointsAt(linkPath: string, target: string): boolean {
  try {
    return readlinkSync(linkPath) === target;
  } catch {
    return false;
  }
}
