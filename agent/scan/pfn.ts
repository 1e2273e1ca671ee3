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

export function checkPfn(raw: Buffer, localroot: string | undefined, exports: readonly string[]): PfnCheck {
  // xrootd stores the path plus one trailing NUL.
  const bytes = raw.length > 0 && raw[raw.length - 1] === 0 ? raw.subarray(0, raw.length - 1) : raw;
  if (bytes.length === 0) return { hostile: true, problem: 'empty Pfn' };
  if (bytes.length >= PATH_MAX) return { hostile: true, problem: `Pfn of ${bytes.length} bytes is longer than PATH_MAX` };
  if (bytes.includes(0)) return { hostile: true, problem: 'Pfn contains a NUL byte' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { hostile: true, problem: 'Pfn is not valid UTF-8' };
  }
  if (!text.startsWith('/')) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} is not an absolute path` };
  const segments = text.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} contains "." or ".." segments` };
  if (segments.some((s) => s === '')) return { hostile: true, problem: `Pfn ${JSON.stringify(text)} contains an empty segment` };
  const derived = lfnOf(text, localroot, exports);
  if (!derived.lfn) return { hostile: true, problem: derived.problem ?? 'Pfn outside the export' };
  return { hostile: false, pfn: text, lfn: derived.lfn };
}

function lfnOf(pfn: string, localroot: string | undefined, exports: readonly string[]): { lfn?: string; problem?: string } {
  let lfn = pfn;
  if (localroot) {
    const root = localroot.replace(/\/+$/, '');
    if (!pfn.startsWith(root + '/')) return { problem: `Pfn ${JSON.stringify(pfn)} is outside the localroot ${root}` };
    lfn = pfn.slice(root.length);
  }
  const inside = exports.some((e) => {
    const ex = e.replace(/\/+$/, '');
    return ex === '' || lfn === ex || lfn.startsWith(ex + '/');
  });
  if (!inside) return { problem: `Pfn ${JSON.stringify(pfn)} (LFN ${JSON.stringify(lfn)}) is outside every export (${exports.join(', ')})` };
  return { lfn };
}
