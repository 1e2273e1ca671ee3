// `ecguard disk downgrade PATH --reason TEXT`: an operator downgrades a disk (SMART warnings, a
// controller to be replaced): no new repair placements go there, its archives stay tracked and
// read. The request is written into the disk's marker, so it reaches a running agent at its
// next disk check (every 5 s), survives restarts, and goes with the disk if mounts swap. It
// ends like a scrub downgrade: `ecguard disk accept PATH --clear-downgrade`.
import { join } from 'node:path';
import { EcguardError, UsageError } from '../../shared/errors.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { mountedDisk } from './disk-accept.js';
import { MARKER_FILE, MAX_REASON, readMarker, withMarkerLock, writeMarker } from './disk-marker.js';

export interface DowngradeRequestResult {
  readonly diskIds: string[];
  readonly path: string;
  readonly uuid: string;
  /** The request's time: the agent stores the downgrade under it (a clear names it). */
  readonly at: number;
  readonly reason: string;
}

export function requestDowngrade(disks: readonly DiskSpec[], path: string, stateDir: string, reason: string, now = Date.now()): DowngradeRequestResult {
  const why = reason.trim();
  if (why === '') throw new UsageError('--reason is empty: say why the disk is downgraded (it is shown with the disk and in the disk.downgraded event)');
  if (why.length > MAX_REASON) throw new UsageError(`--reason is ${why.length} characters; at most ${MAX_REASON}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(why)) throw new UsageError('--reason holds control characters (a newline, a tab): one line of plain text');
  const { want, diskIds, known } = mountedDisk(disks, path, stateDir);
  return withMarkerLock(want, () => {
    const markerPath = join(want, MARKER_FILE);
    const cur = readMarker(markerPath);
    if (cur.kind === 'absent') throw new EcguardError('DISK_NO_IDENTITY', `${markerPath} is missing: the disk is not mounted, or the agent has not seen it yet; nothing written (ecguard disk accept writes the marker back)`);
    if (cur.kind === 'not-regular') throw new EcguardError('DISK_MARKER_NOT_FILE', `${markerPath} is not a regular file (${cur.what}): remove it first`);
    if (cur.kind !== 'ok') throw new EcguardError('DISK_MARKER_INVALID', `${markerPath} cannot be read as a marker${cur.kind === 'invalid' ? ` (${cur.problem})` : ' (EIO)'}: nothing written`);
    if (known.uuid !== undefined && cur.marker.uuid !== known.uuid) {
      throw new EcguardError('DISK_OTHER_IDENTITY', `${markerPath} holds ${cur.marker.uuid}, the agent knew ${known.uuid} here: another disk is mounted; nothing written`);
    }
    writeMarker(want, { ...cur.marker, operatorDowngrade: { at: now, reason: why } });
    return { diskIds, path: want, uuid: cur.marker.uuid, at: now, reason: why };
  });
}
