// Small filesystem steps a crash-safe placement needs: fsync of a directory (so a create,
// rename or unlink in it survives a power cut) and ownership copied from the parent directory
// (xrootd, not root, must own what it serves).
import { closeSync, constants, fchownSync, fstatSync, fsyncSync, lchownSync, lstatSync, mkdirSync, opendirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../../shared/errors.js';

export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Gives `path` the owner and group of directory `like` (a no-op when they already match). Never
 * through a symlink: the directories we chown belong to the xrootd account, which could swap one
 * for a symlink to a root file. A directory is chowned by an fd opened O_NOFOLLOW, anything else
 * with lchown.
 */
export function chownLike(path: string, like: string): void {
  const want = statSync(like);
  const have = lstatSync(path);
  if (have.uid === want.uid && have.gid === want.gid) return;
  if (have.isDirectory()) chownDirLike(path, like);
  else lchownSync(path, want.uid, want.gid);
}

// By an fd opened O_NOFOLLOW | O_DIRECTORY: a symlink (or anything else) now at `path` throws
// ELOOP / ENOTDIR instead of being followed.
function chownDirLike(path: string, like: string): void {
  const want = statSync(like);
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (st.uid !== want.uid || st.gid !== want.gid) fchownSync(fd, want.uid, want.gid);
  } finally {
    closeSync(fd);
  }
}

/** Creates directory `path` (its parent must exist) owned like its parent; false when it already existed. */
export function mkdirLikeParent(path: string, mode = 0o755, chown = true): boolean {
  try {
    mkdirSync(path, { mode });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    const st = lstatSync(path);
    if (!st.isDirectory()) throw err; // a symlink (even to a directory) is not our directory
    // A crash between mkdir and chown left it ours and empty: finish the chown now. The owner
    // checks come first, so a directory already owned like its parent costs no listing.
    if (chown && st.uid === process.geteuid?.()) {
      const like = statSync(dirname(path));
      if ((like.uid !== st.uid || like.gid !== st.gid) && isEmptyDir(path)) chownLike(path, dirname(path));
    }
    return false;
  }
  // Swapped for a symlink since the mkdir: refused (ELOOP / ENOTDIR), never chowned through.
  if (chown) chownDirLike(path, dirname(path));
  fsyncDir(dirname(path));
  return true;
}

/** Writes all of `data` at `position`. */
export function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

/** True when something (anything, even a dangling symlink) exists at `path`. */
export function occupied(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Reads at most one entry: a bucket or namespace directory may hold many thousands. */
export function isEmptyDir(path: string): boolean {
  const d = opendirSync(path);
  try {
    return d.readSync() === null;
  } finally {
    d.closeSync();
  }
}
