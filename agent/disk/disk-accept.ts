// `ecguard disk accept PATH`: the operator says the disk now mounted at PATH is the disk the
// agent knew there, after its marker went missing (deleted by hand, or written under the mount
// point by an agent that saw the directory before the disk was mounted). The marker is written
// again with the identity the agent stored; the agent then sees the disk online and rescans it,
// so the inventory it reports is what the disk really holds. With `replaced`, the disk is a new
// one (swapped, reformatted): it gets a new identity, and the agent reports the old disk's
// archives gone (disk.replaced). With `clearDowngrade`, the operator has looked at a disk the
// scrub downgraded and trusts it again: the marker names that downgrade (clearedDowngradeAt, its
// time as the agent stored it), and the agent sees the disk online at its next check, unless the
// scrub found more meanwhile. The archives found corrupt stay unreadable.
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EcguardError, errnoCode } from '../../shared/errors.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { MARKER_FILE, operatorDowngradeOf, readMarker, withMarkerLock, writeMarker, type DiskMarker } from './disk-marker.js';

export interface DiskAcceptResult {
  readonly diskIds: string[];
  readonly path: string;
  readonly uuid: string;
  /** False: the marker already held this identity. */
  readonly written: boolean;
  /** The scrub's downgrade of the disk is cleared (the marker says so). */
  readonly downgradeCleared: boolean;
  /** The disk stays downgraded (since this time): what the scrub found is in `ecguard disks`. */
  readonly downgradedSince?: string;
}

interface Stored {
  readonly uuid?: string;
  /** The agent saw the disk as a mount point: then only a mount point is accepted. */
  readonly mountPoint: boolean;
  /** When the scrub downgraded the disk. */
  readonly downgradedAt?: number;
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
    let uuid: string | undefined;
    let downgradedAt: number | undefined;
    for (const id of diskIds) {
      const r = db.prepare('SELECT uuid, mount_point, state, since FROM disks WHERE disk_id = ?').get(id) as { uuid: string | null; mount_point: number; state: string; since: number } | undefined;
      mountPoint ||= r?.mount_point === 1;
      uuid ??= r?.uuid ?? undefined;
      // an agent that has not run since disk_downgrades came kept the downgrade as the state only
      downgradedAt ??= downgradeOf(db, r?.uuid ?? `id:${id}`) ?? (r?.state === 'downgraded' ? r.since : undefined);
    }
    return { ...(uuid !== undefined ? { uuid } : {}), mountPoint, ...(downgradedAt !== undefined ? { downgradedAt } : {}) };
  } finally {
    db.close();
  }
}

function downgradeOf(db: Database.Database, key: string): number | undefined {
  try {
    return (db.prepare('SELECT at FROM downgrades WHERE disk_key = ?').get(key) as { at: number } | undefined)?.at;
  } catch {
    return undefined; // no such table yet
  }
}

export interface AcceptOptions {
  readonly replaced?: boolean;
  readonly clearDowngrade?: boolean;
}

/** One of the agent's disks, mounted at PATH as the agent knew it (what it stored of it included). */
export interface MountedDisk {
  readonly want: string;
  readonly diskIds: string[];
  readonly known: Stored;
}

/**
 * The agent's disk at `path`, checked to be mounted as the agent knew it: a stale directory under
 * an unmounted mount point is not the disk (anything written there lands on the root filesystem).
 */
export function mountedDisk(disks: readonly DiskSpec[], path: string, stateDir: string): MountedDisk {
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
  return { want, diskIds, known };
}

export function acceptDisk(disks: readonly DiskSpec[], path: string, stateDir: string, serverId: string, o: AcceptOptions = {}): DiskAcceptResult {
  const mounted = mountedDisk(disks, path, stateDir);
  return withMarkerLock(mounted.want, () => acceptLocked(mounted, stateDir, serverId, o));
}

function acceptLocked({ want, diskIds, known }: ReturnType<typeof mountedDisk>, stateDir: string, serverId: string, o: AcceptOptions): DiskAcceptResult {
  const markerPath = join(want, MARKER_FILE);
  const cur = readMarker(markerPath);
  // an operator's request the agent has not taken up yet (its next disk check) is a downgrade too
  const requested = cur.kind === 'ok' && !o.replaced ? operatorDowngradeOf(cur.marker) : undefined;
  const downgradedAt = known.downgradedAt ?? requested?.at;
  if (o.clearDowngrade && downgradedAt === undefined) {
    throw new EcguardError('DISK_NOT_DOWNGRADED', `the agent (state ${stateDir}) holds no downgrade for ${want}: nothing to clear, nothing written (ecguard disks shows each disk's state)`);
  }
  const uuid = o.replaced ? randomUUID() : known.uuid;
  if (uuid === undefined) throw new EcguardError('DISK_NO_IDENTITY', `the agent (state ${stateDir}) knows no identity for ${want}: nothing to accept; it writes the marker itself once the disk is mounted (a new disk: --replaced)`);
  if (cur.kind === 'not-regular') throw new EcguardError('DISK_MARKER_NOT_FILE', `${markerPath} is not a regular file (${cur.what}): remove it first`);
  if (cur.kind === 'invalid' || cur.kind === 'io-error') throw new EcguardError('DISK_MARKER_INVALID', `${markerPath} cannot be read as a marker${cur.kind === 'invalid' ? ` (${cur.problem})` : ' (EIO)'}: nothing written; look at it, then remove it if it is not ours`);
  if (cur.kind === 'ok' && o.replaced) throw new EcguardError('DISK_HAS_MARKER', `${markerPath} holds ${cur.marker.uuid}: the disk has an identity; remove the marker first if this really is a new disk`);
  if (cur.kind === 'ok' && cur.marker.uuid !== uuid) {
    throw new EcguardError('DISK_OTHER_IDENTITY', `${markerPath} holds ${cur.marker.uuid}, the agent knew ${uuid} here: this is another disk, not accepted (a new disk: remove its marker, then --replaced)`);
  }
  // a new disk holds none of what the scrub found on the old one
  const stillDowngraded = downgradedAt !== undefined && !o.replaced && !o.clearDowngrade ? { downgradedSince: new Date(downgradedAt).toISOString() } : {};
  const cleared = known.downgradedAt !== undefined && (o.replaced === true || o.clearDowngrade === true);
  if (cur.kind === 'ok' && !o.clearDowngrade) return { diskIds, path: want, uuid, written: false, downgradeCleared: false, ...stillDowngraded };
  const now = new Date().toISOString();
  const clear = o.clearDowngrade && downgradedAt !== undefined ? { clearedDowngradeAt: downgradedAt, downgradeClearedAt: now } : {};
  // a clear also withdraws the operator's request, or the agent would take it up again
  const { operatorDowngrade: _request, ...kept } = cur.kind === 'ok' ? cur.marker : ({} as Partial<DiskMarker>);
  const marker: DiskMarker = cur.kind === 'ok' ? { ...(o.clearDowngrade ? (kept as DiskMarker) : cur.marker), ...clear } : { uuid, createdAt: now, serverId, path: want, ...clear };
  writeMarker(want, marker, { acceptedAt: now });
  return { diskIds, path: want, uuid, written: true, downgradeCleared: cleared || (o.clearDowngrade === true && downgradedAt !== undefined), ...stillDowngraded };
}
