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
import type { ZipDirectory } from '../../shared/xrdec/zip-directory.js';
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
  /** Set when the archive as a whole could not be read (open, or its directory): nothing was checked. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ArchiveScrubOptions {
  /** Awaited before each entry is read with its size: the scrub's rate limit. */
  readonly take?: (bytes: number) => Promise<void>;
  readonly signal?: AbortSignal;
}

/** At most this many problems are kept per archive (a shredded archive fails every entry). */
const MAX_PROBLEMS = 1000;

export async function scrubArchive(path: string, codec: ErasureCodec, o: ArchiveScrubOptions = {}): Promise<ArchiveScrub> {
  let fh: FileHandle;
  try {
    fh = await openQuietly(path);
  } catch (err) {
    return { path, entries: 0, bytes: 0, mixedCrcKinds: false, problems: [], error: { code: errnoCode(err) ?? 'EIO', message: errorText(err) } };
  }
  try {
    const st = await fh.stat();
    const identity: ArchiveIdentity = { inode: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    let dir: ZipDirectory;
    try {
      dir = await readZipDirectory(fh);
    } catch (err) {
      return { path, entries: 0, bytes: 0, mixedCrcKinds: false, problems: [], error: { code: 'BAD_ARCHIVE', message: errorText(err) } };
    }
    const problems: ScrubbedEntryProblem[] = [];
    const kinds = new Set<CrcKind>();
    let entries = 0;
    let bytes = 0;
    for (const e of dir.entries) {
      if (o.signal?.aborted) break;
      await o.take?.(e.size);
      entries++;
      const id = parseEntryName(e.name);
      const where = id ? { block: id.block, stripe: id.stripe } : {};
      let data: Buffer;
      try {
        data = await readEntry(fh, dir, e);
      } catch (err) {
        if (problems.length < MAX_PROBLEMS) problems.push({ name: e.name, ...where, kind: 'unreadable', reason: errorText(err) });
        continue;
      }
      bytes += data.length;
      const stored = e.crc >>> 0;
      if (data.length === 0) {
        if (stored !== 0 && problems.length < MAX_PROBLEMS) problems.push({ name: e.name, ...where, kind: 'crc-mismatch', expectedCrc: stored, foundCrc: 0, reason: 'an empty entry with a non-zero CRC' });
        continue;
      }
      const c = codec.crc32c(data) >>> 0;
      if (c === stored) {
        kinds.add('crc32c');
        continue;
      }
      const z = codec.crc32(data) >>> 0;
      if (z === stored) {
        kinds.add('crc32');
        continue;
      }
      if (problems.length < MAX_PROBLEMS) {
        const found = kinds.has('crc32') && !kinds.has('crc32c') ? z : c;
        problems.push({ name: e.name, ...where, kind: 'crc-mismatch', expectedCrc: stored, foundCrc: found, reason: `CRC ${hex(found)}, the directory records ${hex(stored)}` });
      }
    }
    const kind = kinds.size === 1 ? [...kinds][0] : undefined;
    return { path, entries, bytes, ...(kind ? { crcKind: kind } : {}), mixedCrcKinds: kinds.size > 1, problems, identity };
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
