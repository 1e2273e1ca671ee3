// A directory on a data disk, held open by descriptor and reached from the disk's path without
// following a symlink anywhere below it. The agent runs as root; the xrootd account owns the
// space directory and its buckets and may replace any of them with a symlink (to /etc, say) at
// any moment, so path-based mkdir/open/link/xattr/unlink calls could make root create, chown or
// delete files outside the disk. The disk path itself is the admin's configuration (trusted).
//
// The walk opens each component O_DIRECTORY | O_NOFOLLOW inside the one before, creating missing
// ones (owned like their parent, chowned by fd). Node has no openat, so "inside" is the magic
// link /proc/self/fd/<fd>/<name>: it resolves to the open directory itself, whatever its path has
// become since. Every later call names its file that way too, so a component swapped after the
// walk changes nothing. The same walk guards the namespace in native code (native/src/ns-walk.h).
import { closeSync, constants, fchownSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import { EcguardError, errnoCode, errorText } from '../../shared/errors.js';
import { isEmptyDir } from './durable-fs.js';

/** Stable code of the refusal: a symlink or non-directory where a disk directory should be. */
export const DISK_NOT_DIRECTORY = 'DISK_NOT_DIRECTORY';

export interface DiskDirOptions {
  /** How many leading components must exist already (never created). Default: all of them. */
  readonly existing?: number;
  /** Mode of directories created (umask applies). Default 0o755. */
  readonly mode?: number;
  /**
   * Directories this walk creates get their parent's owner; so does one it could have created
   * that a crash left ours (empty, owned unlike its parent). Default true: xrootd, not root,
   * must own what it serves.
   */
  readonly ownLikeParent?: boolean;
  /** fsync the parent of each directory created, so the new entry survives a power cut. */
  readonly durable?: boolean;
  /** The real path of the base, for paths and messages when the base is another DiskDir's `here`. */
  readonly label?: string;
}

let procFd: { ok: boolean; why?: string } | undefined;

// /proc/self/fd/<fd> must resolve to the descriptor's own directory: checked once on a real fd.
function procFdUsable(): { ok: boolean; why?: string } {
  if (procFd) return procFd;
  const fd = openSync('/', constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const a = fstatSync(fd);
    const b = statSync(`/proc/self/fd/${fd}`);
    procFd = a.dev === b.dev && a.ino === b.ino ? { ok: true } : { ok: false, why: '/proc/self/fd/<fd> does not lead to the open directory' };
  } catch (err) {
    procFd = { ok: false, why: `/proc/self/fd is not usable (${errnoCode(err) ?? errorText(err)})` };
  } finally {
    closeSync(fd);
  }
  return procFd;
}

function checkComponent(c: string): void {
  if (c === '' || c === '.' || c === '..' || c.includes('/') || c.includes('\0')) {
    throw new EcguardError('DISK_BAD_NAME', `${JSON.stringify(c)} is not a single file name: nothing on the disk is reached through it`);
  }
}

export class DiskDir {
  private fd: number | undefined;

  private constructor(fd: number, readonly path: string, private readonly pinned: boolean,
    /** Directories this walk created (absolute, outermost first). */
    readonly created: readonly string[],
    /** Existing ones a crash had left ours: now chowned like their parent. */
    readonly fixed: readonly string[]) {
    this.fd = fd;
  }

  /**
   * Opens `<diskPath>/<dirs...>`. Throws EcguardError DISK_NOT_DIRECTORY when a component is a
   * symlink or not a directory (nothing past it is made), DISK_UNSAFE when root cannot pin
   * directories (no /proc/self/fd; nothing is made), and Node's errno errors otherwise (ENOENT:
   * a component that had to exist is missing, or the disk path itself).
   */
  static open(diskPath: string, dirs: readonly string[], o: DiskDirOptions = {}): DiskDir {
    dirs.forEach(checkComponent);
    const proc = procFdUsable();
    // Without the magic links every call would go by path again, which the xrootd account can
    // steer anywhere: root refuses; another user only has its own rights to lose.
    if (!proc.ok && process.geteuid?.() === 0) {
      throw new EcguardError('DISK_UNSAFE', `${proc.why ?? '/proc/self/fd is not usable'}: root writes nothing on a data disk without it (mount /proc); nothing was written in ${[diskPath, ...dirs].join('/')}`);
    }
    const existing = o.existing ?? dirs.length;
    const me = process.geteuid?.();
    const created: string[] = [];
    const fixed: string[] = [];
    // The disk path is trusted and may itself be a symlink (admin configuration).
    let fd = openSync(diskPath, constants.O_RDONLY | constants.O_DIRECTORY);
    let here = o.label ?? diskPath;
    try {
      let parent = fstatSync(fd);
      for (const [i, c] of dirs.entries()) {
        const abs = `${here}/${c}`;
        const inside = proc.ok ? `/proc/self/fd/${fd}/${c}` : abs;
        let made = false;
        if (i >= existing) {
          try {
            mkdirSync(inside, { mode: o.mode ?? 0o755 });
            made = true;
          } catch (err) {
            if (errnoCode(err) !== 'EEXIST') throw relabel(err, inside, abs);
          }
        }
        if (made && o.durable) fsyncSync(fd);
        const next = openDirNoFollow(inside, abs);
        try {
          let st = fstatSync(next);
          // Only a directory this walk may create is given away, and only one of ours: one someone
          // else made (or swapped in after our mkdir) keeps its owner, and a non-empty one of ours
          // was not left by a crash.
          if ((o.ownLikeParent ?? true) && i >= existing && st.uid === me && (st.uid !== parent.uid || st.gid !== parent.gid) &&
            (made || isEmptyDir(proc.ok ? `/proc/self/fd/${next}` : abs))) {
            fchownSync(next, parent.uid, parent.gid);
            st = fstatSync(next);
            if (!made) fixed.push(abs);
          }
          if (made) created.push(abs);
          parent = st;
        } catch (err) {
          closeSync(next);
          throw err;
        }
        closeSync(fd);
        fd = next;
        here = abs;
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new DiskDir(fd, here, proc.ok, created, fixed);
  }

  private get base(): string {
    if (this.fd === undefined) throw new EcguardError('DISK_DIR_CLOSED', `${this.path} was used after it was closed`);
    return this.pinned ? `/proc/self/fd/${this.fd}` : this.path;
  }

  /** A path that resolves to this directory itself, whatever its name has become (a base for DiskDir.open). */
  get here(): string {
    return this.base;
  }

  /** How path-taking calls reach `name` in this directory (a single component). */
  at(name: string): string {
    checkComponent(name);
    return `${this.base}/${name}`;
  }

  /** The names in this directory. */
  list(): string[] {
    return readdirSync(this.base);
  }

  stat(): Stats {
    return fstatSync(this.descriptor());
  }

  /** Makes creates, links and unlinks in this directory durable. */
  fsync(): void {
    fsyncSync(this.descriptor());
  }

  /** Idempotent. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** An error of a call on an at() path, naming the directory's real path instead of the magic link. */
  relabel<E>(err: E): E {
    return this.fd === undefined || !this.pinned ? err : relabel(err, `/proc/self/fd/${this.fd}/`, `${this.path}/`);
  }

  private descriptor(): number {
    if (this.fd === undefined) throw new EcguardError('DISK_DIR_CLOSED', `${this.path} was used after it was closed`);
    return this.fd;
  }
}

/**
 * Refuses (and closes) a directory of the agent's own state on a data disk that is not the
 * agent's own and private: where the xrootd account owns the disk root it can rename ours away
 * and make its own in its place, with whatever it wants us to read or write in it.
 */
export function requireOwnPrivate(dir: DiskDir, code: string): DiskDir {
  const st = dir.stat();
  const me = process.geteuid?.() ?? st.uid;
  if (st.uid !== me || (st.mode & 0o077) !== 0) {
    dir.close();
    throw new EcguardError(code, `${dir.path} is not this agent's own private directory (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): someone else made or replaced it, so nothing in it is used or changed; move it aside and look at what is in it`);
  }
  return dir;
}

/** The path of an open file's own inode, for calls that take a path (xattrs): never a name swapped in. */
export function fdPath(fd: number, fallback: string): string {
  return procFdUsable().ok ? `/proc/self/fd/${fd}` : fallback;
}

function openDirNoFollow(inside: string, abs: string): number {
  try {
    return openSync(inside, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    // ELOOP: a symlink (O_NOFOLLOW); ENOTDIR: a symlink on some kernels, or a plain file.
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      throw new EcguardError(DISK_NOT_DIRECTORY, `${abs} is a symlink or not a directory, where a directory of the data disk should be: refused, nothing written past it (the xrootd account owns it: find out who replaced it)`, { cause: err });
    }
    throw relabel(err, inside, abs);
  }
}

// Node's errno errors carry the path they were called with: show the real one.
function relabel<E>(err: E, from: string, to: string): E {
  if (!(err instanceof Error) || from === to) return err;
  const e = err as Error & { path?: unknown; dest?: unknown };
  e.message = e.message.split(from).join(to);
  if (typeof e.path === 'string') e.path = e.path.split(from).join(to);
  if (typeof e.dest === 'string') e.dest = e.dest.split(from).join(to);
  return err;
}
