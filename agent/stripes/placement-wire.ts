// PlaceArchive / PlacementProgress headers and replies ↔ wire, with validation of what a peer sends.
import type { PlacedArchiveInfo } from '../../proto/gen/ecguard/v1/repair.js';
import type { PlaceHeader } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError } from '../../shared/errors.js';
import { crcKindWire, xattrNamespaceWire } from '../../shared/wire/enums.js';
import { isDataPath } from '../../shared/wire/repair-wire.js';
import type { DosTime } from '../../shared/xrdec/zip-layout.js';
import type { PlacedInfo, PlacementHeader } from './placement-types.js';

export function headerToWire(h: PlacementHeader): PlaceHeader {
  return {
    taskId: h.taskId, slot: h.slot, diskId: h.diskId, lfn: h.lfn, strpverText: h.strpverText, filesizeText: h.filesizeText,
    xattrNamespace: xattrNamespaceWire.toWire(h.xattrNamespace), expectedEntries: h.expectedEntries,
    crcKind: h.crcKind ? crcKindWire.toWire(h.crcKind) : 0, replaceLinkOfDisk: h.replaceLinkOfDisk ?? '', replaceLinkOfPath: h.replaceLinkOfPath ?? '', resumeEntries: h.resumeEntries ?? 0,
    directoryDigest: h.directoryDigest ?? '',
  };
}

/** Unspecified namespace means XrdEc's usual `user.U.`; an unknown enum value is refused. */
export function headerFromWire(w: PlaceHeader): PlacementHeader {
  const xattrNamespace = w.xattrNamespace === 0 ? 'user.U.' : xattrNamespaceWire.fromWire(w.xattrNamespace);
  const crcKind = w.crcKind === 0 ? undefined : crcKindWire.fromWire(w.crcKind);
  if (xattrNamespace === undefined) throw new EcguardError('BAD_PLACE_STREAM', `unknown xattr namespace ${w.xattrNamespace}`);
  if (w.crcKind !== 0 && crcKind === undefined) throw new EcguardError('BAD_PLACE_STREAM', `unknown CRC kind ${w.crcKind}`);
  if (w.directoryDigest && !/^[0-9a-f]{16}$/.test(w.directoryDigest)) throw new EcguardError('BAD_PLACE_STREAM', 'malformed directory digest');
  if (w.replaceLinkOfPath && (!w.replaceLinkOfDisk || !isDataPath(w.replaceLinkOfPath))) throw new EcguardError('BAD_PLACE_STREAM', 'malformed replace_link_of_path (a data path relative to replace_link_of_disk)');
  return {
    taskId: w.taskId, slot: w.slot, diskId: w.diskId, lfn: w.lfn, strpverText: w.strpverText, filesizeText: w.filesizeText,
    xattrNamespace, expectedEntries: w.expectedEntries, ...(crcKind ? { crcKind } : {}), ...(w.replaceLinkOfDisk ? { replaceLinkOfDisk: w.replaceLinkOfDisk } : {}),
    ...(w.replaceLinkOfDisk && w.replaceLinkOfPath ? { replaceLinkOfPath: w.replaceLinkOfPath } : {}),
    ...(w.resumeEntries ? { resumeEntries: w.resumeEntries } : {}), ...(w.directoryDigest ? { directoryDigest: w.directoryDigest } : {}),
  };
}

export function placedToWire(p: PlacedInfo): PlacedArchiveInfo {
  return { slot: p.slot, serverId: p.serverId, diskId: p.diskId, dataPath: p.dataPath, size: p.size, linked: p.linked };
}

/** DOS date << 16 | time on the wire; 0 means none (the holder stamps the entry itself). */
export function dosStampToWire(t: DosTime | undefined): number {
  return t ? ((t.date << 16) | t.time) >>> 0 : 0;
}

export function dosStampFromWire(v: number): DosTime | undefined {
  return v === 0 ? undefined : { time: v & 0xffff, date: v >>> 16 };
}
