// Targets for an object with .mt files (DESIGN.md §7.1, XRDEC-FORMAT.md §E): the .mt ties
// placement index i to one server, so each lost archive is rebuilt on its own server (another
// disk of it) and keeps its directory byte for byte; every .mt copy then stays true. A lost
// archive whose server is gone, or whose directory the catalog never saw, cannot be kept.
import type { RepairTargetRef } from '../../shared/domain/repair-task.js';
import type { ArchiveRow } from '../catalog/catalog-types.js';
import type { Lost, PlacementView, TargetChoice } from './target-placement.js';

export function chooseKeptTargets(o: {
  lost: readonly Lost[]; available: ReadonlySet<string>; view: PlacementView; previous?: readonly RepairTargetRef[]; archiveBytes?: number;
  /** The object's .mt rows, and which of them can be read now. */
  metadata: readonly ArchiveRow[]; readable: (a: ArchiveRow) => boolean;
}): TargetChoice {
  const targets: RepairTargetRef[] = [];
  const up = new Set(o.view.servers);
  let nextSlot = Math.max(-1, ...(o.previous ?? []).map((p) => p.slot)) + 1;
  for (const l of o.lost) {
    const a = l.archive;
    const short = (why: string): TargetChoice => ({ kind: 'short', reason: `the object has .mt files, which tie each archive to its server: the archive on ${a.serverId} (${l.why}) ${why}; copy the file instead (the operations guide's procedure)` });
    if (!l.sameServer || !up.has(l.sameServer)) return short('must be rebuilt on that server, which is not up');
    // The empty object's archives are 0-byte files: no directory to keep (its member is a bare EOCD).
    const empty = a.parseStatus === 'empty';
    if (a.cdDigest === undefined && !empty) return short('has no directory digest in the catalog, so the .mt member it must match is unknown');
    if (o.available.has(a.serverId)) return short('cannot be replaced: that server holds another live archive of the file');
    const disks = o.view.disksOf(a.serverId, o.archiveBytes ?? 0).filter((d) => d !== l.diskId);
    const prev = o.previous?.find((p) => p.serverId === a.serverId && (empty || p.directoryDigest === a.cdDigest) && disks.includes(p.diskId));
    const disk = prev?.diskId ?? disks[0];
    if (disk === undefined) return short('needs another online disk of that server with room, and there is none');
    // The server's own .mt copy went with a dead disk too: the task restores it.
    const own = o.metadata.filter((m) => m.serverId === a.serverId);
    const lostCopy = own.length > 0 && !own.some(o.readable) ? own[0]?.diskId : undefined;
    targets.push({
      slot: prev?.slot ?? nextSlot++, serverId: a.serverId, diskId: disk, ...(l.diskId ? { replaceLinkOfDisk: l.diskId, ...(l.evacuatedPath !== undefined ? { replaceLinkOfPath: l.evacuatedPath } : {}) } : {}),
      ...(a.cdDigest !== undefined && !empty ? { directoryDigest: a.cdDigest } : {}), ...(lostCopy !== undefined ? { metadataLostOnDisk: lostCopy } : {}),
    });
  }
  return { kind: 'ok', targets };
}
