// Creates a namespace symlink and its missing directories below a trusted namespace root without
// following a symlink anywhere below that root. The agent runs as root; the namespace belongs to
// the xrootd account, which can plant or swap any name in it, so a path-based mkdir/chown/symlink
// could be steered outside the namespace or chown a root file to xrootd. The addon's nsLinkSync
// (native/src/ns-walk.h) walks by directory descriptors from the root; without the addon a
// TypeScript fallback narrows, but does not close, the same races.
import { closeSync, constants, fchownSync, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, type Stats } from 'node:fs';
import { loadNativeAddon } from '../../shared/codec/native-codec.js';
import { EcguardError, errnoCode, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { fsyncDir, isEmptyDir } from '../repair/durable-fs.js';

export interface NamespaceLinkRequest {
  /** The namespace root (admin configuration, trusted; it may itself be a symlink). Never created. */
  readonly root: string;
  /** A clean absolute path strictly below `root`. */
  readonly linkPath: string;
  readonly target: string;
  /** An existing symlink at linkPath whose target is below this directory is replaced (atomically). */
  readonly replaceInto?: string;
  /** Name (one component, in the link's directory) of the swap link for replaceInto. */
  readonly tempName?: string;
  /** fsync each directory changed (repair placement: the link must survive a power cut). */
  readonly durable?: boolean;
}

export interface NamespaceLinkResult {
  /** Directories this call created, absolute, outermost first. */
  readonly created: string[];
  /** Existing directories a crash had left ours (empty, owned unlike their parent): now chowned. */
  readonly fixed: string[];
  /** 'exists': something already sat at linkPath (or took its place): nothing was overwritten. */
  readonly link: 'created' | 'replaced' | 'exists';
}

/** Stable code of the refusal: a symlink or non-directory where a namespace directory should be. */
export const NOT_A_DIRECTORY = 'NAMESPACE_NOT_DIRECTORY';

export interface NsWalkAddon {
  nsLinkSync(root: string, dirs: readonly string[], name: string, target: string, opts?: { replaceInto?: string; tempName?: string; durable?: boolean }): {
    created: string[];
    fixed: string[];
    link: 'created' | 'replaced' | 'exists';
  };
}

let loaded: { addon?: NsWalkAddon; problem?: string } | undefined;

/** The addon when it has nsLinkSync; else why not (missing build, missing libisal, old build). */
export function loadNsWalkAddon(): { addon?: NsWalkAddon; problem?: string } {
  if (loaded) return loaded;
  try {
    const addon = loadNativeAddon() as unknown as Partial<NsWalkAddon>;
    loaded = typeof addon.nsLinkSync === 'function'
      ? { addon: addon as NsWalkAddon }
      : { problem: 'the ecguard_native addon was built without nsLinkSync: rebuild it with `npm run build:native`' };
  } catch (err) {
    loaded = { problem: `the ecguard_native addon does not load: ${errorText(err).split('\n')[0]}` };
  }
  if (loaded.problem !== undefined) {
    getLogger('namespace').warn(`${loaded.problem}; namespace links can only be made by a non-root agent (plain path calls), root refuses to write them`);
  }
  return loaded;
}

function notADirectory(path: string, cause?: unknown): EcguardError {
  return new EcguardError(NOT_A_DIRECTORY, `${path} is a symlink or not a directory, where a directory of the namespace should be: refused, nothing was created past it`, { cause });
}

interface Split {
  readonly root: string;
  readonly dirs: string[];
  readonly name: string;
}

function split(req: NamespaceLinkRequest): Split {
  const root = req.root.length > 1 ? req.root.replace(/\/+$/, '') : req.root;
  const prefix = root === '/' ? '/' : root + '/';
  const parts = req.linkPath.startsWith(prefix) ? req.linkPath.slice(prefix.length).split('/') : [];
  if (parts.length === 0 || parts.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) {
    throw new EcguardError('NAMESPACE_BAD_PATH', `link path ${JSON.stringify(req.linkPath)} is not a clean path below the namespace root ${root}`);
  }
  if (req.replaceInto !== undefined && (!req.tempName || req.tempName.includes('/'))) throw new EcguardError('NAMESPACE_BAD_PATH', `replacing a link into ${req.replaceInto} needs a plain temp name, got ${JSON.stringify(req.tempName ?? '')}`);
  return { root, dirs: parts.slice(0, -1), name: parts[parts.length - 1] as string };
}

const below = (root: string, rel: string): string => (root === '/' ? `/${rel}` : `${root}/${rel}`);
const replacePrefix = (dir: string): string => dir.replace(/\/+$/, '') + '/';

/**
 * Creates `linkPath` → `target` with its missing directories, each owned like its parent, and
 * the link owned like its directory. Never overwrites anything but a link `replaceInto` allows.
 * Throws EcguardError NAMESPACE_NOT_DIRECTORY when a component below the root is a symlink or
 * not a directory; other failures throw Node's errno errors.
 */
export function writeNamespaceLink(req: NamespaceLinkRequest): NamespaceLinkResult {
  const { addon, problem } = loadNsWalkAddon();
  if (!addon) {
    // As root, path calls a namespace owner races can misdirect anywhere: no namespace write
    // without the descriptor walk. Others write with their own rights: the fallback is fine.
    if (process.geteuid?.() === 0) throw new EcguardError('NAMESPACE_UNSAFE', `${problem ?? 'the native addon is missing'}: root writes no namespace link without it; nothing was written`);
    return writeNamespaceLinkJs(req);
  }
  const s = split(req);
  const opts = {
    ...(req.replaceInto !== undefined ? { replaceInto: replacePrefix(req.replaceInto), tempName: req.tempName as string } : {}),
    ...(req.durable ? { durable: true } : {}),
  };
  let r;
  try {
    r = addon.nsLinkSync(s.root, s.dirs, s.name, req.target, opts);
  } catch (err) {
    const code = errnoCode(err);
    if ((code === 'ELOOP' || code === 'ENOTDIR') && (err as { syscall?: unknown }).syscall === 'openat') {
      throw notADirectory(String((err as { path?: unknown }).path), err);
    }
    throw err;
  }
  return { created: r.created.map((d) => below(s.root, d)), fixed: r.fixed.map((d) => below(s.root, d)), link: r.link };
}

/**
 * The fallback without the addon: directories are opened O_NOFOLLOW and chowned by fd, every
 * component is checked to be a real directory right before the link, and the link is lchown'ed.
 * Still path-based between those checks; exported for tests.
 */
export function writeNamespaceLinkJs(req: NamespaceLinkRequest): NamespaceLinkResult {
  const s = split(req);
  const created: string[] = [];
  const fixed: string[] = [];
  let parent = statSync(s.root);
  let here = s.root;
  for (const c of s.dirs) {
    const p = below(here, c);
    let made = false;
    try {
      mkdirSync(p, { mode: 0o755 });
      made = true;
      created.push(p);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (made && req.durable) fsyncDir(here);
    parent = ownLikeParent(p, made, parent, fixed);
    here = p;
  }
  checkRealDirs(s);
  const linkPath = below(here, s.name);
  let link: NamespaceLinkResult['link'] = 'created';
  if (req.replaceInto !== undefined && replaceable(linkPath, replacePrefix(req.replaceInto))) {
    const tmp = below(here, req.tempName ?? '');
    try {
      if (lstatSync(tmp).isSymbolicLink() && readlinkSync(tmp) === req.target) unlinkSync(tmp); // a crash's leftover of ours
    } catch {
      /* none there */
    }
    symlinkSync(req.target, tmp);
    try {
      renameSync(tmp, linkPath);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    link = 'replaced';
  } else {
    try {
      symlinkSync(req.target, linkPath);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return { created, fixed, link: 'exists' };
      throw err;
    }
  }
  lchownSync(linkPath, parent.uid, parent.gid);
  if (req.durable) fsyncDir(here);
  return { created, fixed, link };
}

// Opens `p` without following a symlink and gives it its parent's owner when we made it, or when
// a crash left it ours, empty and owned unlike its parent. Returns its (new) stat.
function ownLikeParent(p: string, made: boolean, parent: Stats, fixed: string[]): Stats {
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP' || code === 'ENOTDIR') throw notADirectory(p, err);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (st.uid === process.geteuid?.() && (st.uid !== parent.uid || st.gid !== parent.gid) && (made || isEmptyDir(p))) {
      fchownSync(fd, parent.uid, parent.gid);
      if (!made) fixed.push(p);
      return fstatSync(fd);
    }
    return st;
  } finally {
    closeSync(fd);
  }
}

function checkRealDirs(s: Split): void {
  let here = s.root;
  for (const c of s.dirs) {
    here = below(here, c);
    if (!lstatSync(here).isDirectory()) throw notADirectory(here);
  }
}

function replaceable(linkPath: string, prefix: string): boolean {
  try {
    return lstatSync(linkPath).isSymbolicLink() && readlinkSync(linkPath).startsWith(prefix);
  } catch {
    return false;
  }
}
