// Reads what an xrootd data server leaves on a disk: the data file's name fields and xattrs
// (XRDEC-FORMAT.md §A), so tests can state the observed facts directly.
import { chmodSync, readlinkSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';

export interface DataFileFacts {
  /** user.XrdFrm.Pfn raw bytes (with its trailing NUL). */
  pfnRaw: Buffer;
  /** Pfn without the trailing NUL. */
  pfn: string;
  /** user.U.<k> → raw value, keyed by <k>. */
  userAttrs: Record<string, Buffer>;
  /** Every xattr name on the file. */
  names: string[];
}

export function readDataFileFacts(path: string): DataFileFacts {
  const names = listAttributesSync(path);
  const pfnRaw = names.includes('user.XrdFrm.Pfn') ? getAttributeSync(path, 'user.XrdFrm.Pfn') : Buffer.alloc(0);
  const end = pfnRaw.length > 0 && pfnRaw[pfnRaw.length - 1] === 0 ? pfnRaw.length - 1 : pfnRaw.length;
  const userAttrs: Record<string, Buffer> = {};
  for (const n of names) if (n.startsWith('user.U.')) userAttrs[n.slice('user.U.'.length)] = getAttributeSync(path, n);
  return { pfnRaw, pfn: pfnRaw.subarray(0, end).toString('utf8'), userAttrs, names };
}

export interface DataFileName {
  /** Server start time, Unix seconds (u32 stored in memory order). */
  startTime: number;
  pid: number;
  /** Raw 12 lowercase hex chars: 2 port bytes + IPv4 address. */
  portHex: string;
  ipv4: string;
  counter: number;
  /** Offset of the space name in the link target = length of `<diskdir>/` mod 256. */
  spaceOffset: number;
  /** Length of the space name (15 means "15 or more"). */
  spaceLen: number;
}

const NAME_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9a-f]{4})([0-9a-f]{8})([0-9A-F]{8})([0-9A-Fa-f]{2})([0-9A-Fa-f])%$/;

/** Parses an IPv4 data file name, or returns undefined when it does not have the §A shape. */
export function parseDataFileName(name: string): DataFileName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const g = (i: number): string => m[i] as string;
  const le = (hex: string): number => Buffer.from(hex, 'hex').readUInt32LE(0);
  const ip = Buffer.from(g(4), 'hex');
  return {
    startTime: le(g(1)),
    pid: le(g(2)),
    portHex: g(3) + g(4),
    ipv4: [...ip].join('.'),
    counter: le(g(5)),
    spaceOffset: parseInt(g(6), 16),
    spaceLen: parseInt(g(7), 16),
  };
}

/** Every regular file below `<disk>/<space>/`: the data files of that disk. */
export function dataFilesOn(disk: string, space: string): string[] {
  const top = join(disk, space);
  const out: string[] = [];
  let buckets: string[];
  try {
    buckets = readdirSync(top);
  } catch {
    return out;
  }
  for (const b of buckets) {
    for (const f of readdirSync(join(top, b))) if (statSync(join(top, b, f)).isFile()) out.push(join(top, b, f));
  }
  return out.sort();
}

/** Data files on any of the disks whose Pfn names `nsPath`. */
export function claimsOf(disks: string[], space: string, nsPath: string): string[] {
  return disks.flatMap((d) => dataFilesOn(d, space)).filter((f) => readDataFileFacts(f).pfn === nsPath);
}

export function linkTarget(nsPath: string): string {
  return readlinkSync(nsPath);
}

/** Runs `fn` with `disk` at mode 000 (as if unreadable), then restores it. */
export function withDiskUnreadable(disk: string, fn: () => void): void {
  const mode = statSync(disk).mode & 0o7777;
  chmodSync(disk, 0);
  try {
    fn();
  } finally {
    chmodSync(disk, mode);
  }
}

/** Runs `fn` with `disk` renamed away (as if unmounted), then puts it back. */
export function withDiskGone(disk: string, fn: () => void): void {
  renameSync(disk, `${disk}.away`);
  try {
    fn();
  } finally {
    renameSync(`${disk}.away`, disk);
  }
}
