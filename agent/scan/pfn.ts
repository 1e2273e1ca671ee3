// user.XrdFrm.Pfn is a hint, written by the server but sitting on a disk anyone with root can
// edit: it is validated before use and a hostile one is reported, never followed.

export interface PfnCheck {
  /** The Pfn as text, when it is safe to use. */
  readonly pfn?: string;
  /** LFN derived from it (Pfn minus localroot), when safe and inside an export. */
  readonly lfn?: string;
  /** Why it is hostile or unusable. */
  readonly problem?: string;
  readonly hostile: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PATH_MAX = 4096;
const SLASH = 0x2f;
const DOT = 0x2e;

export function checkPfn(raw: Buffer, localroot: string | undefined, exports: readonly string[]): PfnCheck {
  // xrootd stores the path plus one trailing NUL.
  const end = raw.length > 0 && raw[raw.length - 1] === 0 ? raw.length - 1 : raw.length;
  if (end === 0) return { hostile: true, problem: 'empty Pfn' };
  if (end >= PATH_MAX) return { hostile: true, problem: `Pfn of ${end} bytes is longer than PATH_MAX` };
  // One pass over the bytes: NUL, non-ASCII, and the segment rules ('/' and '.' never occur
  // inside a multi-byte UTF-8 sequence, so bytes and text agree on segments).
  let ascii = true;
  let dots = false;
  let emptySegment = false;
  let segStart = 1;
  for (let i = 1; i <= end; i++) {
    const b = i < end ? (raw[i] as number) : SLASH;
    if (b === SLASH) {
      const len = i - segStart;
      if (len === 0) emptySegment = true;
      else if (raw[segStart] === DOT && (len === 1 || (len === 2 && raw[segStart + 1] === DOT))) dots = true;
      segStart = i + 1;
    } else if (b === 0) return { hostile: true, problem: 'Pfn contains a NUL byte' };
    else if (b >= 0x80) ascii = false;
  }
  const first = raw[0] as number;
  if (first === 0) return { hostile: true, problem: 'Pfn contains a NUL byte' };
  let text: string;
  if (ascii && first < 0x80) text = raw.toString('latin1', 0, end); // ASCII: latin1 is UTF-8, and far cheaper
  else {
    try {
      text = utf8.decode(raw.subarray(0, end));
    } catch {
      return { hostile: true, problem: 'Pfn is not valid UTF-8' };
    }
  }
  // The decoder drops a leading BOM, so absoluteness is judged on the text, as it always was.
  if (!text.startsWith('/')) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} is not an absolute path` };
  if (first !== SLASH) return checkSegmentsOfText(text, localroot, exports);
  if (dots) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} contains "." or ".." segments` };
  if (emptySegment) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} contains an empty segment` };
  return withLfn(text, localroot, exports);
}

/** The segment rules on decoded text (the rare Pfn whose bytes do not start with '/'). */
function checkSegmentsOfText(text: string, localroot: string | undefined, exports: readonly string[]): PfnCheck {
  const segments = text.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} contains "." or ".." segments` };
  if (segments.some((s) => s === '')) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} contains an empty segment` };
  return withLfn(text, localroot, exports);
}

function withLfn(text: string, localroot: string | undefined, exports: readonly string[]): PfnCheck {
  const derived = lfnOf(text, localroot, exports);
  if (!derived.lfn) return { hostile: true, problem: derived.problem ?? 'Pfn outside the export' };
  return { hostile: false, pfn: text, lfn: derived.lfn };
}

interface Roots {
  readonly localroot: string | undefined;
  readonly exports: readonly string[];
  /** localroot without trailing slashes, and with one. */
  readonly root: string;
  readonly rootSlash: string;
  /** Exports without trailing slashes, and with one. */
  readonly ex: readonly string[];
  readonly exSlash: readonly string[];
}

// A scan calls this per file with the same localroot and exports: normalise them once.
let roots: Roots | undefined;

function rootsFor(localroot: string | undefined, exports: readonly string[]): Roots {
  if (roots && roots.localroot === localroot && roots.exports === exports) return roots;
  const root = (localroot ?? '').replace(/\/+$/, '');
  const ex = exports.map((e) => e.replace(/\/+$/, ''));
  roots = { localroot, exports, root, rootSlash: root + '/', ex, exSlash: ex.map((e) => e + '/') };
  return roots;
}

function lfnOf(pfn: string, localroot: string | undefined, exports: readonly string[]): { lfn?: string; problem?: string } {
  const r = rootsFor(localroot, exports);
  let lfn = pfn;
  if (localroot) {
    if (!pfn.startsWith(r.rootSlash)) return { problem: `Pfn ${JSON.stringify(pfn)} is outside the localroot ${r.root}` };
    lfn = pfn.slice(r.root.length);
  }
  let inside = false;
  for (let i = 0; i < r.ex.length && !inside; i++) {
    const ex = r.ex[i] as string;
    inside = ex === '' || lfn === ex || lfn.startsWith(r.exSlash[i] as string);
  }
  if (!inside) return { problem: `Pfn ${JSON.stringify(pfn)} (LFN ${JSON.stringify(lfn)}) is outside every export (${exports.join(', ')})` };
  return { lfn };
}
