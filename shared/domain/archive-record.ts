// Domain types an agent produces and the coordinator consumes (DESIGN.md §6). Wire types are
// converted to and from these in one place (shared/wire/, with the protocol).
import type { CrcKind } from '../codec/codec.js';
import type { XattrNamespace } from '../xrdec/xattrs.js';

/** How far an archive's zip structure could be read. */
export type ParseStatus =
  | 'ok'
  | 'empty' // 0-byte archive: the empty object (valid when xrdec.filesize is 0)
  | 'truncated'
  | 'bad-eocd'
  | 'bad-cd'
  | 'not-zip'
  | 'not-ec' // a zip whose entries are not obj.<block>.<stripe>
  | 'unreadable'; // I/O error while reading it

export interface ArchiveRecord {
  readonly serverId: string;
  readonly diskId: string;
  readonly space: string;
  /** Path of the data file relative to the disk (space path): `<space>/<XX>/<name>%`. */
  readonly dataPath: string;
  /** Namespace symlink pointing at this data file, when one was found. */
  readonly nsPath?: string;
  /** user.XrdFrm.Pfn as read (trailing NUL removed); absent when missing or hostile. */
  readonly pfn?: string;
  /** The LFN: from the symlink when there is one, else from the Pfn, minus the localroot. */
  readonly lfn?: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly inode: number;
  readonly strpver?: number;
  readonly filesize?: number;
  readonly xattrNamespace?: XattrNamespace;
  readonly nblocks: number;
  readonly nentries: number;
  readonly crcKind?: CrcKind;
  /** Exactly one stripe per block for blocks 0..nblocks-1. */
  readonly regular: boolean;
  /** block → stripes held; only when not regular. */
  readonly stripeMap?: Readonly<Record<number, readonly number[]>>;
  readonly parseStatus: ParseStatus;
  /** Why parsing failed (error code and message), when it did. */
  readonly parseError?: string;
  /** Digest of the central directory bytes (hex), to notice changed archives cheaply. */
  readonly cdDigest?: string;
}

export type FindingKind =
  | 'data-without-symlink' // data file whose Pfn names no symlink pointing back at it
  | 'dangling-symlink' // namespace symlink whose target data file does not exist
  | 'stale-pfn' // symlink → data file whose Pfn names another path (after a directory mv)
  | 'duplicate-lfn' // two data files claim one LFN
  | 'hostile-pfn' // Pfn outside the export, with `..`, NUL or invalid UTF-8: never followed
  | 'missing-pfn' // data file without user.XrdFrm.Pfn
  | 'foreign-symlink' // namespace symlink not pointing into any known space
  | 'bad-archive' // data file that is not a readable XrdEc archive
  | 'bad-xattrs' // xrdec.* attributes missing or malformed
  | 'unreadable' // EACCES, EIO, ... while reading a file or directory
  | 'vanished' // removed while being scanned
  | 'unexpected-entry'; // something that is not a data file where data files live

export type Severity = 'info' | 'warning' | 'error';

export interface Finding {
  readonly kind: FindingKind;
  readonly severity: Severity;
  /** Absolute path the finding is about. */
  readonly path: string;
  readonly diskId?: string;
  readonly lfn?: string;
  /** One sentence for people. */
  readonly reason: string;
  /** Facts behind it (errno, other path, Pfn bytes in hex, ...). */
  readonly evidence?: Readonly<Record<string, string | number | boolean>>;
}
