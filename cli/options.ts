// Parsing helpers for command-line values: every bad value names the flag and what it wanted.
import { UsageError } from '../shared/errors.js';
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
