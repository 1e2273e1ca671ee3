// PlaceArchive / PlacementProgress headers and replies ↔ wire, with validation of what a peer sends.
import type { PlacedArchiveInfo } from '../../proto/gen/ecguard/v1/repair.js';
import type { PlaceHeader } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError } from '../../shared/errors.js';
import { crcKindWire, xattrNamespaceWire } from '../../shared/wire/enums.js';
import type { PlacedInfo, PlacementHeader } from './placement-types.js';

export function headerToWire(h: PlacementHeader): PlaceHeader {
  return {
    taskId: h.taskId, slot: h.slot, diskId: h.diskId, lfn: h.lfn, strpverText: h.strpverText, filesizeText: h.filesizeText,
    xattrNamespace: xattrNamespaceWire.toWire(h.xattrNamespace), expectedEntries: h.expectedEntries,
    crcKind: h.crcKind ? crcKindWire.toWire(h.crcKind) : 0, replaceLinkOfDisk: h.replaceLinkOfDisk ?? '', resumeEntries: h.resumeEntries ?? 0,
  };
}

/** Unspecified namespace means XrdEc's usual `user.U.`; an unknown enum value is refused. */
export function headerFromWire(w: PlaceHeader): PlacementHeader {
  const xattrNamespace = w.xattrNamespace === 0 ? 'user.U.' : xattrNamespaceWire.fromWire(w.xattrNamespace);
  const crcKind = w.crcKind === 0 ? undefined : crcKindWire.fromWire(w.crcKind);
  if (xattrNamespace === undefined) throw new EcguardError('BAD_PLACE_STREAM', `unknown xattr namespace ${w.xattrNamespace}`);
  if (w.crcKind !== 0 && crcKind === undefined) throw new EcguardError('BAD_PLACE_STREAM', `unknown CRC kind ${w.crcKind}`);
  return {
    taskId: w.taskId, slot: w.slot, diskId: w.diskId, lfn: w.lfn, strpverText: w.strpverText, filesizeText: w.filesizeText,
    xattrNamespace, expectedEntries: w.expectedEntries, ...(crcKind ? { crcKind } : {}), ...(w.replaceLinkOfDisk ? { replaceLinkOfDisk: w.replaceLinkOfDisk } : {}),
    ...(w.resumeEntries ? { resumeEntries: w.resumeEntries } : {}),
  };
}

export function placedToWire(p: PlacedInfo): PlacedArchiveInfo {
  return { slot: p.slot, serverId: p.serverId, diskId: p.diskId, dataPath: p.dataPath, size: p.size, linked: p.linked };
}
