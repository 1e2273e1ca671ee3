// An ArchiveRef comes from another machine: it is checked like hostile input before it names a
// file. Only `<space>/<XX>/<name>%` on a known, readable disk resolves, and the file is opened
// without following a symlink, so a ref can never reach outside the disk's space. Also what a
// ref's archive shows a peer (its tail and EC xattrs), and where ecguard error codes become
// gRPC status codes for this service.
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { getAttribute, listAttributes } from 'fs-xattr';
import type { ArchiveRef } from '../../proto/gen/ecguard/v1/repair.js';
import type { ArchiveTail, MetadataFile } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError, errnoCode, errorText } from '../../shared/errors.js';
import { runAsync, runOnBytes } from '../../shared/xrdec/archive-io.js';
import { metadataMembersOf } from '../../shared/xrdec/mt-file.js';
import { parseZipDirectory, type ReadRequest } from '../../shared/xrdec/zip-directory.js';
import { SCAN_XATTRS } from '../scan/raw-data-file.js';
import { readTailQuick } from './archive-tail-native.js';
import type { StripesContext, StripesDisk } from './stripes-context.js';

export interface ResolvedArchive {
  readonly disk: StripesDisk;
  /** Relative to the disk, as given (validated). */
  readonly dataPath: string;
  /** `<disk.path>/<dataPath>`. */
  readonly path: string;
}

const BUCKET_RE = /^[0-9A-F]{2}$/;
const NAME_RE = /^[^/\0]+%$/;
const MAX_DATA_PATH = 1024;

/** Checks `ref` against the context: a known disk that can be read (online or downgraded), a clean data path. */
export function resolveArchiveRef(ctx: StripesContext, ref: ArchiveRef | undefined): ResolvedArchive {
  if (ref === undefined) throw new EcguardError('BAD_ARCHIVE_REF', 'no archive reference given');
  const disk = usableDisk(ctx, ref.diskId, false);
  const p = ref.dataPath;
  const parts = p.split('/');
  const [space, bucket, name] = parts;
  const bad =
    p.length > MAX_DATA_PATH ? 'is too long' :
    p.includes('..') ? 'contains ".."' :
    parts.length !== 3 || name === undefined ? 'is not <space>/<XX>/<name>%' :
    space !== disk.space ? `is not in the disk's space ${JSON.stringify(disk.space)}` :
    !BUCKET_RE.test(bucket ?? '') ? 'has no <XX> bucket (two uppercase hex digits)' :
    !NAME_RE.test(name) ? 'does not name a data file (<name>%)' : undefined;
  if (bad !== undefined) throw new EcguardError('BAD_ARCHIVE_REF', `data path ${JSON.stringify(p.slice(0, 200))} on disk ${disk.diskId} ${bad}`);
  return { disk, dataPath: p, path: `${disk.path.replace(/\/+$/, '')}/${p}` };
}

/**
 * The disk for a ref or a placement; errors say which check failed. `forWrite` also requires
 * it online: a downgraded disk is still read from, but nothing new is put on it.
 */
export function usableDisk(ctx: StripesContext, diskId: string, forWrite: boolean): StripesDisk {
  const disk = ctx.disk(diskId);
  if (disk === undefined) throw new EcguardError('UNKNOWN_DISK', `server ${ctx.serverId} has no disk ${JSON.stringify(diskId.slice(0, 200))}`);
  if (disk.state === 'missing' || disk.state === 'failed') {
    throw new EcguardError('DISK_NOT_USABLE', `disk ${diskId} on ${ctx.serverId} is ${disk.state}`);
  }
  if (forWrite && disk.state !== 'online') {
    throw new EcguardError('DISK_NOT_WRITABLE', `disk ${diskId} on ${ctx.serverId} is ${disk.state}: nothing new is placed on it`);
  }
  return disk;
}

/**
 * Opens the archive read-only: the bucket must be a real directory and the file a regular file
 * reached without a symlink (O_NOFOLLOW), so a planted link cannot expose other files.
 */
export async function openArchive(r: ResolvedArchive): Promise<FileHandle> {
  const bucketDir = r.path.slice(0, r.path.lastIndexOf('/'));
  let fh: FileHandle | undefined;
  try {
    const st = await lstat(bucketDir);
    if (!st.isDirectory()) throw new EcguardError('BAD_ARCHIVE_REF', `${r.dataPath}: the bucket ${bucketDir} is not a directory (a symlink?)`);
    fh = await open(r.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    if (!(await fh.stat()).isFile()) throw new EcguardError('BAD_ARCHIVE_REF', `${r.dataPath} on disk ${r.disk.diskId} is not a regular file`);
    return fh;
  } catch (err) {
    await fh?.close().catch(() => undefined);
    if (err instanceof EcguardError) throw err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new EcguardError('ARCHIVE_NOT_FOUND', `no archive ${r.dataPath} on disk ${r.disk.diskId}`, { cause: err });
    if (code === 'ELOOP') throw new EcguardError('BAD_ARCHIVE_REF', `${r.dataPath} on disk ${r.disk.diskId} is a symlink: refused`, { cause: err });
    throw new EcguardError('ARCHIVE_UNREADABLE', `${r.dataPath} on disk ${r.disk.diskId} cannot be opened (${code ?? errorText(err)})`, { cause: err });
  }
}

/** Tails (CD + end records) above this are refused: no XrdEc archive comes near it. */
export const MAX_TAIL_BYTES = 64 * 1024 * 1024;
// The attributes XrdEc and xrootd set (XRDEC-FORMAT.md), the same the scan and the fast path read.
const ALLOWED_XATTR: ReadonlySet<string> = new Set(SCAN_XATTRS);

/**
 * What ReadMetadata answers: the whole `.mt` file (it holds only directories), after checking
 * that it is one (members named by placement index), so a peer cannot read other files this way.
 */
export async function readMetadataBytes(r: ResolvedArchive): Promise<MetadataFile> {
  const fh = await openArchive(r);
  try {
    const size = (await fh.stat()).size;
    if (size > MAX_TAIL_BYTES) throw tooLarge(size);
    const data = Buffer.alloc(size);
    const { bytesRead } = await fh.read(data, 0, size, 0);
    if (bytesRead !== size) throw new EcguardError('ARCHIVE_NOT_FOUND', `${r.dataPath} shrank while read`);
    try {
      metadataMembersOf(data);
    } catch (err) {
      throw new EcguardError('NOT_METADATA', `${r.dataPath} on disk ${r.disk.diskId} is not an XrdEc .mt file: ${errorText(err)}`, { cause: err });
    }
    return { data };
  } finally {
    await fh.close();
  }
}

/**
 * What ReadDirectory answers: every byte the directory parser reads (from `offset` to the end,
 * so the peer's run of the same parser over them asks for nothing else) and the EC xattrs.
 */
export async function readArchiveTail(r: ResolvedArchive): Promise<ArchiveTail> {
  const slash = r.path.lastIndexOf('/');
  const quick = await readTailQuick(r.path.slice(0, slash), r.path.slice(slash + 1), (size, window, base) => {
    let from = size;
    runOnBytes(recordReads(parseZipDirectory(size), (req) => (from = Math.min(from, req.position))), window, base);
    return from;
  });
  return quick ?? readArchiveTailFs(r);
}

/** The async fs path: what answers when the fast path cannot, with the reason when it fails. */
export async function readArchiveTailFs(r: ResolvedArchive): Promise<ArchiveTail> {
  const fh = await openArchive(r);
  try {
    const fileSize = (await fh.stat()).size;
    let from = fileSize;
    await runAsync(recordReads(parseZipDirectory(fileSize), (req) => (from = Math.min(from, req.position))), fh);
    if (fileSize - from > MAX_TAIL_BYTES) throw tooLarge(fileSize - from);
    const tail = Buffer.alloc(fileSize - from);
    for (let got = 0; got < tail.length;) {
      const { bytesRead } = await fh.read(tail, got, tail.length - got, from + got);
      if (bytesRead === 0) throw new EcguardError('ARCHIVE_UNREADABLE', `${r.dataPath} shrank while being read`);
      got += bytesRead;
    }
    return { fileSize, offset: from, tail, xattrs: await archiveXattrs(r.path) };
  } finally {
    await fh.close();
  }
}

function tooLarge(n: number): EcguardError {
  return new EcguardError('TAIL_TOO_LARGE', `the archive's directory and end records span ${n} bytes, over the ${MAX_TAIL_BYTES}-byte limit`);
}

/** Passes a parser's reads through, telling `seen` about each and refusing huge ones before they are made. */
function* recordReads<T>(gen: Generator<ReadRequest, T, Buffer>, seen: (req: ReadRequest) => void): Generator<ReadRequest, T, Buffer> {
  let step = gen.next(Buffer.alloc(0));
  while (!step.done) {
    if (step.value.length > MAX_TAIL_BYTES) throw tooLarge(step.value.length);
    seen(step.value);
    step = gen.next(yield step.value);
  }
  return step.value;
}

/** The archive's XrdEc attributes and Pfn, nothing else (other xattrs are not the peer's business). */
async function archiveXattrs(path: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of (await listAttributes(path)).filter((n) => ALLOWED_XATTR.has(n))) {
    out[name] = await getAttribute(path, name);
  }
  return out;
}

const STATUS_OF: Readonly<Record<string, grpc.status>> = {
  BAD_ARCHIVE_REF: grpc.status.INVALID_ARGUMENT,
  BAD_PLACE_STREAM: grpc.status.INVALID_ARGUMENT,
  BAD_ENTRY: grpc.status.INVALID_ARGUMENT,
  USAGE: grpc.status.INVALID_ARGUMENT,
  UNKNOWN_DISK: grpc.status.NOT_FOUND,
  ARCHIVE_NOT_FOUND: grpc.status.NOT_FOUND,
  UNKNOWN_ENTRY: grpc.status.NOT_FOUND,
  DISK_NOT_USABLE: grpc.status.UNAVAILABLE,
  DISK_NOT_READY: grpc.status.UNAVAILABLE,
  ARCHIVE_UNREADABLE: grpc.status.UNAVAILABLE,
  DISK_NOT_WRITABLE: grpc.status.FAILED_PRECONDITION,
  LINK_EXISTS: grpc.status.FAILED_PRECONDITION,
  NAMESPACE_MISSING: grpc.status.FAILED_PRECONDITION,
  TAIL_TOO_LARGE: grpc.status.FAILED_PRECONDITION,
  NOT_METADATA: grpc.status.FAILED_PRECONDITION,
  ENTRY_TOO_LARGE: grpc.status.FAILED_PRECONDITION,
  NO_FREE_NAME: grpc.status.RESOURCE_EXHAUSTED,
  VERIFY_FAILED: grpc.status.DATA_LOSS,
  PERMISSION: grpc.status.PERMISSION_DENIED,
  CANCELLED: grpc.status.CANCELLED,
};

// Format errors of the archive itself (shared/xrdec/errors.ts): the stored data is damaged.
const ARCHIVE_CODES = new Set(['TRUNCATED_ARCHIVE', 'NOT_A_ZIP', 'BAD_EOCD', 'BAD_CENTRAL_DIRECTORY', 'BAD_LOCAL_HEADER', 'NOT_XRDEC_ENTRY', 'CRC_MISMATCH']);

export function grpcStatusOf(err: unknown): grpc.status {
  if (err instanceof EcguardError) {
    if (ARCHIVE_CODES.has(err.code)) return grpc.status.DATA_LOSS;
    return STATUS_OF[err.code] ?? grpc.status.INTERNAL;
  }
  const errno = errnoCode(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return grpc.status.RESOURCE_EXHAUSTED;
  if (errno === 'EIO' || errno === 'EROFS') return grpc.status.UNAVAILABLE;
  return grpc.status.INTERNAL;
}

/** Trailer that carries the ecguard code, so a peer can keep it next to the gRPC status. */
export const CODE_TRAILER = 'ecguard-code';

/** A status object for grpc-js: `CODE: message`, and the code in the trailer. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> & { code: grpc.status; details: string } {
  const code = err instanceof EcguardError ? err.code : errnoCode(err) ?? 'INTERNAL';
  const metadata = new grpc.Metadata();
  metadata.set(CODE_TRAILER, code);
  return { code: grpcStatusOf(err), details: `${code}: ${errorText(err)}`, metadata };
}
