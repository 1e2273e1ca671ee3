// Drives the read-request parsers over real files, sync (scanner workers) or async (CLI,
// repair), and reads entry bytes through their local headers.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BadLocalHeader, TruncatedArchive } from './errors.js';
import { LFH_SIZE, SIG_LFH } from './zip-constants.js';
import { parseZipDirectory, type DirectoryOptions, type ReadRequest, type ZipDirectory, type ZipEntry } from './zip-directory.js';

function shortRead(req: ReadRequest, got: number): never {
  throw new TruncatedArchive(`file ended while reading ${req.length} bytes (got ${got}); it shrank or was cut short`, req.position + got);
}

export function runSync<T>(gen: Generator<ReadRequest, T, Buffer>, fd: number): T {
  let step = gen.next(Buffer.alloc(0));
  while (!step.done) {
    const req = step.value;
    const buf = Buffer.allocUnsafe(req.length);
    let got = 0;
    while (got < req.length) {
      const n = readSync(fd, buf, got, req.length - got, req.position + got);
      if (n === 0) shortRead(req, got);
      got += n;
    }
    step = gen.next(buf);
  }
  return step.value;
}

export async function runAsync<T>(gen: Generator<ReadRequest, T, Buffer>, fh: FileHandle): Promise<T> {
  let step = gen.next(Buffer.alloc(0));
  while (!step.done) {
    const req = step.value;
    const buf = Buffer.allocUnsafe(req.length);
    let got = 0;
    while (got < req.length) {
      const { bytesRead } = await fh.read(buf, got, req.length - got, req.position + got);
      if (bytesRead === 0) shortRead(req, got);
      got += bytesRead;
    }
    step = gen.next(buf);
  }
  return step.value;
}

/** Reads an entry's bytes after checking its local header against the central one. */
export function* parseEntryData(entry: ZipEntry, cdOffset: number): Generator<ReadRequest, Buffer, Buffer> {
  const nameLen = Buffer.byteLength(entry.name, 'latin1');
  // One read covers header + name + data when the local header has no extra field (XrdEc below 4 GiB).
  const guess = Math.min(LFH_SIZE + nameLen + entry.size, cdOffset - entry.lfhOffset);
  const first: Buffer = yield { position: entry.lfhOffset, length: guess };
  if (first.length < LFH_SIZE + nameLen || first.readUInt32LE(0) !== SIG_LFH) {
    throw new BadLocalHeader(`no local header for entry ${entry.name}`, entry.lfhOffset);
  }
  const name = first.toString('latin1', LFH_SIZE, LFH_SIZE + nameLen);
  if (first.readUInt16LE(26) !== nameLen || name !== entry.name) {
    throw new BadLocalHeader(`local header names ${JSON.stringify(name)}, central directory ${JSON.stringify(entry.name)}`, entry.lfhOffset + 26);
  }
  const extraLen = first.readUInt16LE(28);
  const dataAt = entry.lfhOffset + LFH_SIZE + nameLen + extraLen;
  if (dataAt + entry.size > cdOffset) {
    throw new BadLocalHeader(`entry ${entry.name} data (${entry.size} bytes at ${dataAt}) overlaps the central directory`, entry.lfhOffset + 28);
  }
  if (extraLen === 0) return first.subarray(LFH_SIZE + nameLen, LFH_SIZE + nameLen + entry.size);
  return yield { position: dataAt, length: entry.size };
}

export function readZipDirectorySync(fd: number, opts?: DirectoryOptions): ZipDirectory {
  return runSync(parseZipDirectory(fstatSync(fd).size, opts), fd);
}

export async function readZipDirectory(fh: FileHandle, opts?: DirectoryOptions): Promise<ZipDirectory> {
  const st = await fh.stat();
  return runAsync(parseZipDirectory(st.size, opts), fh);
}

export function readZipDirectoryFileSync(path: string, opts?: DirectoryOptions): ZipDirectory {
  const fd = openSync(path, 'r');
  try {
    return readZipDirectorySync(fd, opts);
  } finally {
    closeSync(fd);
  }
}

export async function readZipDirectoryFile(path: string, opts?: DirectoryOptions): Promise<ZipDirectory> {
  const fh = await open(path, 'r');
  try {
    return await readZipDirectory(fh, opts);
  } finally {
    await fh.close();
  }
}

export function readEntrySync(fd: number, dir: ZipDirectory, entry: ZipEntry): Buffer {
  return runSync(parseEntryData(entry, dir.cdOffset), fd);
}

export async function readEntry(fh: FileHandle, dir: ZipDirectory, entry: ZipEntry): Promise<Buffer> {
  return runAsync(parseEntryData(entry, dir.cdOffset), fh);
}

/**
 * Runs a parser over bytes that sit at `base` in a virtual file. Reads outside them go to
 * `outside` (e.g. a real read of the file); without it they fail as truncation.
 */
export function runOnBytes<T>(gen: Generator<ReadRequest, T, Buffer>, bytes: Buffer, base = 0, outside?: (req: ReadRequest) => Buffer): T {
  let step = gen.next(Buffer.alloc(0));
  while (!step.done) {
    const req = step.value;
    const start = req.position - base;
    if (start < 0 || start + req.length > bytes.length) {
      if (!outside) throw new TruncatedArchive(`bytes ${req.position}..${req.position + req.length} are not available`, req.position);
      step = gen.next(outside(req));
      continue;
    }
    step = gen.next(bytes.subarray(start, start + req.length));
  }
  return step.value;
}

/** One bounded pread of a file by path (for reads a tail buffer did not cover). */
export function preadFileSync(path: string, req: ReadRequest): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(req.length);
    let got = 0;
    while (got < req.length) {
      const n = readSync(fd, buf, got, req.length - got, req.position + got);
      if (n === 0) shortRead(req, got);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
