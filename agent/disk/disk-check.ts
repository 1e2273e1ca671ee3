// Disk health and identity for one oss.space path. Each space path carries a marker file
// `.ecguard-disk` with a UUID: a swapped or reformatted disk shows a new or missing marker, so
// its old archives are known to be gone. States: online, missing (path gone, no longer a mount
// point, not mounted yet, chkmount marker absent, or marker gone), failed (EIO, unreadable for
// xrootd, read-only, a marker that is not a regular file), downgraded (set by scrub; kept through
// missing and failed spells, until the marker says an operator cleared it or names a new disk).
import { randomUUID } from 'node:crypto';
import { accessSync, constants, lstatSync, readdirSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../../shared/errors.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { MARKER_FILE, operatorDowngradeOf, readMarker, type DiskMarker } from './disk-marker.js';
import { userCanEnter, type ServiceUser } from './service-user.js';

export { MARKER_FILE, type DiskMarker } from './disk-marker.js';

export type DiskState = 'online' | 'missing' | 'failed' | 'downgraded';

/** What was known about the disk before this check (from the agent's state). */
export interface KnownDisk {
  readonly uuid?: string;
  /** It was a mount point when first seen: losing that means the disk is gone. */
  readonly mountPoint?: boolean;
  /** The scrub's downgrade of the disk with this identity (marker UUID), if any. */
  readonly downgradeOf?: (uuid: string | undefined) => Downgrade | undefined;
}

/** A downgrade: when (its identity for a clear), what was found or asked for, and by whom. */
export interface Downgrade {
  readonly at: number;
  readonly evidence: readonly string[];
  readonly by: 'corruption' | 'operator';
  /** The operator's request last taken up (its time in the marker). */
  readonly requestAt?: number;
}

export interface DiskHealth {
  readonly diskId: string;
  readonly path: string;
  readonly state: DiskState;
  readonly uuid?: string;
  readonly mountPoint: boolean;
  /** Facts behind the state, in words (errno, modes, marker contents). */
  readonly evidence: string[];
  /** The marker names another disk than before: a replaced or reformatted disk. */
  readonly replaced?: { readonly oldUuid: string; readonly newUuid: string };
  readonly markerCreated?: boolean;
  /** The marker says an operator cleared the downgrade (`disk accept --clear-downgrade`). */
  readonly downgradeCleared?: boolean;
  /** A downgrade this check found requested in the marker (`ecguard disk downgrade`): to be stored. */
  readonly requestedDowngrade?: Downgrade;
  /** Who downgraded it, when the state is downgraded. */
  readonly downgradedBy?: 'corruption' | 'operator';
}

export interface DiskCheckOptions {
  readonly serverId: string;
  /** Create the marker on first sight (the agent does; read-only commands do not). */
  readonly createMarker: boolean;
  readonly serviceUser?: ServiceUser;
}

export function checkDisk(disk: DiskSpec, known: KnownDisk, o: DiskCheckOptions): DiskHealth {
  const base = { diskId: disk.diskId, path: disk.path };
  const fail = (state: DiskState, evidence: string[], mountPoint = false): DiskHealth => ({ ...base, state, evidence, mountPoint, ...(known.uuid ? { uuid: known.uuid } : {}) });
  let st: Stats;
  try {
    st = lstatSync(disk.path);
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' ? fail('missing', [`${disk.path} does not exist`]) : fail('failed', [`lstat ${disk.path}: ${code}`]);
  }
  if (!st.isDirectory()) return fail('missing', [`${disk.path} is no longer a directory (${st.isSymbolicLink() ? 'a symlink' : 'a file'})`]);
  if (disk.chkmount !== undefined) {
    // xrootd does not use the disk without it (or refuses to start): neither do we.
    try {
      statSync(disk.chkmount);
    } catch (err) {
      return fail('missing', [`chkmount marker ${disk.chkmount} is absent (${errnoCode(err) ?? 'error'}): xrootd skips this disk too; mount the disk`]);
    }
  }
  let mountPoint = false;
  try {
    mountPoint = statSync(dirname(disk.path)).dev !== st.dev;
  } catch {
    /* parent unreadable: cannot tell */
  }
  if (known.mountPoint && !mountPoint) {
    return fail('missing', [`${disk.path} is not a mount point any more (same st_dev ${st.dev} as its parent): the disk is not mounted`]);
  }
  if (known.uuid === undefined && !known.mountPoint && !mountPoint && !exists(`${disk.path}/${disk.space}`)) {
    // First sight of an empty mount point on the parent filesystem: a marker written now would
    // be hidden under the real disk once it is mounted, and that disk would be missing for good.
    return fail('missing', [`${disk.path} is not a mount point and holds no ${disk.space} directory: not mounted? mount it (a disk that really is a directory of its parent filesystem: mkdir ${disk.path}/${disk.space})`]);
  }
  const spaceDir = `${disk.path}/${disk.space}`;
  for (const dir of [disk.path, spaceDir]) {
    let dst: Stats;
    try {
      dst = statSync(dir);
      readdirSync(dir);
    } catch (err) {
      const code = errnoCode(err);
      if (dir === spaceDir && code === 'ENOENT') continue; // fresh disk: nothing stored yet
      return fail('failed', [`cannot read ${dir}: ${code}`], mountPoint);
    }
    if (o.serviceUser && !userCanEnter(dst, o.serviceUser)) {
      return fail('failed', [`${dir} has mode ${(dst.mode & 0o7777).toString(8).padStart(3, '0')} owner ${dst.uid}:${dst.gid}: user ${o.serviceUser.name} (xrootd) cannot read it`], mountPoint);
    }
  }
  try {
    accessSync(disk.path, constants.W_OK);
  } catch (err) {
    if (errnoCode(err) === 'EROFS') return fail('failed', [`${disk.path} is mounted read-only (EROFS)`], mountPoint);
  }
  // Identity.
  const markerPath = `${disk.path}/${MARKER_FILE}`;
  let marker: DiskMarker | undefined;
  let markerProblem: string | undefined;
  const read = readMarker(markerPath);
  if (read.kind === 'io-error') return fail('failed', [`reading ${markerPath}: EIO`], mountPoint);
  if (read.kind === 'not-regular') return fail('failed', [`${markerPath} is not a regular file (${read.what}): remove it`], mountPoint);
  if (read.kind === 'ok') marker = read.marker;
  else markerProblem = read.kind === 'absent' ? `${markerPath} is missing` : read.problem;
  const evidence: string[] = [];
  if (!marker) {
    if (known.uuid) return fail('missing', [`${markerProblem}; it held ${known.uuid}: the disk was replaced, reformatted or not mounted`, acceptHint(disk.path, known.uuid)], mountPoint);
    if (!o.createMarker) {
      const d = known.downgradeOf?.(known.uuid);
      evidence.push(`${markerProblem} (not created: read-only check)`, ...(d?.evidence ?? []));
      return { ...base, state: d ? 'downgraded' : 'online', mountPoint, evidence, ...(d ? { downgradedBy: d.by } : {}) };
    }
    const created: DiskMarker = { uuid: randomUUID(), createdAt: new Date().toISOString(), serverId: o.serverId, path: disk.path };
    try {
      writeFileSync(markerPath, JSON.stringify(created, null, 2) + '\n', { flag: 'wx', mode: 0o644 });
    } catch (err) {
      return fail('failed', [`cannot create ${markerPath}: ${errnoCode(err)}`], mountPoint);
    }
    return { ...base, state: 'online', uuid: created.uuid, mountPoint, evidence: [`created ${markerPath} with ${created.uuid}`], markerCreated: true };
  }
  const replaced = known.uuid && known.uuid !== marker.uuid
    ? { evidence: `marker uuid changed from ${known.uuid} to ${marker.uuid}: a different disk is mounted here; the old disk's archives are gone`, replaced: { oldUuid: known.uuid, newUuid: marker.uuid } }
    : undefined;
  const withReplaced = replaced ? { replaced: replaced.replaced } : {};
  // The downgrade goes with the disk (its UUID): a disk moved to another slot keeps it.
  let d = known.downgradeOf?.(marker.uuid);
  // An operator's request newer than what is stored (`ecguard disk downgrade`) downgrades it now.
  const request = operatorDowngradeOf(marker);
  let requested: Downgrade | undefined;
  // Taken once (by its own time, not the downgrade's, which each scrub finding renews).
  if (request && (d?.requestAt === undefined || d.requestAt < request.at)) {
    const evidence = [...(d?.evidence ?? []), `operator: ${request.reason} (ecguard disk downgrade, ${new Date(request.at).toISOString()})`];
    requested = { at: Math.max(d?.at ?? 0, request.at), evidence, by: 'operator', requestAt: request.at };
    d = requested;
  }
  if (d) {
    // cleared only when the marker names this very downgrade: a finding after the clear keeps it
    if (marker.clearedDowngradeAt === d.at) {
      const what = `the downgrade of ${new Date(d.at).toISOString()} was cleared by an operator${typeof marker.downgradeClearedAt === 'string' ? ` at ${marker.downgradeClearedAt}` : ''} (ecguard disk accept --clear-downgrade)`;
      return { ...base, state: 'online', uuid: marker.uuid, mountPoint, evidence: [...(replaced ? [replaced.evidence] : []), what], downgradeCleared: true, ...withReplaced };
    }
    return { ...base, state: 'downgraded', uuid: marker.uuid, mountPoint, evidence: [...(replaced ? [replaced.evidence] : []), ...d.evidence], ...withReplaced, downgradedBy: d.by, ...(requested ? { requestedDowngrade: requested } : {}) };
  }
  if (replaced) return { ...base, state: 'online', uuid: marker.uuid, mountPoint, evidence: [replaced.evidence], ...withReplaced };
  return { ...base, state: 'online', uuid: marker.uuid, mountPoint, evidence };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What the operator does when the disk now mounted here is the right one. */
function acceptHint(path: string, uuid: string): string {
  return `if the right disk is mounted at ${path}, run \`ecguard disk accept ${path} --config AGENT.yaml\` on this host: it writes the marker again with ${uuid}, and the agent rescans the disk; a new disk: add --replaced (the old disk's archives are then gone)`;
}
