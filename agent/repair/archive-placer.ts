// Writes one rebuilt archive onto a data server disk exactly as xrootd would hold it
// (XRDEC-FORMAT.md §A, §F): `<disk>/<space>/<XX>/<xrootd-style name>%` with the survivors'
// xrdec.strpver and xrdec.filesize, user.XrdFrm.Pfn = link path + NUL, then the namespace
// symlink. Crash-safe order (each step durable before the next makes anything visible):
//   1. entries + central directory into `.ecguard-tmp-<task>-<slot>.part` in the bucket
//      (the scanner ignores names not ending in %), xattrs set on it, fsync; the name and bucket
//      are fixed per (task, slot), so an interrupted write is resumed by the retry
//      (partial-archive.ts) instead of starting over;
//   2. ledger record (task, slot) → final name, fsync'ed (placement-ledger.ts);
//   3. link(temp, final) — fails rather than replace anything — unlink temp, fsync the bucket;
//   4. the namespace symlink last, never over an existing entry (namespace-link.ts).
// A crash leaves at most a temp file (resumed by a retry, or removed by cleanupTempFiles
// (temp-cleanup.ts) once old) or a complete data file whose symlink is missing (a retry of the same task and slot
// finds it and links it).
// The bucket is opened once by descriptor (disk-dir.ts) and every step names its files through
// that descriptor, the xattrs through the file's own: the xrootd account owns the space and
// bucket directories and may swap one for a symlink meanwhile; root never follows it.
import { randomInt } from 'node:crypto';
import { closeSync, fchownSync, fstatSync, fsyncSync, linkSync, lstatSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { setAttributeSync } from 'fs-xattr';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { EcguardError, errnoCode, errorText, UsageError } from '../../shared/errors.js';
import { faultPoint } from '../../shared/fault-point.js';
import { ArchiveFileWriter } from '../../shared/xrdec/archive-writer.js';
import { bucketOf, dataFileName } from '../../shared/xrdec/data-file-name.js';
import { FILESIZE, STRPVER, type XattrNamespace } from '../../shared/xrdec/xattrs.js';
import { dosTimestamp } from '../../shared/xrdec/zip-constants.js';
import { DiskDir, fdPath } from './disk-dir.js';
import { occupied } from './durable-fs.js';
import { checkLinkPath, createNamespaceLink, linkOccupant, replaceableLink } from './namespace-link.js';
import { openPartialForWrite, partialBucketByte, partialName, scanPartial } from './partial-archive.js';
import { checkTaskSlot, findPlaced, repairMarker, REPAIR_XATTR, writeLedgerRecord, type PlacedRecord } from './placement-ledger.js';
import type { DosTime, LayoutEntry } from '../../shared/xrdec/zip-layout.js';
import { getCodec } from '../../shared/codec/index.js';
import { directoryDigest } from '../../shared/xrdec/directory-digest.js';
import { DirectoryMismatch } from '../../shared/xrdec/rebuild/kept-directory.js';

export { TEMP_PREFIX } from './partial-archive.js';

/** Continue the partial archive of an earlier attempt: keep its first `entries` entries. */
export interface ResumeFrom {
  readonly entries: number;
  readonly crcKind?: CrcKind;
  readonly codec: ErasureCodec;
}

export interface PlaceTarget {
  /** The disk directory (oss.space PATH). */
  readonly diskPath: string;
  readonly space: string;
  /** `<localroot><LFN>`: the namespace symlink to create, and the Pfn. */
  readonly linkPath: string;
  /** `<localroot><export>`: must exist; never created. */
  readonly namespaceRoot: string;
  readonly taskId: string;
  /** Which of the task's new archives this is (0-based). */
  readonly slot: number;
  /** The survivors' raw xrdec.strpver / xrdec.filesize texts, written byte for byte. */
  readonly version: { readonly strpverText: string; readonly filesizeText: string };
  /** Default `user.U.`: what XrdEc writing through an xrootd server leaves. */
  readonly xattrNamespace?: XattrNamespace;
  /** This server's xrootd address, for the data file name (default 127.0.0.1:1094). */
  readonly server?: { readonly ipv4: readonly [number, number, number, number]; readonly port: number };
  readonly time?: Date;
  /**
   * The path of a failed or missing disk of this server (re-checked by the caller right before):
   * a symlink at linkPath pointing into it is replaced instead of refused.
   */
  readonly replaceLinkInto?: string;
  /**
   * Asked again right before the link is swapped (not only when the placement opened): false
   * leaves the link as it is. For a link into a readable disk: it must still point at the very
   * archive the scrub found corrupt.
   */
  readonly replaceLinkOnlyIf?: () => boolean;
  /** The central directory digest the archive must end with (kept-directory.ts); checked at seal. */
  readonly directoryDigest?: string;
  /** An object's `.mt` copy (metadata-copy.ts): written without xrdec.* attributes, as XrdEc does. */
  readonly metadataFile?: boolean;
}

export interface PlacedArchive {
  readonly path: string;
  readonly linkPath: string;
  readonly linked: boolean;
  readonly linkProblem?: string;
  readonly size: number;
  readonly entries: number;
}

export class AlreadyPlaced extends EcguardError {
  constructor(readonly placed: PlacedRecord, taskId: string, slot: number) {
    super('ALREADY_PLACED', `task ${taskId} slot ${slot} already wrote ${placed.path}: not writing a second archive`);
  }
}

// Name fields that cannot repeat an xrootd name: our own start time and pid, a random counter.
const START_TIME = Math.floor(Date.now() / 1000 - process.uptime());
let counter = randomInt(0, 0x100000000);
const DECIMAL = /^[0-9]{1,15}$/;
const MAX_NAME_TRIES = 4096;
// (disk, task, slot) placements open in this process: a second one at the same time (a task
// re-sent while its first run still writes) is refused, so the ledger check cannot race.
const OPEN = new Set<string>();

/** A placement of (task, slot) is being written on this disk right now (by this process). */
export function isPlacementOpen(diskPath: string, taskId: string, slot: number): boolean {
  return OPEN.has(`${diskPath}\0${taskId}\0${slot}`);
}

export class ArchivePlacement {
  private fd: number | undefined;
  private entries: number;
  private done = false;
  private sealed = false;
  /** OPEN no longer holds our key (aborted, suspended or published): the temp name is not ours to touch. */
  private released = false;
  private tail = 0;
  private readonly dev: number;
  private readonly ino: number;

  private readonly bucketDir: string;
  /** The temp file's real path, for messages. */
  private readonly temp: string;

  private constructor(private readonly t: PlaceTarget, private readonly dir: DiskDir, private readonly tempName: string, private counter: number, fd: number, private readonly key: string,
    private readonly writer: ArchiveFileWriter, readonly resumed: readonly LayoutEntry[]) {
    this.bucketDir = dir.path;
    this.temp = `${dir.path}/${tempName}`;
    this.fd = fd;
    this.entries = resumed.length;
    const st = fstatSync(fd);
    this.dev = st.dev;
    this.ino = st.ino;
  }

  /**
   * Checks everything that needs no data, then opens the temp file (fresh, or the partial of an
   * earlier attempt cut after `resume.entries` good entries). Writes nothing when it throws.
   */
  static open(t: PlaceTarget, resume?: ResumeFrom): ArchivePlacement {
    checkTaskSlot(t.taskId, t.slot);
    checkLinkPath(t.linkPath, t.namespaceRoot);
    for (const [name, v] of [['strpver', t.version.strpverText], ['filesize', t.version.filesizeText]] as const) {
      if (!DECIMAL.test(v)) throw new UsageError(`xrdec.${name} ${JSON.stringify(v)} is not a plain decimal`);
    }
    const key = `${t.diskPath}\0${t.taskId}\0${t.slot}`;
    if (OPEN.has(key)) throw new EcguardError('PLACEMENT_BUSY', `task ${t.taskId} slot ${t.slot} is being written right now by another run of the task: not writing a second archive`);
    const placed = findPlaced(t.diskPath, t.taskId, t.slot);
    if (placed) throw new AlreadyPlaced(placed, t.taskId, t.slot);
    const occupant = t.replaceLinkInto !== undefined && replaceableLink(t.linkPath, t.replaceLinkInto) ? undefined : linkOccupant(t.linkPath);
    if (occupant) throw new EcguardError('LINK_EXISTS', `${occupant}: not overwritten; nothing written (the coordinator decides)`);
    if (!isDir(t.namespaceRoot)) throw new EcguardError('NAMESPACE_MISSING', `namespace root ${t.namespaceRoot} does not exist (not mounted?): nothing written`);
    // The bucket is fixed per (task, slot) (the final name keeps the temp file's bucket).
    const c = ((counter & ~0xff) | partialBucketByte(t.taskId, t.slot)) >>> 0;
    counter = (counter + 0x100) >>> 0;
    const dir = openBucket(t, bucketOf(c));
    try {
      const name = partialName(t.taskId, t.slot);
      const temp = dir.at(name);
      const time = dosTimestamp(t.time ?? new Date());
      if (resume && resume.entries > 0) {
        const kept = scanPartial(temp, resume.crcKind, resume.codec, resume.entries);
        if (kept.entries.length < resume.entries) {
          throw new EcguardError('RESUME_MISMATCH', `task ${t.taskId} slot ${t.slot}: the partial archive holds ${kept.entries.length} good entries, not the ${resume.entries} to resume after; the next attempt starts over`);
        }
        const fd = openPartialForWrite(temp, kept.end, `${dir.path}/${name}`); // drops a torn tail
        OPEN.add(key);
        return new ArchivePlacement(t, dir, name, c, fd, key, ArchiveFileWriter.resume(fd, kept.time ?? time, kept), kept.entries);
      }
      const fd = openPartialForWrite(temp, 0, `${dir.path}/${name}`); // a stale partial of this (task, slot) starts over
      try {
        const like = dir.stat();
        fchownSync(fd, like.uid, like.gid); // by fd: never a name swapped in meanwhile
      } catch (err) {
        closeSync(fd);
        rmSync(temp, { force: true });
        throw err;
      }
      OPEN.add(key);
      return new ArchivePlacement(t, dir, name, c, fd, key, new ArchiveFileWriter(fd, time), []);
    } catch (err) {
      const e = dir.relabel(err);
      dir.close();
      throw e;
    }
  }

  append(e: { readonly name: string; readonly data: Uint8Array; readonly crc: number; readonly time?: DosTime | undefined }): void {
    if (this.fd === undefined) throw new EcguardError('PLACEMENT_CLOSED', 'append after commit or abort');
    this.writer.append(e.name, e.data, e.crc, e.time);
    this.entries++;
  }

  /** Publishes the archive (steps 1-4 above). On failure before the link step, nothing stays. */
  commit(): PlacedArchive {
    this.seal();
    return this.publishSealed();
  }

  /**
   * Step 1 alone: central directory, xattrs, fsync, close. The complete archive then sits under
   * its temp name (invisible to xrootd and the scanner) so it can be verified before publishing.
   */
  seal(): string {
    const fd = this.fd;
    if (fd === undefined) throw new EcguardError('PLACEMENT_CLOSED', 'seal after commit or abort');
    const t = this.t;
    try {
      const tail = this.writer.finish();
      this.tail = tail.length;
      // An archive that must keep a known directory (an object with .mt files) is never published
      // with another one: the .mt members would then describe an archive that is not there.
      if (t.directoryDigest !== undefined && directoryDigest(getCodec(), tail) !== t.directoryDigest) {
        throw new DirectoryMismatch(`the written directory has digest ${directoryDigest(getCodec(), tail)}, not ${t.directoryDigest} as the .mt member of the lost archive: not publishing it`);
      }
      const ns = t.xattrNamespace ?? 'user.U.';
      // On the file we wrote (by its descriptor), whatever its name leads to by now.
      const file = fdPath(fd, this.temp);
      if (!t.metadataFile) {
        setAttributeSync(file, ns + STRPVER, Buffer.from(t.version.strpverText, 'latin1'));
        setAttributeSync(file, ns + FILESIZE, Buffer.from(t.version.filesizeText, 'latin1'));
      }
      setAttributeSync(file, 'user.XrdFrm.Pfn', Buffer.concat([Buffer.from(t.linkPath, 'utf8'), Buffer.from([0])]));
      setAttributeSync(file, REPAIR_XATTR, Buffer.from(repairMarker(t.taskId, t.slot), 'latin1'));
      fsyncSync(fd);
      closeSync(fd);
      this.fd = undefined;
      this.sealed = true;
      return this.tempPath;
    } catch (err) {
      const e = this.dir.relabel(err);
      this.abort();
      throw e;
    }
  }

  /**
   * The sealed temp file, for reading it back (verification) before publishSealed: a path
   * through the bucket's descriptor, valid until the placement is published or dropped.
   */
  get tempPath(): string {
    return this.dir.at(this.tempName);
  }

  /** Steps 2-4 after seal(). On failure before the link step, nothing stays. */
  publishSealed(): PlacedArchive {
    if (!this.sealed || this.done || this.released) throw new EcguardError('PLACEMENT_CLOSED', 'publish before seal, after abort, or twice');
    const t = this.t;
    try {
      let finalPath: string;
      try {
        finalPath = this.publish();
      } catch (err) {
        throw this.dir.relabel(err);
      }
      this.done = true;
      this.release();
      faultPoint('repair-after-rename');
      const size = this.entries > 0 ? this.writer.size + this.tail : 0;
      let link;
      try {
        link = createNamespaceLink(t.linkPath, finalPath, t.namespaceRoot, replaceIntoNow(t));
      } catch (err) {
        link = { linked: false, problem: `cannot create the symlink: ${errorText(err)}` };
      }
      return { path: finalPath, linkPath: t.linkPath, linked: link.linked, ...(link.problem ? { linkProblem: link.problem } : {}), size, entries: this.entries };
    } finally {
      if (!this.done) this.abort();
    }
  }

  /**
   * Keeps what was written (fsync'ed) under the partial name, for a retry to resume; the
   * placement is closed. Falls back to abort() when the data cannot be made durable.
   */
  suspend(): void {
    if (this.done || this.sealed || this.fd === undefined) return this.abort();
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    } catch {
      return this.abort();
    }
    this.release();
  }

  /** Drops the temp file (idempotent; a published archive stays). */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    // Once released, another run of this (task, slot) may own the temp name (and the OPEN key).
    if (this.released) return;
    try {
      if (!this.done && this.ownsTemp()) rmSync(this.tempPath, { force: true });
    } finally {
      this.release();
    }
  }

  // The bucket's descriptor goes with the key: a later run of (task, slot) opens its own.
  private release(): void {
    if (this.released) return;
    this.released = true;
    OPEN.delete(this.key);
    this.dir.close();
  }

  /** The temp name still names the file this placement created (not a later run's). */
  private ownsTemp(): boolean {
    try {
      const st = lstatSync(this.tempPath);
      return st.isFile() && st.dev === this.dev && st.ino === this.ino;
    } catch {
      return false;
    }
  }

  /** Ledger record, then a no-replace link to a free xrootd-style name; returns the final path. */
  private publish(): string {
    const t = this.t;
    this.checkInPlace();
    const server = t.server ?? { ipv4: [127, 0, 0, 1] as const, port: 1094 };
    for (let i = 0; i < MAX_NAME_TRIES; i++, this.counter = (this.counter + 0x100) >>> 0) {
      // Same low byte: the name stays in the temp file's bucket, as xrootd's bucket = counter & 0xff.
      const name = dataFileName({ startTime: START_TIME, pid: process.pid, port: server.port, ipv4: server.ipv4, counter: this.counter }, t.diskPath, t.space);
      const finalPath = `${this.bucketDir}/${name}`;
      if (occupied(this.dir.at(name))) continue;
      if (!this.ownsTemp()) throw new EcguardError('PLACEMENT_LOST', `${this.temp} is no longer the file this placement wrote: not publishing it`);
      writeLedgerRecord(t.diskPath, t.taskId, t.slot, finalPath.slice(t.diskPath.length + 1));
      try {
        linkSync(this.tempPath, this.dir.at(name));
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') continue;
        throw err;
      }
      unlinkSync(this.tempPath);
      this.dir.fsync();
      return finalPath;
    }
    throw new EcguardError('NO_FREE_NAME', `no free data file name in ${this.bucketDir} after ${MAX_NAME_TRIES} tries`);
  }

  // The ledger record and the namespace link name the bucket by path: it must still be the
  // directory written in (a bucket moved away, or swapped for a symlink, is not published into).
  private checkInPlace(): void {
    const t = this.t;
    const held = this.dir.stat();
    let now: DiskDir;
    try {
      now = DiskDir.open(t.diskPath, [t.space, bucketOf(this.counter)]);
    } catch (err) {
      throw new EcguardError('PLACEMENT_MOVED', `${this.bucketDir} is no longer the directory ${this.temp} was written in (${errorText(err)}): not publishing it`, { cause: err });
    }
    try {
      const st = now.stat();
      if (st.dev !== held.dev || st.ino !== held.ino) throw new EcguardError('PLACEMENT_MOVED', `${this.bucketDir} was replaced by another directory since ${this.temp} was written there: not publishing it`);
    } finally {
      now.close();
    }
  }
}

// The bucket (created owned like the space directory when missing); the space directory must exist.
function openBucket(t: PlaceTarget, bucket: string): DiskDir {
  try {
    return DiskDir.open(t.diskPath, [t.space, bucket], { existing: 1, durable: true });
  } catch (err) {
    // A missing space directory means the disk is not there (xrootd would not start either).
    if (errnoCode(err) === 'ENOENT') throw new EcguardError('DISK_NOT_READY', `${t.diskPath}/${t.space} does not exist: the disk is missing or not mounted; nothing written`, { cause: err });
    throw err;
  }
}

/** Writes `entries` as one archive and publishes it; nothing stays behind when it fails. */
export async function placeArchive(t: PlaceTarget, entries: Iterable<RebuiltLike> | AsyncIterable<RebuiltLike>): Promise<PlacedArchive> {
  const p = ArchivePlacement.open(t);
  try {
    for await (const e of entries) p.append(e);
    return p.commit();
  } catch (err) {
    p.abort();
    throw err;
  }
}

type RebuiltLike = { readonly name: string; readonly data: Uint8Array; readonly crc: number };

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The directory whose links may be replaced now (undefined: replace none), after the target's last re-check. */
export function replaceIntoNow(t: Pick<PlaceTarget, 'replaceLinkInto' | 'replaceLinkOnlyIf'>): string | undefined {
  if (t.replaceLinkInto === undefined) return undefined;
  return t.replaceLinkOnlyIf === undefined || t.replaceLinkOnlyIf() ? t.replaceLinkInto : undefined;
}
