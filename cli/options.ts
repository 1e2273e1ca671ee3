// Parsing helpers for command-line values: every bad value names the flag and what it wanted.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode, UsageError } from '../shared/errors.js';
import type { EcProfile } from '../shared/xrdec/profile.js';
import { validateProfile } from '../shared/xrdec/profile.js';

export function parseIntFlag(flag: string, value: string, min = 0): number {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${flag} wants a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

export function profileFromFlags(o: { nbdata?: string; nbparity?: string; chunksize?: string }): EcProfile {
  if (o.nbdata === undefined || o.nbparity === undefined || o.chunksize === undefined) {
    throw new UsageError('the EC profile needs --nbdata N --nbparity M --chunksize C (see nbdta, nbprt, chsz in the XrdEc client plug-in config)');
  }
  return validateProfile({
    nbData: parseIntFlag('--nbdata', o.nbdata, 1),
    nbParity: parseIntFlag('--nbparity', o.nbparity, 1),
    chunkSize: parseIntFlag('--chunksize', o.chunksize, 1),
  });
}

function kindOf(path: string): string {
  try {
    const st = statSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoCode(err) ?? String(err)})`;
  }
}

/** An input file named on the command line: checked before anything is written, so a typo is a usage error. */
export function requireFile(what: string, path: string): void {
  const k = kindOf(path);
  if (k === 'file') return;
  throw new UsageError(`${what} ${path} ${k === 'dir' ? 'is a directory, not a file' : k === 'other' ? 'is not a regular file' : k}`);
}

export function requireDir(what: string, path: string): void {
  const k = kindOf(path);
  if (k === 'dir') return;
  throw new UsageError(`${what} ${path} ${k === 'file' || k === 'other' ? 'is not a directory' : k}${k === 'does not exist' ? ' (create it first)' : ''}`);
}

/** An output file: its directory must exist and the path must not be a directory. */
export function requireOutputPath(flag: string, path: string): void {
  if (kindOf(path) === 'dir') throw new UsageError(`${flag} ${path} is a directory; give a file name`);
  const dir = dirname(path);
  const k = kindOf(dir);
  if (k !== 'dir') throw new UsageError(`${flag} ${path}: directory ${dir} ${k === 'file' || k === 'other' ? 'is not a directory' : k}${k === 'does not exist' ? ' (create it first)' : ''}`);
}
