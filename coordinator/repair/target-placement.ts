// Where rebuilt archives go (DESIGN.md §7.1). Each server keeps at most one archive of a file,
// because its namespace holds one symlink per LFN:
//   1. an archive lost with a disk of a server that is still up goes to another disk of that
//      server (readers find it where they always did); the old symlink, dangling into the dead
//      disk, is replaced there;
//   2. everything else goes to up servers that hold no archive of the file, on an online disk,
//      least loaded first (spreading repair writes), ties broken by the LFN so plans are stable.
// Targets of an earlier attempt are kept while still usable, so a retried task writes to the
// same (task, slot) places and the agents' placement ledgers make the retry idempotent.
import { createHash } from 'node:crypto';
import type { RepairTargetRef } from '../../shared/domain/repair-task.js';
import type { ArchiveRow } from '../catalog/catalog-types.js';

export interface Lost {
  readonly archive: ArchiveRow;
  readonly why: string;
  /** Set when the archive's disk died but its server is up: rebuild on that server. */
  readonly sameServer?: string | undefined;
  readonly diskId?: string;
  /** A drained archive (its disk is fine): the link moves only while it points at this data path. */
  readonly evacuatedPath?: string;
}

export interface PlacementView {
  /** Up, connected servers able to take a repair write (they serve Stripes). */
  readonly servers: readonly string[];
  /** Online, not downgraded disks of a server; with `needBytes`, only those with room for that much more. */
  disksOf(serverId: string, needBytes?: number): readonly string[];
  /** Repair writes already planned on a server (queued and running tasks). */
  load(serverId: string): number;
}

/** The planner's view: it also books what it plans, so later plans in the same round see it. */
export interface PlannerView extends PlacementView {
  addLoad(serverId: string, diskId?: string, bytes?: number): void;
}

export type TargetChoice =
  | { readonly kind: 'ok'; readonly targets: RepairTargetRef[] }
  | { readonly kind: 'short'; readonly reason: string };

function rank(lfn: string, serverId: string): number {
  return createHash('sha1').update(lfn).update('\0').update(serverId).digest().readUInt32BE(0);
}

export function chooseTargets(o: { lfn: string; count: number; lost: readonly Lost[]; holders: ReadonlySet<string>; available: ReadonlySet<string>; view: PlacementView; previous?: readonly RepairTargetRef[]; archiveBytes?: number }): TargetChoice {
  const need = o.archiveBytes ?? 0;
  const disksOf = (serverId: string): readonly string[] => o.view.disksOf(serverId, need);
  const targets: RepairTargetRef[] = [];
  const used = new Set<string>();
  const up = new Set(o.view.servers);
  const usableDisk = (serverId: string, diskId: string): boolean => up.has(serverId) && disksOf(serverId).includes(diskId);
  // Servers whose only archive of the file died with a disk may take a replacement (not those
  // that hold another, live archive of it: an earlier repair may have put one there already).
  const reusable = new Map<string, string>();
  const evacuated = new Map<string, string>();
  for (const l of o.lost) {
    if (!l.sameServer || !l.diskId || o.available.has(l.sameServer)) continue;
    reusable.set(l.sameServer, l.diskId);
    if (l.evacuatedPath !== undefined) evacuated.set(l.sameServer, l.evacuatedPath);
  }
  const allowed = (serverId: string): boolean => !used.has(serverId) && (!o.holders.has(serverId) || reusable.has(serverId));
  // A kept target keeps its slot; new ones take numbers no earlier attempt used, so a (task,
  // slot) key never names two different places.
  let nextSlot = Math.max(-1, ...(o.previous ?? []).map((p) => p.slot)) + 1;
  const add = (serverId: string, diskId: string, slot?: number): void => {
    const dead = reusable.get(serverId);
    const path = evacuated.get(serverId);
    targets.push({ slot: slot ?? nextSlot++, serverId, diskId, ...(dead !== undefined && o.holders.has(serverId) ? { replaceLinkOfDisk: dead, ...(path !== undefined ? { replaceLinkOfPath: path } : {}) } : {}) });
    used.add(serverId);
  };

  for (const p of o.previous ?? []) {
    if (targets.length >= o.count) break;
    if (allowed(p.serverId) && usableDisk(p.serverId, p.diskId) && p.diskId !== reusable.get(p.serverId)) add(p.serverId, p.diskId, p.slot);
  }
  for (const [serverId, deadDisk] of reusable) {
    if (targets.length >= o.count || !allowed(serverId) || !up.has(serverId)) continue;
    const disk = disksOf(serverId).find((d) => d !== deadDisk);
    if (disk) add(serverId, disk);
  }
  const others = o.view.servers
    .filter((s) => allowed(s) && !o.holders.has(s) && disksOf(s).length > 0)
    .sort((a, b) => o.view.load(a) - o.view.load(b) || rank(o.lfn, a) - rank(o.lfn, b));
  for (const s of others) {
    if (targets.length >= o.count) break;
    const disks = disksOf(s);
    add(s, disks[rank(o.lfn, s) % disks.length] as string);
  }
  if (targets.length < o.count) {
    return { kind: 'short', reason: `${o.count} new archive(s) needed but only ${targets.length} server(s) can take one (each server holds at most one archive of a file; up servers with no archive of it and an online disk with room for ${need} more bytes: ${others.length})` };
  }
  return { kind: 'ok', targets };
}
