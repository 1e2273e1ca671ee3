// Scrub of one archive (DESIGN.md §3 Scrub): read every entry's stored bytes and compare its
// CRC with the one the central directory records. The archive is opened once, without
// following a symlink and (when allowed) without touching its atime, and only read.
//
// The CRC kind is decided per entry: CRC-32C (XrdEc with ISA-L) first, zlib's CRC-32 only when
// that does not match. An entry that matches neither is corrupt; an archive whose entries
// match different kinds is reported as such (not corruption, but not what XrdEc writes).
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { errnoCode, errorText } from '../../shared/errors.js';
import { readEntry, readZipDirectory } from '../../shared/xrdec/archive-io.js';
import { parseEntryName } from '../../shared/xrdec/entry-name.js';
import type { ZipDirectory, ZipEntry } from '../../shared/xrdec/zip-directory.js';
import type { ScrubbedEntryProblem } from '../../shared/domain/scrub-finding.js';
import type { ArchiveIdentity } from '../state/corrupt-store.js';

export type { ScrubbedEntryProblem };


export interface ArchiveScrub {
  readonly path: string;
  /** Entries read (with or without a problem). */
  readonly entries: number;
  /** Stored bytes read. */
  readonly bytes: number;
  readonly crcKind?: CrcKind;
  readonly mixedCrcKinds: boolean;
  readonly problems: readonly ScrubbedEntryProblem[];
  /** The file that was read (fstat of the open descriptor): what a finding is about. */
  readonly identity?: ArchiveIdentity;
  /** The caller already knows this file (skip() said so): nothing was read. */
  readonly skipped?: boolean;
  /** Entries larger than any chunk XrdEc writes: not read. */
  readonly skippedEntries?: number;
  /** Set when the archive as a whole could not be read (open, or its directory): nothing was checked. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ArchiveScrubOptions {
  /** Awaited before each entry is read with its size: the scrub's rate limit. */
  readonly take?: (bytes: number) => Promise<void>;
  readonly signal?: AbortSignal;
  /** Asked with the opened file's identity before anything is read: true skips it. */
  readonly skip?: (id: ArchiveIdentity) => boolean;
}

/** At most this many problems are kept per archive (a shredded archive fails every entry). */
const MAX_PROBLEMS = 100;
/** Entries are read whole; one larger than this (not what XrdEc writes: a chunk) is not read. */
const MAX_ENTRY = 64 << 20;
/** The central directory the scrub reads at most (a 1 MiB-chunk archive of 1 TB has ~14 MB). */
const MAX_DIRECTORY = 32 << 20;

export async function scrubArchive(path: string, codec: ErasureCodec, o: ArchiveScrubOptions = {}): Promise<ArchiveScrub> {
  const none = { path, entries: 0, bytes: 0, mixedCrcKinds: false, problems: [] };
  let fh: FileHandle;
  try {
    fh = await openQuietly(path);
  } catch (err) {
    return { ...none, error: { code: errnoCode(err) ?? 'EIO', message: errorText(err) } };
  }
  try {
    const st = await fh.stat();
    const identity: ArchiveIdentity = { inode: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    if (o.skip?.(identity)) return { ...none, identity, skipped: true };
    let dir: ZipDirectory;
    try {
      // any member names: an object's .mt file (a zip of the archives' directories) is checked too
      dir = await readZipDirectory(fh, { maxCentralDirectory: MAX_DIRECTORY, names: 'any' });
    } catch (err) {
      return { ...none, identity, error: { code: 'BAD_ARCHIVE', message: errorText(err) } };
    }
    await o.take?.(dir.tail.length);
    const kinds = new Set<CrcKind>();
    let entries = 0;
    let bytes = 0;
    let skippedEntries = 0;
    // One entry read and checked: a problem, or undefined when its CRC matches one of the kinds.
    const check = async (e: ZipEntry): Promise<ScrubbedEntryProblem | undefined> => {
      const id = parseEntryName(e.name);
      const where = id ? { block: id.block, stripe: id.stripe } : {};
      let data: Buffer;
      try {
        data = await readEntry(fh, dir, e);
      } catch (err) {
        return { name: e.name, ...where, kind: 'unreadable', reason: errorText(err) };
      }
      bytes += data.length;
      const stored = e.crc >>> 0;
      if (data.length === 0) return stored === 0 ? undefined : { name: e.name, ...where, kind: 'crc-mismatch', expectedCrc: stored, foundCrc: 0, reason: 'an empty entry with a non-zero CRC' };
      const c = codec.crc32c(data) >>> 0;
      if (c === stored) {
        kinds.add('crc32c');
        return undefined;
      }
      const z = codec.crc32(data) >>> 0;
      if (z === stored) {
        kinds.add('crc32');
        return undefined;
      }
      const found = kinds.has('crc32') && !kinds.has('crc32c') ? z : c;
      return { name: e.name, ...where, kind: 'crc-mismatch', expectedCrc: stored, foundCrc: found, reason: `CRC ${hex(found)}, the directory records ${hex(stored)}` };
    };
    let bad: ZipEntry[] = [];
    for (const e of dir.entries) {
      if (o.signal?.aborted) break;
      if (e.size > MAX_ENTRY) {
        skippedEntries++;
        continue;
      }
      await o.take?.(e.size + 30 + e.name.length);
      entries++;
      if ((await check(e)) !== undefined) bad.push(e);
    }
    // A bad entry is read once more (a transient read error, or a write racing the first read),
    // and the file must still be the one that was opened: a finding is never about a file that
    // changed while it was read.
    const problems: ScrubbedEntryProblem[] = [];
    for (const e of bad.slice(0, MAX_PROBLEMS)) {
      if (o.signal?.aborted) break;
      const p = await check(e);
      if (p) problems.push(p);
    }
    bad = [];
    const after = await fh.stat();
    if (problems.length > 0 && (after.ino !== st.ino || after.size !== st.size || after.mtimeMs !== st.mtimeMs)) {
      return { ...none, identity, error: { code: 'CHANGED', message: 'the file changed while it was read: checked again on the next pass' } };
    }
    const kind = kinds.size === 1 ? [...kinds][0] : undefined;
    return { path, entries, bytes, ...(kind ? { crcKind: kind } : {}), mixedCrcKinds: kinds.size > 1, problems, identity, ...(skippedEntries > 0 ? { skippedEntries } : {}) };
  } catch (err) {
    return { ...none, error: { code: errnoCode(err) ?? 'EIO', message: errorText(err) } };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Opened read-only, never through a symlink; O_NOATIME where the kernel allows it (owner or root). */
async function openQuietly(path: string): Promise<FileHandle> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  try {
    return await open(path, flags | constants.O_NOATIME);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') throw err;
    return open(path, flags);
  }
}

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
