// `continue [?]PATH [*SUFFIX…] [if CONDITION]` as XRootD 5.5.3 reads it (checked against the
// real server): PATH is a file, or a directory whose files are read in byte order; `*SUFFIX`
// words keep only directory files ending in SUFFIX; `?` makes a missing PATH no error; a false
// condition makes the line a no-op. Once xrootd switches to the continued files it never comes
// back: the rest of the file is ignored, even when the directory held no file to read.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, errorText } from '../../shared/errors.js';

/** Directory entries xrootd skips besides hidden files (observed on XRootD 5.5.3). */
const SKIPPED_SUFFIXES = ['~', '.rpmsave', '.rpmnew', '.dpkg-old', '.dpkg-dist', '.cfsaved'];

export interface ContinueLine {
  /** The path without `?`; undefined for a bare `continue` (a no-op in XRootD). */
  readonly path?: string;
  readonly optional: boolean;
  /** Suffixes from `*SUFFIX` words. */
  readonly suffixes: readonly string[];
  /** Words after `if`, when the continue is conditional. */
  readonly condition?: readonly string[];
  /** A word XRootD refuses (it expects `*SUFFIX` or `if` after the path). */
  readonly badWord?: string;
}

/** `words` are the substituted words after `continue`. */
export function parseContinue(words: readonly string[]): ContinueLine {
  const target = words[0];
  if (target === undefined) return { optional: false, suffixes: [] };
  const optional = target.startsWith('?');
  const path = optional ? target.slice(1) : target;
  const suffixes: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    if (w === 'if') return { path, optional, suffixes, condition: words.slice(i + 1) };
    if (!w.startsWith('*')) return { path, optional, suffixes, badWord: w };
    suffixes.push(w.slice(1));
  }
  return { path, optional, suffixes };
}

export type ContinueTarget =
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'files'; readonly files: readonly string[] };

/** The files a continue reads, in order (a plain file ignores the suffixes, as xrootd does). */
export function continueTargets(path: string, optional: boolean, suffixes: readonly string[]): ContinueTarget {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    if (optional && errnoCode(err) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'error', message: errorText(err) };
  }
  if (!isDir) return { kind: 'files', files: [path] };
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (err) {
    return { kind: 'error', message: errorText(err) };
  }
  const files: string[] = [];
  // Byte order, as strcmp sorts (B.cfg before a.cfg).
  for (const n of names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    if (n.startsWith('.') || SKIPPED_SUFFIXES.some((s) => n.endsWith(s))) continue;
    if (suffixes.length > 0 && !suffixes.some((s) => n.endsWith(s))) continue;
    const p = join(path, n);
    try {
      if (statSync(p).isFile()) files.push(p);
    } catch {
      /* a dangling link: xrootd skips it too */
    }
  }
  return { kind: 'files', files };
}
