// One archive a stripe rebuild reads from. Kept minimal so a remote implementation (the
// Stripes gRPC service between agents) can stand in for the local file one below.
import { open, type FileHandle } from 'node:fs/promises';
import { EcguardError } from '../../errors.js';
import { readEntry as readZipEntry, readZipDirectory } from '../archive-io.js';
import { readEcXattrs, type EcXattrs } from '../xattrs.js';
import type { ZipDirectory, ZipEntry } from '../zip-directory.js';

export interface StripeSource {
  /** Names the archive in reports and errors (a path, or server:path for a peer). */
  readonly id: string;
  /** The archive's central directory (bounded reads; never entry data). */
  directory(): Promise<ZipDirectory>;
  /** The stored bytes of one entry of directory(); the caller checks the CRC. */
  readEntry(entry: ZipEntry): Promise<Buffer>;
  xattrs(): Promise<EcXattrs>;
  /**
   * Optional (a peer): the stored bytes of many entries of directory(), in the given order, over
   * one paced stream instead of a call per entry. The caller checks CRCs and closes it.
   */
  openEntryStream?(entries: readonly ZipEntry[]): EntryStream;
}

/** Entries in order: next() i-th time gives the i-th entry's bytes (or fails); bytes in flight stay bounded. */
export interface EntryStream {
  next(): Promise<Buffer>;
  /** Stops the stream (what is still in flight is dropped); harmless twice. */
  close(): void;
}

export interface LocalArchiveSource extends StripeSource {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * A source over a local archive file. The file is opened once, so every read goes to the same
 * inode even if the path is replaced meanwhile; close() releases it.
 */
export function localArchiveSource(path: string): LocalArchiveSource {
  let handle: Promise<FileHandle> | undefined;
  let dir: Promise<ZipDirectory> | undefined;
  let closed = false;
  // After close() nothing reopens the file: a read-ahead still in flight when a rebuild gave up
  // would otherwise open a handle nobody closes (a descriptor leaked per such read).
  const fh = (): Promise<FileHandle> => (closed ? Promise.reject(new EcguardError('SOURCE_CLOSED', `${path}: the source was closed`)) : (handle ??= open(path, 'r')));
  const directory = (): Promise<ZipDirectory> => (dir ??= fh().then((h) => readZipDirectory(h)));
  return {
    id: path,
    path,
    directory,
    async readEntry(entry: ZipEntry): Promise<Buffer> {
      const d = await directory();
      return readZipEntry(await fh(), d, entry);
    },
    xattrs: () => readEcXattrs(path),
    async close(): Promise<void> {
      closed = true;
      const h = handle;
      handle = undefined;
      dir = undefined;
      if (h) await (await h.catch(() => undefined))?.close();
    },
  };
}

/** Closes every local source, ignoring close errors (the reads are done). */
export async function closeSources(sources: readonly LocalArchiveSource[]): Promise<void> {
  await Promise.all(sources.map((s) => s.close().catch(() => undefined)));
}
