// The site's xrootd config as this data server's xrootd sees it: where the namespace lives
// (all.export, oss.localroot) and which disks hold data (oss.space), plus every other directive
// that applies. Reading and if/else evaluation live in xrootd-reader.ts; this file turns the
// applicable directives into the facts the agent needs and checks them as XRootD would.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errorText } from '../../shared/errors.js';
import { readXrootdConfig } from './xrootd-reader.js';
import type { XrootdDiagnostic, XrootdDirective, XrootdEvalOptions } from './xrootd-types.js';

export type { XrootdDiagnostic, XrootdDirective, XrootdEvalOptions } from './xrootd-types.js';

export interface XrootdExport {
  readonly path: string;
  /** Words after the path (r/o, nolock, …). */
  readonly options: readonly string[];
  readonly file: string;
  readonly line: number;
}

export interface XrootdSpace {
  readonly name: string;
  /**
   * The disk directory, without trailing slash: data files live in `<path>/<name>/XX/`. It is
   * the oss.space PATH, or its parent when PATH already ends in `/<name>` (xrootd then uses
   * PATH itself as the space directory; checked on XRootD 5.5.3).
   */
  readonly path: string;
  /** The oss.space PATH as written (trailing slashes removed); the chkmount marker lives here. */
  readonly configuredPath: string;
  readonly chkmount?: { readonly id: string; readonly nofail: boolean };
  /** The `oss.space` path ending in `*` this disk was found by, if any. */
  readonly pattern?: string;
  readonly file: string;
  readonly line: number;
}

export interface XrootdSiteConfig {
  readonly exports: XrootdExport[];
  /** oss.localroot without trailing slash; absent when none (or `/`). */
  readonly localroot?: string;
  readonly spaces: XrootdSpace[];
  readonly sitename?: string;
  /** `set` variables at the end of the config. */
  readonly variables: Record<string, string>;
  /** Variables the config `setenv`s. */
  readonly environment: Record<string, string>;
  /** Every directive that applies here, in order (oss.space, all.export, … included). */
  readonly directives: XrootdDirective[];
  readonly diagnostics: XrootdDiagnostic[];
  /** Every file read (the main file first, then the files it continued to). */
  readonly files: string[];
}

/**
 * Parses `path` for this host, program (default `xrootd`) and instance (absent: unnamed, which
 * XRootD calls `anon`). Throws EcguardError CONFIG_UNREADABLE when the main file cannot be read;
 * every other problem is a diagnostic with file and line.
 */
export function parseXrootdConfig(path: string, opts: XrootdEvalOptions): XrootdSiteConfig {
  const read = readXrootdConfig(path, opts);
  const diagnostics = read.diagnostics;
  // `arg`: the offending word's index in d.args, so a continued directive names its own line.
  const diag: Diag = (d, severity, message, arg) => {
    diagnostics.push({ severity, file: d.file, line: (arg !== undefined ? d.argLines[arg] : undefined) ?? d.line, message });
  };
  const exports: XrootdExport[] = [];
  const spaces: XrootdSpace[] = [];
  let localroot: string | undefined;
  let sitename: string | undefined;
  for (const d of read.directives) {
    const name = `${d.component}.${d.directive}`;
    if (name === 'all.export') {
      const [p, ...options] = d.args;
      if (p === undefined) diag(d, 'error', 'all.export without a path');
      else {
        if (!p.startsWith('/')) diag(d, 'warning', `all.export ${p}: not an absolute path`, 0);
        exports.push({ path: p, options, file: d.file, line: d.line });
      }
    } else if (name === 'oss.localroot') {
      const p = d.args[0];
      if (p === undefined) diag(d, 'error', 'oss.localroot without a directory');
      else if (!p.startsWith('/')) diag(d, 'error', `oss.localroot ${p}: not an absolute path; ignored`, 0);
      else {
        if (localroot !== undefined) diag(d, 'warning', `oss.localroot given again: ${p} replaces ${localroot}`, 0);
        localroot = p.replace(/\/+$/, '');
      }
    } else if (name === 'oss.space') {
      spaces.push(...spaceDisks(d, diag));
    } else if (name === 'all.sitename' || name === 'xrd.sitename') {
      if (d.args[0] === undefined) diag(d, 'error', `${name} without a name`);
      else sitename = d.args[0];
    }
  }
  return {
    exports,
    ...(localroot ? { localroot } : {}),
    spaces: dedupeSpaces(spaces, diagnostics),
    ...(sitename !== undefined ? { sitename } : {}),
    variables: read.variables,
    environment: read.environment,
    directives: read.directives,
    diagnostics,
    files: read.files,
  };
}

/**
 * The file whose presence `chkmount ID` requires before xrootd uses the disk:
 * `PATH/ID.<basename(PATH)>` (XRDEC-FORMAT.md §A). Undefined without chkmount.
 */
export function chkmountMarker(space: Pick<XrootdSpace, 'configuredPath' | 'chkmount'>): string | undefined {
  if (space.chkmount === undefined) return undefined;
  const dir = space.configuredPath.replace(/\/+$/, '');
  return join(dir, `${space.chkmount.id}.${basename(dir)}`);
}

type Diag = (d: XrootdDirective, severity: 'error' | 'warning', message: string, arg?: number) => void;

/** `oss.space NAME PATH [chkmount ID [nofail]]`; a PATH ending in `*` names every matching directory. */
function spaceDisks(d: XrootdDirective, diag: Diag): XrootdSpace[] {
  const [name, path, ...opts] = d.args;
  if (name === undefined || path === undefined) {
    diag(d, 'error', 'oss.space needs a space name and a path');
    return [];
  }
  if (!path.startsWith('/') || path.replace(/\/+$/, '').length < 2) {
    diag(d, 'error', `oss.space ${name} ${path}: invalid space path (XRootD refuses it)`, 1);
    return [];
  }
  let chkmount: XrootdSpace['chkmount'];
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    if (o === 'chkmount') {
      const id = opts[i + 1];
      if (id === undefined) {
        diag(d, 'error', `oss.space ${name} ${path}: chkmount without an id`, 2 + i);
        return [];
      }
      const nofail = opts[i + 2] === 'nofail';
      chkmount = { id, nofail };
      i += nofail ? 2 : 1;
    } else {
      diag(d, 'warning', `oss.space ${name} ${path}: '${o}' is not an option (XRootD ignores it too)`, 2 + i);
    }
  }
  const disk = (configured: string, pattern?: string): XrootdSpace => ({
    name,
    path: basename(configured) === name ? dirname(configured) : configured,
    configuredPath: configured,
    ...(chkmount ? { chkmount } : {}),
    ...(pattern !== undefined ? { pattern } : {}),
    file: d.file,
    line: d.line,
  });
  if (!path.endsWith('*')) {
    if (path.includes('*')) diag(d, 'warning', `oss.space ${name} ${path}: '*' is a wildcard only at the end of the path; taken literally`, 1);
    return [disk(path.replace(/\/+$/, ''))];
  }
  return expandPattern(path, d, diag).map((p) => disk(p, path));
}

/** Directories whose name starts with the last component's text before `*` (XrdOssConfig::xspace). */
function expandPattern(pattern: string, d: XrootdDirective, diag: Diag): string[] {
  const slash = pattern.lastIndexOf('/');
  const dir = pattern.slice(0, slash) || '/';
  const prefix = pattern.slice(slash + 1, -1);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    diag(d, 'error', `oss.space ${pattern}: cannot list ${dir}: ${errorText(err)} (XRootD refuses the config)`, 1);
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    if (!n.startsWith(prefix)) continue;
    const p = join(dir, n);
    try {
      if (statSync(p).isDirectory()) out.push(p);
    } catch {
      /* dangling link: not a space directory */
    }
  }
  if (out.length === 0) diag(d, 'warning', `oss.space ${pattern}: no directory matches (XRootD: no space directories found)`, 1);
  return out;
}

/** One disk may serve several spaces (each keeps its files under PATH/NAME/); xrootd merges the same pair given twice. */
function dedupeSpaces(spaces: XrootdSpace[], diagnostics: XrootdDiagnostic[]): XrootdSpace[] {
  const byKey = new Map<string, XrootdSpace>();
  for (const s of spaces) {
    const key = `${s.name}\0${s.path}`;
    const prev = byKey.get(key);
    if (prev === undefined) byKey.set(key, s);
    else {
      diagnostics.push({
        severity: 'warning',
        file: s.file,
        line: s.line,
        message: `oss.space ${s.name} ${s.configuredPath}: the same space directory as ${prev.file}:${prev.line}; xrootd uses it once`,
      });
    }
  }
  return [...byKey.values()];
}
