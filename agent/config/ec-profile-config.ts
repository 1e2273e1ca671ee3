// The EC profile from the XrdEc client plug-in config (XrdCl plug-in manager format, usually
// /etc/xrootd/client.plugins.d/xrdec.conf): `key = value` lines, `#` comments. nbdta, nbprt and
// chsz define the profile; url, lib and enable are the plug-in manager's own keys. A wrong
// profile would make every repair write garbage, so anything doubtful is an error, not a default.
import { readFileSync } from 'node:fs';
import { EcguardError, errorText } from '../../shared/errors.js';
import { MAX_CHUNK_SIZE, MAX_STRIPES, validateProfile, type EcProfile } from '../../shared/xrdec/profile.js';

export interface EcPluginEntry {
  readonly value: string;
  readonly line: number;
}

export interface EcPluginConfig {
  readonly profile: EcProfile;
  readonly url?: string;
  readonly lib?: string;
  /** The plug-in manager's `enable` (absent when the file does not say). */
  readonly enable?: boolean;
  /** Every key of the file with its value and line. */
  readonly entries: Readonly<Record<string, EcPluginEntry>>;
}

const PROFILE_KEYS = ['nbdta', 'nbprt', 'chsz'] as const;

/** Reads and checks the plug-in config at `path`; CONFIG_UNREADABLE or CONFIG_INVALID on failure. */
export function loadEcPluginConfig(path: string): EcPluginConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcguardError('CONFIG_UNREADABLE', `cannot read XrdEc plug-in config ${path}: ${errorText(err)}`, { cause: err });
  }
  return parseEcPluginConfig(text, path);
}

/** Just the profile of the plug-in config at `path`. */
export function loadEcProfile(path: string): EcProfile {
  return loadEcPluginConfig(path).profile;
}

/** Parses plug-in config text; `file` names it in messages. Lists every problem in one CONFIG_INVALID. */
export function parseEcPluginConfig(text: string, file: string): EcPluginConfig {
  const problems: string[] = [];
  const byKey = new Map<string, EcPluginEntry>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const t = (lines[i] as string).trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    const key = eq < 0 ? '' : t.slice(0, eq).trim();
    const prev = byKey.get(key);
    if (key === '') problems.push(`${file}:${line}: expected 'key = value', got ${JSON.stringify(t)}`);
    else if (prev !== undefined) problems.push(`${file}:${line}: ${key}: given again (first on line ${prev.line})`);
    else byKey.set(key, { value: t.slice(eq + 1).trim(), line });
  }
  const entries: Record<string, EcPluginEntry> = Object.fromEntries(byKey);

  const ints: Partial<Record<(typeof PROFILE_KEYS)[number], number>> = {};
  for (const key of PROFILE_KEYS) {
    const e = byKey.get(key);
    if (e === undefined) {
      problems.push(`${file}: ${key}: missing (the EC profile needs nbdta, nbprt and chsz)`);
      continue;
    }
    const n = /^\d+$/.test(e.value) ? Number(e.value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) problems.push(`${file}:${e.line}: ${key}: expected a positive integer, got ${JSON.stringify(e.value)}`);
    else ints[key] = n;
  }
  const { nbdta, nbprt, chsz } = ints;
  if (nbdta !== undefined && nbprt !== undefined && nbdta + nbprt > MAX_STRIPES) {
    problems.push(`${file}:${byKey.get('nbprt')?.line}: nbdta + nbprt: must be at most ${MAX_STRIPES}, got ${nbdta + nbprt}`);
  }
  if (chsz !== undefined && chsz > MAX_CHUNK_SIZE) {
    problems.push(`${file}:${byKey.get('chsz')?.line}: chsz: must be at most ${MAX_CHUNK_SIZE} bytes, got ${chsz}`);
  }

  let enable: boolean | undefined;
  const en = byKey.get('enable');
  if (en !== undefined) {
    if (en.value === 'true' || en.value === 'false') enable = en.value === 'true';
    else problems.push(`${file}:${en.line}: enable: expected true or false, got ${JSON.stringify(en.value)}`);
  }

  if (problems.length > 0 || nbdta === undefined || nbprt === undefined || chsz === undefined) {
    throw new EcguardError('CONFIG_INVALID', `invalid XrdEc plug-in config ${file}:\n  ${problems.join('\n  ')}`);
  }
  let profile: EcProfile;
  try {
    profile = validateProfile({ nbData: nbdta, nbParity: nbprt, chunkSize: chsz });
  } catch (err) {
    throw new EcguardError('CONFIG_INVALID', `invalid XrdEc plug-in config ${file}: ${errorText(err)}`, { cause: err });
  }
  const url = byKey.get('url')?.value;
  const lib = byKey.get('lib')?.value;
  return {
    profile,
    ...(url !== undefined ? { url } : {}),
    ...(lib !== undefined ? { lib } : {}),
    ...(enable !== undefined ? { enable } : {}),
    entries,
  };
}
