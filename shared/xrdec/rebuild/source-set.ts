// Decides which sources a rebuild may use, as the XrdEc reader would (XRDEC-FORMAT.md §G):
// only archives at the newest strpver count, and they must agree on filesize, because a rebuilt
// archive has to carry exactly the survivors' strpver and filesize.
import { EcguardError, errorText } from '../../errors.js';
import { FILESIZE, STRPVER, type EcXattrs, type XattrNamespace } from '../xattrs.js';
import type { ZipDirectory } from '../zip-directory.js';
import type { StripeSource } from './stripe-source.js';

export interface OpenedSource {
  readonly source: StripeSource;
  readonly dir: ZipDirectory;
}

/** The object version every used source carries; the texts are the raw attribute values. */
export interface SourceVersion {
  readonly strpver: number;
  readonly filesize: number;
  readonly strpverText: string;
  readonly filesizeText: string;
  /** Namespace the values were read from on the first used source. */
  readonly namespace: XattrNamespace;
}

export interface IgnoredSource {
  readonly id: string;
  readonly reason: string;
}

export interface SourceSet {
  readonly used: readonly OpenedSource[];
  readonly ignored: readonly IgnoredSource[];
  readonly version: SourceVersion;
}

/** What the task says the object is (the coordinator's view); a mismatch means the plan is stale. */
export interface ExpectedVersion {
  readonly strpver?: number;
  readonly filesize?: number;
}

interface Loaded extends OpenedSource {
  readonly xattrs: EcXattrs;
  readonly strpver: number;
  readonly filesize: number;
}

export async function openSourceSet(sources: readonly StripeSource[], expected: ExpectedVersion = {}): Promise<SourceSet> {
  const ignored: IgnoredSource[] = [];
  const loaded: Loaded[] = [];
  const results = await Promise.all(sources.map(async (source) => {
    try {
      const [xattrs, dir] = await Promise.all([source.xattrs(), source.directory()]);
      return { source, xattrs, dir };
    } catch (err) {
      return { source, error: errorText(err) };
    }
  }));
  for (const r of results) {
    if ('error' in r) {
      ignored.push({ id: r.source.id, reason: `unreadable: ${r.error}` });
    } else if (r.xattrs.strpver === undefined || r.xattrs.filesize === undefined) {
      ignored.push({ id: r.source.id, reason: `no usable xrdec.strpver and xrdec.filesize${r.xattrs.problems.length > 0 ? ` (${r.xattrs.problems.join('; ')})` : ''}: its version cannot be told` });
    } else {
      loaded.push({ source: r.source, dir: r.dir, xattrs: r.xattrs, strpver: r.xattrs.strpver, filesize: r.xattrs.filesize });
    }
  }
  if (loaded.length === 0) {
    throw new EcguardError('TOO_FEW_SOURCES', `none of the ${sources.length} sources is usable: ${ignored.map((i) => `${i.id}: ${i.reason}`).join('; ') || 'no sources given'}`);
  }
  const newest = Math.max(...loaded.map((l) => l.strpver));
  const target = expected.strpver ?? newest;
  if (newest > target) {
    const ids = loaded.filter((l) => l.strpver > target).map((l) => l.source.id);
    throw new EcguardError('SOURCES_DISAGREE', `the task is for strpver ${target} but ${ids.join(', ')} carry the newer strpver ${newest}: the object was rewritten since the task was planned; re-plan instead of rebuilding an old version`);
  }
  const used: Loaded[] = [];
  for (const l of loaded) {
    if (l.strpver < target) ignored.push({ id: l.source.id, reason: `strpver ${l.strpver} is older than ${target} (debris of an earlier version): not used` });
    else used.push(l);
  }
  const first = used[0];
  if (!first) throw new EcguardError('TOO_FEW_SOURCES', `no source carries strpver ${target}: ${ignored.map((i) => `${i.id}: ${i.reason}`).join('; ')}`);
  const sizes = [...new Set(used.map((l) => l.filesize))];
  if (sizes.length > 1) {
    throw new EcguardError('SOURCES_DISAGREE', `sources of strpver ${target} disagree on xrdec.filesize (${used.map((l) => `${l.source.id}: ${l.filesize}`).join(', ')}): refusing to guess which archives are right`);
  }
  if (expected.filesize !== undefined && expected.filesize !== first.filesize) {
    throw new EcguardError('SOURCES_DISAGREE', `the task expects a ${expected.filesize}-byte object but the sources of strpver ${target} say ${first.filesize} bytes: re-plan`);
  }
  const ns = first.xattrs.namespace ?? 'user.U.';
  const version: SourceVersion = {
    strpver: first.strpver,
    filesize: first.filesize,
    strpverText: first.xattrs.raw[ns + STRPVER] ?? String(first.strpver),
    filesizeText: first.xattrs.raw[ns + FILESIZE] ?? String(first.filesize),
    namespace: ns,
  };
  return { used: used.map(({ source, dir }) => ({ source, dir })), ignored, version };
}
