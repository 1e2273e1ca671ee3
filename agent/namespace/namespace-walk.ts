// Walks the namespace (localroot + export): directories and the absolute symlinks xrootd keeps
// there, one per file. Never follows a link (so loops cannot trap it), reads link targets only,
// guards against directory cycles (bind mounts) and absurd depth.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import type { Finding } from '../../shared/domain/archive-record.js';
import { errnoCode } from '../../shared/errors.js';

export interface NamespaceLink {
  /** Absolute path of the symlink. */
  readonly path: string;
  /** Its target, as text. */
  readonly target: string;
  /** The LFN: path minus localroot. */
  readonly lfn: string;
}

export interface NamespaceWalk {
  readonly links: NamespaceLink[];
  readonly findings: Finding[];
  readonly directories: number;
  /** Regular files found in the namespace (xrootd keeps none there without oss.space). */
  readonly files: string[];
  /** Directories that could not be examined or listed: the links below them are unknown. */
  readonly unreadable: string[];
}

const MAX_DEPTH = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function walkNamespace(nsRoot: string, localroot: string | undefined): NamespaceWalk {
  const links: NamespaceLink[] = [];
  const findings: Finding[] = [];
  const files: string[] = [];
  const unreadable: string[] = [];
  const seen = new Set<string>();
  let directories = 0;
  const root = nsRoot.replace(/\/+$/, '');
  const lr = localroot?.replace(/\/+$/, '') ?? '';
  // '' is the filesystem root (`all.export /` without a localroot).
  const stack: { dir: string; depth: number }[] = [{ dir: root || '/', depth: 0 }];
  while (stack.length > 0) {
    const { dir, depth } = stack.pop() as { dir: string; depth: number };
    let st;
    try {
      st = lstatSync(dir);
    } catch (err) {
      findings.push({ kind: 'unreadable', severity: 'error', path: dir, reason: `cannot stat namespace directory: ${errnoCode(err)}` });
      // A directory removed since its parent was listed hides nothing.
      if (errnoCode(err) !== 'ENOENT' || depth === 0) unreadable.push(dir);
      continue;
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) {
      findings.push({ kind: 'unexpected-entry', severity: 'warning', path: dir, reason: 'directory seen twice (bind mount or loop): not walked again' });
      continue;
    }
    seen.add(key);
    directories++;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      findings.push({ kind: 'unreadable', severity: 'error', path: dir, reason: `cannot list namespace directory: ${errnoCode(err)}`, evidence: { errno: errnoCode(err) ?? 'EIO' } });
      unreadable.push(dir);
      continue;
    }
    for (const e of entries) {
      let name: string;
      try {
        name = utf8.decode(e.name);
      } catch {
        findings.push({ kind: 'unexpected-entry', severity: 'warning', path: `${dir === '/' ? '' : dir}/${e.name.toString('latin1')}`, reason: 'name is not valid UTF-8: not walked', evidence: { nameHex: e.name.toString('hex') } });
        continue;
      }
      const path = `${dir === '/' ? '' : dir}/${name}`;
      if (e.isDirectory()) {
        if (depth + 1 > MAX_DEPTH) findings.push({ kind: 'unexpected-entry', severity: 'warning', path, reason: `deeper than ${MAX_DEPTH} levels: not walked` });
        else stack.push({ dir: path, depth: depth + 1 });
      } else if (e.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(path);
        } catch (err) {
          findings.push({ kind: 'unreadable', severity: 'error', path, reason: `cannot read symlink: ${errnoCode(err)}` });
          continue;
        }
        links.push({ path, target, lfn: lr && path.startsWith(lr + '/') ? path.slice(lr.length) : path });
      } else if (e.isFile()) {
        files.push(path);
      }
    }
  }
  return { links, findings, directories, files, unreadable };
}
