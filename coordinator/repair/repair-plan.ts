// Decides, for one file, whether and how to repair it now (DESIGN.md §4 planner, §7.1): a pure
// function of the file's archives and the cluster's state, so every rule is unit-tested.
//
// - Only archives at the newest strpver count; sources are those on up servers and usable disks.
// - Archives on failed or missing disks, or on lost servers, are rebuilt at once.
// - An archive on a down server is rebuilt only after the server's grace (lostAfter; or
//   criticalAfter when the file has no redundancy left), or when an operator forces it. While
//   one is in its grace the whole file waits: the catalog does not know which stripes a down
//   archive holds (XrdEc draws a new permutation per block), so rebuilding around it would put
//   a second copy of its stripes on another server.
// - Fewer than N stripes of some block available: nothing can be done (unavailable or lost).
import type { CrcKind } from '../../shared/codec/codec.js';
import type { RepairPlan, RepairSourceRef } from '../../shared/domain/repair-task.js';
import type { ServerState } from '../../shared/domain/file-health.js';
import { blockCount, blockDataLength, stripeCount, type EcProfile } from '../../shared/xrdec/profile.js';
import type { XattrNamespace } from '../../shared/xrdec/xattrs.js';
import type { ArchiveRow, DiskState } from '../catalog/catalog-types.js';
import { archiveKeyOf, minCoverage } from '../health/health-engine.js';
import { isScrubCorrupt } from '../../shared/domain/scrub-finding.js';
import { chooseKeptTargets } from './kept-targets.js';
import { chooseTargets, type PlacementView, type Lost } from './target-placement.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

export interface ServerView {
  readonly state: ServerState;
  readonly since: number;
}

export interface PlanInput {
  readonly lfn: string;
  readonly archives: readonly ArchiveRow[];
  readonly profile: EcProfile;
  readonly server: (serverId: string) => ServerView | undefined;
  readonly disk: (diskId: string) => { readonly state: DiskState; readonly serverId: string } | undefined;
  readonly placement: PlacementView;
  readonly nowMs: number;
  /** A down server's archives count as lost after this long (server.lostAfter). */
  readonly lostAfterMs: number;
  /** ... or after this long when the file has no redundancy left (server.criticalAfter). */
  readonly criticalAfterMs: number;
  /** The operator asked for it (`repair run`): down servers' graces are over. */
  readonly force?: boolean;
  /** Archives an earlier repair rebuilt elsewhere (archiveKeyOf → task): duplicates, never counted. */
  readonly replaced?: ReadonlyMap<string, string>;
  /** Targets of an earlier attempt of the same task, kept when still usable (idempotence). */
  readonly previousTargets?: RepairPlan['targets'];
  /** The object's `.mt` files (placement indices tied to servers): rebuilt archives keep their directory. */
  readonly metadata?: readonly ArchiveRow[];
  /** An operator's drain (`ecguard drain`): why this archive's place is being emptied, or undefined. */
  readonly draining?: (serverId: string, diskId: string) => string | undefined;
  /** The whole server is drained: its archives move to other servers, not to its other disks. */
  readonly serverDraining?: (serverId: string) => boolean;
}

export type PlanDecision =
  | { readonly kind: 'plan'; readonly plan: RepairPlan; readonly redundancy: number; readonly reason: string; readonly evacuated?: number }
  | { readonly kind: 'wait'; readonly until: number; readonly reason: string }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'impossible'; readonly reason: string };

function usable(a: ArchiveRow): boolean {
  // a 0-byte archive of a non-empty file was truncated to nothing: no source (as in classifyFile)
  return (a.parseStatus === 'ok' || (a.parseStatus === 'empty' && (a.filesize ?? 0) === 0)) && a.strpver !== undefined;
}

export function planRepair(i: PlanInput): PlanDecision {
  const n = i.profile.nbData;
  const k = stripeCount(i.profile);
  const good = i.archives.filter((a) => usable(a) && !i.replaced?.has(archiveKeyOf(a)));
  if (good.length === 0) return { kind: 'impossible', reason: 'no usable archive: nothing to rebuild from' };
  const latest = Math.max(...good.map((a) => a.strpver as number));
  const current = good.filter((a) => a.strpver === latest);
  const sizes = [...new Set(current.map((a) => a.filesize))];
  if (sizes.length !== 1 || sizes[0] === undefined) return { kind: 'impossible', reason: `archives of strpver ${latest} disagree on xrdec.filesize (${sizes.join(', ')}): an operator must decide` };
  const filesize = sizes[0];
  const blocks = blockCount(i.profile, filesize);

  let avail: ArchiveRow[] = [];
  const lost: Lost[] = [];
  const inGrace: { a: ArchiveRow; until: number }[] = [];
  const draining: Lost[] = [];
  const availCov = (): number => minCoverage(avail, blocks);
  for (const a of current) {
    const srv = i.server(a.serverId);
    const disk = i.disk(a.diskId);
    if (!srv || srv.state === 'lost') lost.push({ archive: a, why: `server ${a.serverId} lost` });
    else if (disk?.state === 'failed' || disk?.state === 'missing') lost.push({ archive: a, why: `disk ${a.diskId} ${disk.state}`, sameServer: srv.state === 'up' ? a.serverId : undefined, diskId: a.diskId });
    else if (srv.state === 'down') inGrace.push({ a, until: srv.since });
    else {
      avail.push(a);
      const why = i.draining?.(a.serverId, a.diskId);
      // A disk drained on a server that stays: its archives go to the server's other disks, and
      // the link moves with them only while it still points at exactly this archive.
      if (why !== undefined) draining.push({ archive: a, why, ...(i.serverDraining?.(a.serverId) ? {} : { sameServer: a.serverId, diskId: a.diskId, evacuatedPath: a.dataPath }) });
    }
  }
  // An archive its holder's scrub found corrupt stripes in (not any unreadable one: its holder
  // takes over the link only from an archive it knows corrupt): rebuilt as one on
  // a failed disk is, on that server's other disk with the link replaced, so each server still
  // holds one archive of the file where readers look for it.
  for (const a of i.archives) {
    if (!isScrubCorrupt(a) || a.strpver !== latest || i.replaced?.has(archiveKeyOf(a)) || i.server(a.serverId)?.state !== 'up') continue;
    if ([...avail, ...lost.map((l) => l.archive)].some((x) => x.serverId === a.serverId)) continue;
    lost.push({ archive: a, why: `archive on ${a.diskId} unreadable (${(a.parseError ?? 'no detail').slice(0, 200)})`, sameServer: a.serverId, diskId: a.diskId });
  }
  const cov = availCov();
  if (cov < n) {
    return { kind: 'impossible', reason: `only ${cov} of the ${n} stripes needed per block are on up servers and usable disks${inGrace.length ? ` (${inGrace.length} archive(s) on down servers)` : ''}: wait for servers to return` };
  }
  // Down servers: past their grace they count as lost, else the file waits.
  let waitUntil = 0;
  const waiting: string[] = [];
  for (const { a, until: downSince } of inGrace) {
    const grace = cov - n <= 0 ? Math.min(i.lostAfterMs, i.criticalAfterMs) : i.lostAfterMs;
    const end = downSince + grace;
    if (i.force || i.nowMs >= end) lost.push({ archive: a, why: `server ${a.serverId} down since ${new Date(downSince).toISOString()} (grace over)` });
    else {
      waitUntil = Math.max(waitUntil, end);
      waiting.push(a.serverId);
    }
  }
  if (waiting.length > 0) {
    return { kind: 'wait', until: waitUntil, reason: `server(s) ${[...new Set(waiting)].join(', ')} down: no repair before ${new Date(waitUntil).toISOString()} (grace), unless \`ecguard server lost\` or \`ecguard repair run\`` };
  }
  // Drained archives move only while the others still give N stripes per block: a file short of
  // that is repaired first with them as sources, and its drain follows.
  let evacuated = 0;
  if (draining.length > 0) {
    const staying = avail.filter((a) => !draining.some((d) => d.archive === a));
    const left = minCoverage(staying, blocks);
    if (left >= n) {
      avail = staying;
      lost.push(...draining);
      evacuated = draining.length;
    } else if (cov >= k) {
      return { kind: 'impossible', reason: `drain: without its ${draining.length} archive(s) being drained (${draining.map((d) => d.why).join('; ')}) the file keeps only ${left} of the ${n} stripes needed per block; stop one of the drains or add servers` };
    }
  }
  const missing = k - availCov();
  if (missing <= 0) return { kind: 'none', reason: `all ${k} stripes of every block are available` };
  let dataBytes = 0;
  let stripeBytes = 0;
  for (let b = 0; b < blocks; b++) {
    const len = blockDataLength(i.profile, filesize, b);
    dataBytes += len;
    stripeBytes += Math.min(len, i.profile.chunkSize);
  }
  // One new archive: a stripe per block plus a local and a central header per entry.
  const archiveBytes = stripeBytes + blocks * 128 + 128;
  const holders = new Set(i.archives.map((a) => a.serverId));
  const mt = i.metadata ?? [];
  // The .mt files a rebuild can read: on up servers, on disks that can be read.
  const readable = (a: ArchiveRow): boolean => i.server(a.serverId)?.state === 'up' && diskReadable(i.disk(a.diskId)?.state);
  const metadataSources: RepairSourceRef[] = mt.filter(readable).map((a) => ({ serverId: a.serverId, diskId: a.diskId, dataPath: a.dataPath }));
  if (mt.length > 0 && metadataSources.length === 0) {
    return { kind: 'impossible', reason: `the object has .mt files but none is readable now (on ${[...new Set(mt.map((a) => a.serverId))].slice(0, 8).join(', ')}): wait for those servers and disks, or copy the file` };
  }
  const chosen = mt.length > 0 ? chooseKeptTargets({ lost, available: new Set(avail.map((a) => a.serverId)), view: i.placement, archiveBytes, metadata: mt, readable, ...(i.previousTargets ? { previous: i.previousTargets } : {}) }) : chooseTargets({ lfn: i.lfn, count: missing, lost, holders, available: new Set(avail.map((a) => a.serverId)), view: i.placement, archiveBytes, ...(i.previousTargets ? { previous: i.previousTargets } : {}) });
  if (chosen.kind === 'short') return { kind: 'impossible', reason: chosen.reason };
  // (.mt objects rebuild only lost archives: stripes missing because an archive on an up server is
  // unusable give no target.) A task without a target has no executor and would block its class.
  if (chosen.targets.length === 0) return { kind: 'impossible', reason: `${missing} stripe(s) per block missing, but no archive can be rebuilt: the unusable ones stay on their servers (the object has .mt files); copy the file` };

  const sources: RepairSourceRef[] = avail.map((a) => ({ serverId: a.serverId, diskId: a.diskId, dataPath: a.dataPath }));
  const crcKind: CrcKind | undefined = current.find((a) => a.crcKind !== undefined)?.crcKind;
  const ns: XattrNamespace = current.find((a) => a.xattrNamespace !== undefined)?.xattrNamespace ?? 'user.U.';
  const plan: RepairPlan = {
    lfn: i.lfn, profile: i.profile, strpver: latest, filesize, xattrNamespace: ns, sources, targets: chosen.targets,
    ...(crcKind ? { crcKind } : {}), ...(mt.length > 0 ? { metadataSources } : {}),
    // N stripes per block are read (about the file's size); each new archive is one stripe per block.
    bytesRead: dataBytes, bytesWritten: stripeBytes * chosen.targets.length,
  };
  return { kind: 'plan', plan, redundancy: cov - n, ...(evacuated > 0 ? { evacuated } : {}), reason: `${missing} archive(s) to rebuild: ${lost.map((l) => l.why).join('; ') || 'stripes missing'}` };
}
