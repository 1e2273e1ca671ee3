// The quarantine of one data disk: `<disk>/.ecguard-quarantine/<orderId>/` holds the moved data
// file (`archive`, the same inode: a hard link, so xattrs and bytes are untouched) and
// `manifest.json`, which says where it came from, why, and which namespace symlink went with it.
// The directory sits beside the space directories, not in them, so neither xrootd nor the scan
// sees what is inside. It must be the agent's own and private (0700): where the xrootd account
// owns the disk root it can rename ours away and make its own, with planted manifests and links
// (review: root then truncated a live file through a planted hard link), so a directory that is
// not ours is refused, and manifests are read and written without following anything.
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { EcguardError, errnoCode } from '../../shared/errors.js';
import { DiskDir, requireOwnPrivate } from '../repair/disk-dir.js';

export const QUARANTINE_DIR = '.ecguard-quarantine';
export const QUARANTINED_FILE = 'archive';
export const MANIFEST_NAME = 'manifest.json';
const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MANIFEST_MAX = 64 * 1024;

export interface QuarantineManifest {
  readonly version: 1;
  readonly orderId: string;
  /** begun: written before the move (a crash leaves it to recovery); done: moved. */
  readonly state: 'begun' | 'done';
  /** When the order was carried out (ms); retention counts from here. */
  readonly at: number;
  readonly lfn: string;
  readonly reason: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly inode: number;
  readonly size: number;
  /** The namespace symlink pointing at the data file when quarantined: removed with it. */
  readonly link?: { readonly path: string; readonly target: string };
  readonly linkRemoved?: boolean;
}

export function checkOrderId(id: string): void {
  if (!ORDER_ID.test(id)) throw new EcguardError('BAD_ORDER', `quarantine order id ${JSON.stringify(id)} is not 1-64 letters, digits, "_" or "-"`);
}

const requirePrivate = (dir: DiskDir): DiskDir => requireOwnPrivate(dir, 'QUARANTINE_UNSAFE');

/** The quarantine root of a disk (made, root-only, when `create`), or undefined when it has none. */
export function openQuarantineRoot(diskPath: string, create = false): DiskDir | undefined {
  try {
    return requirePrivate(DiskDir.open(diskPath, [QUARANTINE_DIR], create ? { existing: 0, mode: 0o700, ownLikeParent: false, durable: true } : {}));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** One order's directory inside an open quarantine root (made when `create`); undefined when absent. */
export function openOrderIn(root: DiskDir, orderId: string, create: boolean): DiskDir | undefined {
  checkOrderId(orderId);
  try {
    return requirePrivate(DiskDir.open(root.here, [orderId], { label: root.path, ...(create ? { existing: 0, mode: 0o700, ownLikeParent: false, durable: true } : {}) }));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function readManifest(dir: DiskDir): QuarantineManifest | undefined {
  let fd: number;
  try {
    fd = openSync(dir.at(MANIFEST_NAME), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw dir.relabel(err);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MANIFEST_MAX) throw new EcguardError('BAD_MANIFEST', `${dir.path}/${MANIFEST_NAME} is not a small regular file: left alone`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    text = buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
  let m: QuarantineManifest;
  try {
    m = JSON.parse(text) as QuarantineManifest;
  } catch {
    throw new EcguardError('BAD_MANIFEST', `${dir.path}/${MANIFEST_NAME} is not JSON: left alone`);
  }
  if (m.version !== 1 || typeof m.orderId !== 'string' || typeof m.dataPath !== 'string' || typeof m.inode !== 'number' || typeof m.at !== 'number') {
    throw new EcguardError('BAD_MANIFEST', `${dir.path}/${MANIFEST_NAME} is not a quarantine manifest this agent understands: left alone`);
  }
  return m;
}

/** Writes the manifest durably: a fresh temp file (never an existing one), fsync, rename, fsync of the directory. */
export function writeManifest(dir: DiskDir, m: QuarantineManifest): void {
  const tmp = dir.at(`${MANIFEST_NAME}.tmp`);
  try {
    unlinkSync(tmp);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw dir.relabel(err);
  }
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, JSON.stringify(m, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, dir.at(MANIFEST_NAME));
  dir.fsync();
}
