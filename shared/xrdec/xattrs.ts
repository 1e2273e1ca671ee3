// XrdEc attributes on archives (XRDEC-FORMAT.md §F): `xrdec.strpver` and `xrdec.filesize`,
// ASCII decimal, as `user.U.` (written through an xrootd server) or `user.` (file:// writers).
import { getAttribute, getAttributeSync, setAttribute, setAttributeSync } from 'fs-xattr';
import { errnoCode } from '../errors.js';

export const XATTR_NAMESPACES = ['user.U.', 'user.'] as const;
export type XattrNamespace = (typeof XATTR_NAMESPACES)[number];
export const STRPVER = 'xrdec.strpver';
export const FILESIZE = 'xrdec.filesize';

export interface EcXattrs {
  /** Namespace the values were taken from (user.U. wins when both exist). */
  readonly namespace?: XattrNamespace;
  readonly strpver?: number;
  readonly filesize?: number;
  /** Raw values by full attribute name, as text (for inspect). */
  readonly raw: Readonly<Record<string, string>>;
  /** What is wrong with them, in words. */
  readonly problems: readonly string[];
}

const DECIMAL = /^[0-9]{1,16}$/;

/** A plain decimal of 1-15 digits (always a safe integer); undefined for anything else. */
export function plainDecimal(value: Uint8Array): number | undefined {
  const n = value.length;
  if (n === 0 || n > 15) return undefined;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = (value[i] as number) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}

function parseDecimal(name: string, value: Buffer, problems: string[]): number | undefined {
  const plain = plainDecimal(value); // the usual value: no text, no regex
  if (plain !== undefined) return plain;
  const text = value.toString('latin1');
  if (!DECIMAL.test(text)) {
    problems.push(`${name} is not a decimal number: ${JSON.stringify(text.slice(0, 64))}`);
    return undefined;
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    problems.push(`${name} is out of range: ${text}`);
    return undefined;
  }
  return n;
}

/** Builds the result from raw attribute bytes (undefined = absent). */
export function interpretEcXattrs(get: (name: string) => Buffer | undefined): EcXattrs {
  const raw: Record<string, string> = {};
  const problems: string[] = [];
  const found: { ns: XattrNamespace; strpver?: number; filesize?: number }[] = [];
  for (const ns of XATTR_NAMESPACES) {
    const sv = get(ns + STRPVER);
    const fs = get(ns + FILESIZE);
    if (sv === undefined && fs === undefined) continue;
    const item: { ns: XattrNamespace; strpver?: number; filesize?: number } = { ns };
    if (sv !== undefined) {
      raw[ns + STRPVER] = sv.toString('latin1');
      const v = parseDecimal(ns + STRPVER, sv, problems);
      if (v !== undefined) item.strpver = v;
    } else problems.push(`${ns + STRPVER} is missing while ${ns + FILESIZE} is set`);
    if (fs !== undefined) {
      raw[ns + FILESIZE] = fs.toString('latin1');
      const v = parseDecimal(ns + FILESIZE, fs, problems);
      if (v !== undefined) item.filesize = v;
    } else problems.push(`${ns + FILESIZE} is missing while ${ns + STRPVER} is set`);
    found.push(item);
  }
  const [first, second] = found;
  if (!first) return { raw, problems };
  if (second && (second.strpver !== first.strpver || second.filesize !== first.filesize)) {
    problems.push(`${first.ns}xrdec.* and ${second.ns}xrdec.* disagree; using ${first.ns}`);
  }
  return {
    namespace: first.ns,
    ...(first.strpver !== undefined ? { strpver: first.strpver } : {}),
    ...(first.filesize !== undefined ? { filesize: first.filesize } : {}),
    raw,
    problems,
  };
}

const NO_PROBLEMS: readonly string[] = Object.freeze([]);

/**
 * interpretEcXattrs' result, less `raw`, for the usual attributes: one namespace holding both
 * values as plain decimals, the other none (no problems then). Undefined for anything else,
 * which the caller hands to interpretEcXattrs. For the scanner: no texts, no regex, per file.
 */
export function usualEcXattrs(
  uStrpver: Buffer | undefined, uFilesize: Buffer | undefined, strpver: Buffer | undefined, filesize: Buffer | undefined,
): { namespace: XattrNamespace; strpver: number; filesize: number; problems: readonly string[] } | undefined {
  const inU = strpver === undefined && filesize === undefined;
  if (!inU && (uStrpver !== undefined || uFilesize !== undefined)) return undefined;
  const sv = inU ? uStrpver : strpver;
  const fs = inU ? uFilesize : filesize;
  if (sv === undefined || fs === undefined) return undefined;
  const s = plainDecimal(sv);
  const f = plainDecimal(fs);
  return s === undefined || f === undefined ? undefined : { namespace: inU ? 'user.U.' : 'user.', strpver: s, filesize: f, problems: NO_PROBLEMS };
}

function absentToUndefined(err: unknown): undefined {
  const code = errnoCode(err);
  if (code === 'ENODATA' || code === 'ENOATTR') return undefined;
  throw err;
}

export function readEcXattrsSync(path: string): EcXattrs {
  return interpretEcXattrs((name) => {
    try {
      return getAttributeSync(path, name);
    } catch (err) {
      return absentToUndefined(err);
    }
  });
}

export async function readEcXattrs(path: string): Promise<EcXattrs> {
  const values = new Map<string, Buffer | undefined>();
  for (const ns of XATTR_NAMESPACES) {
    for (const key of [STRPVER, FILESIZE]) {
      values.set(ns + key, await getAttribute(path, ns + key).catch(absentToUndefined));
    }
  }
  return interpretEcXattrs((name) => values.get(name));
}

export interface EcVersion {
  readonly strpver: number;
  readonly filesize: number;
}

export function writeEcXattrsSync(path: string, v: EcVersion, ns: XattrNamespace): void {
  setAttributeSync(path, ns + STRPVER, Buffer.from(String(v.strpver), 'latin1'));
  setAttributeSync(path, ns + FILESIZE, Buffer.from(String(v.filesize), 'latin1'));
}

export async function writeEcXattrs(path: string, v: EcVersion, ns: XattrNamespace): Promise<void> {
  await setAttribute(path, ns + STRPVER, Buffer.from(String(v.strpver), 'latin1'));
  await setAttribute(path, ns + FILESIZE, Buffer.from(String(v.filesize), 'latin1'));
}
