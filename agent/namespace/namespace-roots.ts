// Where the namespace lives: <localroot><export> for every all.export. Exports may nest
// (`all.export /data` and `all.export /data/ro r/o`): the inner one is walked with the outer,
// so it is dropped here; walking it again would collect each of its links twice (every such
// file a duplicate LFN).
import { lstatSync, opendirSync } from 'node:fs';
import { errnoCode } from '../../shared/errors.js';

export function namespaceRoots(layout: { readonly localroot?: string; readonly exports: readonly string[] }): string[] {
  const lr = layout.localroot?.replace(/\/+$/, '') ?? '';
  // `all.export /` without a localroot is the filesystem root, not ''.
  const roots = [...new Set(layout.exports.map((e) => lr + e.replace(/\/+$/, '') || '/'))].sort();
  return roots.filter((r) => !roots.some((o) => o !== r && isUnder(r, o)));
}

/** `path` is `root` or below it. */
export function isUnder(path: string, root: string): boolean {
  return root === '/' ? path.startsWith('/') : path === root || path.startsWith(`${root}/`);
}

/** The longest root `path` lies strictly below. */
export function rootOf(path: string, roots: readonly string[]): string | undefined {
  return roots.filter((r) => path !== r && isUnder(path, r)).sort((a, b) => b.length - a.length)[0];
}

/**
 * Why `root` cannot be walked, in words; undefined when it can. A missing root is most often an
 * unmounted filesystem: every data file would look unlinked.
 */
export function namespaceRootProblem(root: string): string | undefined {
  try {
    if (!lstatSync(root).isDirectory()) return `namespace root ${root} is not a directory: fix it before check/rebuild`;
    // One entry read proves it can be listed (EACCES, EIO) without listing a huge directory.
    const d = opendirSync(root);
    try {
      d.readSync();
    } finally {
      d.closeSync();
    }
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return `namespace root ${root} does not exist (not mounted?): mount it before check/rebuild`;
    return `namespace root ${root} cannot be read (${code ?? 'error'}): fix it before check/rebuild`;
  }
}
