// `ecguard disk accept PATH`: the operator says the disk now mounted at PATH is the disk the
// agent knew there, after its marker went missing (deleted by hand, or written under the mount
// point by an agent that saw the directory before the disk was mounted). The marker is written
// again with the identity the agent stored; the agent then sees the disk online and rescans it,
// so the inventory it reports is what the disk really holds. With `replaced`, the disk is a new
// one (swapped, reformatted): it gets a new identity, and the agent reports the old disk's
// archives gone (disk.replaced).
import Database from 'better-sqlite3';
import { existsSync, fsyncSync, closeSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EcguardError, errnoCode } from '../../shared/errors.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { fsyncDir } from '../repair/durable-fs.js';
import { MARKER_FILE, readMarker, type DiskMarker } from './disk-marker.js';

export interface DiskAcceptResult {
  readonly diskIds: string[];
  readonly path: string;
  readonly uuid: string;
  /** False: the marker already held this identity. */
  readonly written: boolean;
}

interface Stored {
  readonly uuid?: string;
  /** The agent saw the disk as a mount point: then only a mount point is accepted. */
  readonly mountPoint: boolean;
}

/** What the agent stored of these disks (its state DB, read-only: the agent may be running). */
function stored(stateDir: string, diskIds: readonly string[]): Stored {
  const file = join(stateDir, 'agent.sqlite');
  if (!existsSync(file)) return { mountPoint: false };
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new EcguardError('STATE_UNREADABLE', `cannot read the agent's state ${file}: ${errnoCode(err) ?? String(err)}: check stateDir in the agent config`, { cause: err });
  }
  try {
    let mountPoint = false;
    for (const id of diskIds) {
      const r = db.prepare('SELECT uuid, mount_point FROM disks WHERE disk_id = ?').get(id) as { uuid: string | null; mount_point: number } | undefined;
      mountPoint ||= r?.mount_point === 1;
      if (r?.uuid) return { uuid: r.uuid, mountPoint };
    }
    return { mountPoint };
  } finally {
    db.close();
  }
}

export function acceptDisk(disks: readonly DiskSpec[], path: string, stateDir: string, serverId: string, o: { readonly replaced?: boolean } = {}): DiskAcceptResult {
  const want = path.replace(/\/+$/, '') || '/';
  const mine = disks.filter((d) => d.path === want);
  if (mine.length === 0) throw new EcguardError('DISK_UNKNOWN', `${path} is not a disk of this agent (known: ${disks.map((d) => d.path).join(', ') || 'none'})`);
  const diskIds = mine.map((d) => d.diskId);
  let st;
  try {
    st = statSync(want);
  } catch (err) {
    throw new EcguardError('DISK_NOT_MOUNTED', `${want}: ${errnoCode(err) ?? 'cannot stat'}: mount the disk first`);
  }
  const known = stored(stateDir, diskIds);
  const mountPoint = statSync(dirname(want)).dev !== st.dev;
  // A disk the agent knew as a mount point must be one again: a stale space directory under an
  // unmounted mount point is not the disk (the marker would land on the root filesystem).
  if (known.mountPoint && !mountPoint) throw new EcguardError('DISK_NOT_MOUNTED', `${want} is not a mount point, and the agent knew it as one: mount the disk first`);
  if (!mountPoint && !mine.some((d) => existsSync(join(want, d.space)))) throw new EcguardError('DISK_NOT_MOUNTED', `${want} is not a mount point and holds no space directory: mount the disk first`);
  for (const d of mine) {
    if (d.chkmount !== undefined && !existsSync(d.chkmount)) throw new EcguardError('DISK_NOT_MOUNTED', `the chkmount file ${d.chkmount} is absent: xrootd would not use this disk; mount it first`);
  }
  const uuid = o.replaced ? randomUUID() : known.uuid;
  if (uuid === undefined) throw new EcguardError('DISK_NO_IDENTITY', `the agent (state ${stateDir}) knows no identity for ${want}: nothing to accept; it writes the marker itself once the disk is mounted (a new disk: --replaced)`);
  const markerPath = join(want, MARKER_FILE);
  const cur = readMarker(markerPath);
  if (cur.kind === 'not-regular') throw new EcguardError('DISK_MARKER_NOT_FILE', `${markerPath} is not a regular file (${cur.what}): remove it first`);
  if (cur.kind === 'invalid' || cur.kind === 'io-error') throw new EcguardError('DISK_MARKER_INVALID', `${markerPath} cannot be read as a marker${cur.kind === 'invalid' ? ` (${cur.problem})` : ' (EIO)'}: nothing written; look at it, then remove it if it is not ours`);
  if (cur.kind === 'ok' && o.replaced) throw new EcguardError('DISK_HAS_MARKER', `${markerPath} holds ${cur.marker.uuid}: the disk has an identity; remove the marker first if this really is a new disk`);
  if (cur.kind === 'ok' && cur.marker.uuid !== uuid) {
    throw new EcguardError('DISK_OTHER_IDENTITY', `${markerPath} holds ${cur.marker.uuid}, the agent knew ${uuid} here: this is another disk, not accepted (a new disk: remove its marker, then --replaced)`);
  }
  if (cur.kind === 'ok') return { diskIds, path: want, uuid, written: false };
  const marker: DiskMarker = { uuid, createdAt: new Date().toISOString(), serverId, path: want };
  // Temp file then rename: the marker is never half written, and a link at its name is replaced, not followed.
  const tmp = join(want, `${MARKER_FILE}.${randomUUID()}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, JSON.stringify({ ...marker, acceptedAt: marker.createdAt }, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, markerPath);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  fsyncDir(want); // the rename survives a power cut
  return { diskIds, path: want, uuid, written: true };
}
