// The quarantine of one data disk: `<disk>/.ecguard-quarantine/<orderId>/` holds the moved data
// file (`archive`, the same inode: a hard link, so xattrs and bytes are untouched) and
// `manifest.json`, which says where it came from, why, and which namespace symlink went with it.
// The directory sits beside the space directories, not in them, so neither xrootd nor the scan
// sees what is inside; it is root's (0700): the xrootd account cannot reach or swap it.
import { closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { EcguardError, errnoCode } from '../../shared/errors.js';
import { DiskDir } from '../repair/disk-dir.js';

export const QUARANTINE_DIR = '.ecguard-quarantine';
export const QUARANTINED_FILE = 'archive';
const MANIFEST = 'manifest.json';
const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

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

/** Opens (creating it root-only) the quarantine directory of one order. */
export function openOrderDir(diskPath: string, orderId: string): DiskDir {
  checkOrderId(orderId);
  return DiskDir.open(diskPath, [QUARANTINE_DIR, orderId], { existing: 0, mode: 0o700, ownLikeParent: false, durable: true });
}

/** Opens the quarantine root of a disk, or undefined when it has none. */
export function openQuarantineRoot(diskPath: string): DiskDir | undefined {
  try {
    return DiskDir.open(diskPath, [QUARANTINE_DIR]);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function readManifest(dir: DiskDir): QuarantineManifest | undefined {
  let text: string;
  try {
    text = readFileSync(dir.at(MANIFEST), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw dir.relabel(err);
  }
  const m = JSON.parse(text) as QuarantineManifest;
  if (m.version !== 1 || typeof m.orderId !== 'string' || typeof m.dataPath !== 'string' || typeof m.inode !== 'number') {
    throw new EcguardError('BAD_MANIFEST', `${dir.path}/${MANIFEST} is not a quarantine manifest this agent understands`);
  }
  return m;
}

/** Writes the manifest durably: temp file, fsync, rename, fsync of the directory. */
export function writeManifest(dir: DiskDir, m: QuarantineManifest): void {
  const tmp = dir.at(`${MANIFEST}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, JSON.stringify(m, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, dir.at(MANIFEST));
  dir.fsync();
}

export const MANIFEST_NAME = MANIFEST;
