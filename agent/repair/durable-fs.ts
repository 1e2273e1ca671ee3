// Small filesystem steps a crash-safe placement needs: fsync of a directory (so a create,
// rename or unlink in it survives a power cut), full writes, existence and emptiness checks.
// Directories on a data disk are made by disk-dir.ts (by descriptor, owned like their parent).
import { closeSync, fsyncSync, lstatSync, opendirSync, openSync, writeSync } from 'node:fs';
import { errnoCode } from '../../shared/errors.js';

export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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
