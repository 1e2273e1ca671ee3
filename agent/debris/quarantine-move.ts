// Carries out one quarantine order (DESIGN.md §8.1): re-checks, right before acting, that the data
// file is still the one the coordinator decided about (same inode, size, mtime, Pfn, strpver) and
// that its disk is online, then moves it aside and removes the namespace symlink that pointed at
// it (and only such a symlink). Every step goes through directories held open by descriptor
// (DiskDir), so a bucket or namespace directory swapped for a symlink cannot steer root elsewhere.
// A move is a hard link into the quarantine and an unlink of the old name: it never replaces
// anything, and the manifest is written first, so a crash at any point is finished or undone by
// recoverQuarantines.
import { linkSync, lstatSync, readlinkSync, rmdirSync, unlinkSync } from 'node:fs';
import { getAttributeSync } from 'fs-xattr';
import type { QuarantineOrder, QuarantineResult } from '../../shared/domain/debris-order.js';
import { EcguardError, errnoCode, errorText } from '../../shared/errors.js';
import { readEcXattrsSync } from '../../shared/xrdec/xattrs.js';
import { DiskDir } from '../repair/disk-dir.js';
import { MANIFEST_NAME, QUARANTINED_FILE, checkOrderId, openOrderIn, openQuarantineRoot, readManifest, writeManifest, type QuarantineManifest } from './quarantine-manifest.js';
import { namespaceDir, pointsAt } from './quarantine-link.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

export interface QuarantineDisk {
  readonly path: string;
  readonly state: string;
}

export interface QuarantineContext {
  disk(diskId: string): QuarantineDisk | undefined;
  /** The namespace root `nsPath` lies below (trusted configuration), or undefined if none. */
  namespaceRootOf(nsPath: string): string | undefined;
  now(): number;
  /** debris.retention: how long a quarantined archive is kept before the purge. */
  readonly retentionMs: number;
}

const refused = (o: QuarantineOrder, code: string, message: string): QuarantineResult => ({ orderId: o.orderId, outcome: 'refused', code, message: `${message}: nothing was moved` });

function splitDataPath(p: string): [string, string, string] | undefined {
  const parts = p.split('/');
  if (parts.length !== 3 || parts.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) return undefined;
  return parts as [string, string, string];
}

/** Why the file at `at` is no longer the ordered archive, or undefined when it still is. */
function changedBecause(o: QuarantineOrder, at: string): string | undefined {
  let st;
  try {
    st = lstatSync(at);
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 'the data file is gone' : `the data file cannot be examined (${errnoCode(err) ?? errorText(err)})`;
  }
  if (!st.isFile()) return 'the data file is no longer a regular file';
  if (st.ino !== o.inode) return `the data file is another inode now (${st.ino}, decided about ${o.inode})`;
  if (st.size !== o.size) return `the data file is ${st.size} bytes now, decided about ${o.size}`;
  if (Math.abs(st.mtimeMs - o.mtimeMs) >= 1) return 'the data file was modified since the decision';
  if (o.pfn !== undefined) {
    let pfn: string | undefined;
    try {
      pfn = getAttributeSync(at, 'user.XrdFrm.Pfn').toString('utf8').replace(/\0+$/, '');
    } catch {
      pfn = undefined;
    }
    if (pfn !== o.pfn) return `its user.XrdFrm.Pfn is ${JSON.stringify(pfn ?? null)} now, decided about ${JSON.stringify(o.pfn)}`;
  }
  if (o.strpver !== undefined && readEcXattrsSync(at).strpver !== o.strpver) return 'its xrdec.strpver changed since the decision';
  return undefined;
}

export function quarantineArchive(o: QuarantineOrder, ctx: QuarantineContext): QuarantineResult {
  const disk = ctx.disk(o.diskId);
  if (!disk) return refused(o, 'UNKNOWN_DISK', `${o.diskId} is not a disk of this agent`);
  // downgraded: readable and writable, it only takes no new placements (the scrub's damaged archives sit there)
  if (!diskReadable(disk.state)) return refused(o, 'DISK_NOT_ONLINE', `${o.diskId} is ${disk.state}, not online`);
  const parts = splitDataPath(o.dataPath);
  if (!parts) return refused(o, 'BAD_ORDER', `${JSON.stringify(o.dataPath)} is not <space>/<bucket>/<name>`);
  const abs = `${disk.path.replace(/\/+$/, '')}/${o.dataPath}`;
  let root: DiskDir | undefined;
  let qdir: DiskDir | undefined;
  let bucket: DiskDir | undefined;
  try {
    checkOrderId(o.orderId);
    // A re-sent order (the result was lost with the connection): done once, reported again.
    root = openQuarantineRoot(disk.path);
    const seen = root && openOrderIn(root, o.orderId, false);
    const earlier = seen ? readManifest(seen) : undefined;
    if (seen && earlier?.state === 'done') return done(o, seen, earlier, ctx);
    seen?.close();
    bucket = DiskDir.open(disk.path, [parts[0], parts[1]]);
    const at = bucket.at(parts[2]);
    const why = changedBecause(o, at);
    if (why !== undefined) return refused(o, 'ARCHIVE_CHANGED', `${abs}: ${why}`);
    root ??= openQuarantineRoot(disk.path, true) as DiskDir;
    qdir = openOrderIn(root, o.orderId, true) as DiskDir;
    let link: QuarantineManifest['link'];
    if (o.nsPath !== undefined && ctx.namespaceRootOf(o.nsPath) !== undefined && pointsAt(o.nsPath, abs)) link = { path: o.nsPath, target: abs };
    const m: QuarantineManifest = {
      version: 1, orderId: o.orderId, state: 'begun', at: ctx.now(), lfn: o.lfn, reason: o.reason,
      diskId: o.diskId, dataPath: o.dataPath, inode: o.inode, size: o.size, ...(link ? { link } : {}),
    };
    writeManifest(qdir, m);
    const changed = moveAside(bucket, parts[2], qdir, o);
    if (changed !== undefined) {
      dropOrderDir(root, qdir, o.orderId);
      return refused(o, 'ARCHIVE_CHANGED', `${abs}: ${changed} (seen while moving it; it is back under its name)`);
    }
    let linkRemoved = false;
    let linkNote = '';
    try {
      linkRemoved = link !== undefined && removeLinkIfOurs(link, ctx);
    } catch (err) {
      linkNote = `; its symlink could not be removed (${errorText(err)})`; // the archive is moved: that stands
    }
    const fin: QuarantineManifest = { ...m, state: 'done', linkRemoved };
    writeManifest(qdir, fin);
    const r = done(o, qdir, fin, ctx);
    return linkNote ? { ...r, message: r.message + linkNote } : r;
  } catch (err) {
    const code = err instanceof EcguardError ? err.code : errnoCode(err) ?? 'QUARANTINE_FAILED';
    return { orderId: o.orderId, outcome: 'failed', code, message: `quarantine of ${abs} failed: ${errorText(bucket?.relabel(err) ?? err)}` };
  } finally {
    bucket?.close();
    qdir?.close();
    root?.close();
  }
}

function done(o: QuarantineOrder, qdir: DiskDir, m: QuarantineManifest, ctx: QuarantineContext): QuarantineResult {
  return {
    orderId: o.orderId, outcome: 'quarantined', message: `moved to ${qdir.path}/${QUARANTINED_FILE}${m.linkRemoved && m.link ? `; symlink ${m.link.path} removed` : ''}`,
    quarantinePath: `${qdir.path}/${QUARANTINED_FILE}`, purgeAfterMs: m.at + ctx.retentionMs, ...(m.linkRemoved && m.link ? { linkRemoved: m.link.path } : {}),
  };
}

/**
 * Hard link into the quarantine, re-check through that name (an in-place rewrite since the first
 * check shows there: same inode, new size, mtime or strpver), unlink the old name if it is still
 * that inode, re-check once more. Returns why it stopped when the archive changed meanwhile: it
 * is then back under its old name and nothing else was touched.
 */
export function moveAside(bucket: DiskDir, name: string, qdir: DiskDir, o: QuarantineOrder): string | undefined {
  const dest = qdir.at(QUARANTINED_FILE);
  try {
    linkSync(bucket.at(name), dest);
  } catch (err) {
    // EEXIST: an earlier attempt linked it already (crash after link): fine if it is the same file
    if (errnoCode(err) !== 'EEXIST' || lstatSync(dest).ino !== o.inode) throw err;
  }
  qdir.fsync();
  const before = changedBecause(o, dest);
  if (before !== undefined || lstatSync(bucket.at(name)).ino !== o.inode) {
    unlinkSync(dest);
    qdir.fsync();
    return before ?? 'another file took its name';
  }
  unlinkSync(bucket.at(name));
  bucket.fsync();
  const after = changedBecause(o, dest);
  if (after !== undefined) {
    // written to between the re-check and the unlink: it is live, put it back (never over anything)
    linkSync(dest, bucket.at(name));
    bucket.fsync();
    unlinkSync(dest);
    qdir.fsync();
    return after;
  }
  return undefined;
}

/** Removes an order's own directory (its manifest, nothing else in it) after a refusal. */
function dropOrderDir(root: DiskDir, qdir: DiskDir, orderId: string): void {
  unlinkSync(qdir.at(MANIFEST_NAME));
  qdir.fsync();
  rmdirSync(root.at(orderId));
  root.fsync();
}

/** Removes `link` only if it still points at the quarantined file's old path. */
export function removeLinkIfOurs(link: { readonly path: string; readonly target: string }, ctx: QuarantineContext): boolean {
  const root = ctx.namespaceRootOf(link.path);
  if (root === undefined) return false;
  const dir = namespaceDir(root, link.path);
  if (!dir) return false;
  try {
    const at = dir.dir.at(dir.name);
    let target: string;
    try {
      target = readlinkSync(at);
    } catch {
      return false; // gone, or not a symlink: nothing of ours
    }
    if (target !== link.target) return false;
    unlinkSync(at);
    dir.dir.fsync();
    return true;
  } finally {
    dir.dir.close();
  }
}
