// Repair tasks and their progress ↔ wire. Everything an agent receives or sends is validated
// here, once: a malformed task is refused before anything is read or written.
import type { CrcKind } from '../codec/codec.js';
import { MAX_BAD_ENTRIES, type BadSourceEntry } from '../domain/bad-source-entry.js';
import type { PlacedRef, RepairPhase, RepairPlan, RepairProgress, RepairSourceRef, RepairTargetRef } from '../domain/repair-task.js';
import { validateProfile } from '../xrdec/profile.js';
import type { XattrNamespace } from '../xrdec/xattrs.js';
import { TaskPhase, type BadSourceEntry as WireBadEntry, type PlacedArchiveInfo, type RepairTask as WireTask, type TaskProgress as WireProgress } from '../../proto/gen/ecguard/v1/repair.js';
import type { FromWire } from './archive-record-wire.js';
import { badEntryKindWire, crcKindWire, xattrNamespaceWire } from './enums.js';
import { profileToWire } from './session-wire.js';

/** A task as an executor sees it: the plan plus where every server's Stripes service is. */
export interface RepairOrder {
  readonly taskId: string;
  readonly attempt: number;
  readonly plan: RepairPlan;
  readonly addresses: ReadonlyMap<string, string>;
}

const DATA_PATH = /^[^/\0]{1,255}\/[0-9A-F]{2}\/[^/\0]{1,255}$/;

/** An archive's data path as agents report it: `<space>/<XX>/<name>`, relative, no `..`. */
export function isDataPath(p: string): boolean {
  return DATA_PATH.test(p) && !p.split('/').includes('..');
}
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DIGEST = /^[0-9a-f]{16}$/;

export function repairOrderToWire(o: RepairOrder): WireTask {
  const addr = (s: string): string => o.addresses.get(s) ?? '';
  const p = o.plan;
  return {
    taskId: o.taskId, lfn: p.lfn, attempt: o.attempt, profile: profileToWire(p.profile), strpver: p.strpver, filesize: p.filesize,
    crcKind: p.crcKind ? crcKindWire.toWire(p.crcKind) : 0, xattrNamespace: xattrNamespaceWire.toWire(p.xattrNamespace),
    sources: p.sources.map((s) => ({ serverId: s.serverId, address: addr(s.serverId), archive: { diskId: s.diskId, dataPath: s.dataPath } })),
    targets: p.targets.map((t) => ({ slot: t.slot, serverId: t.serverId, address: addr(t.serverId), diskId: t.diskId, replaceLinkOfDisk: t.replaceLinkOfDisk ?? '', replaceLinkOfPath: t.replaceLinkOfPath ?? '', directoryDigest: t.directoryDigest ?? '', metadataLostOnDisk: t.metadataLostOnDisk ?? '' })),
    metadataSources: (p.metadataSources ?? []).map((s) => ({ serverId: s.serverId, address: addr(s.serverId), archive: { diskId: s.diskId, dataPath: s.dataPath } })),
  };
}

export function repairOrderFromWire(w: WireTask): FromWire<RepairOrder> {
  const fail = (reason: string): FromWire<RepairOrder> => ({ ok: false, reason: `repair task ${JSON.stringify(w.taskId.slice(0, 80))}: ${reason}` });
  if (!TASK_ID.test(w.taskId)) return fail('malformed task id');
  if (!w.lfn.startsWith('/') || w.lfn.includes('\0') || w.lfn.length > 4096 || w.lfn.split('/').some((s) => s === '..' || s === '.')) return fail(`malformed LFN ${JSON.stringify(w.lfn.slice(0, 200))}`);
  let profile;
  try {
    profile = validateProfile({ nbData: w.profile?.nbData ?? 0, nbParity: w.profile?.nbParity ?? 0, chunkSize: w.profile?.chunkSize ?? 0 });
  } catch (err) {
    return fail(`bad EC profile: ${(err as Error).message}`);
  }
  if (!Number.isSafeInteger(w.strpver) || !Number.isSafeInteger(w.filesize) || w.filesize < 0) return fail('impossible strpver or filesize');
  const crcKind: CrcKind | undefined = w.crcKind === 0 ? undefined : crcKindWire.fromWire(w.crcKind);
  if (w.crcKind !== 0 && crcKind === undefined) return fail(`unknown CRC kind ${w.crcKind}`);
  const ns: XattrNamespace | undefined = xattrNamespaceWire.fromWire(w.xattrNamespace);
  if (!ns) return fail(`unknown xattr namespace ${w.xattrNamespace}`);
  const addresses = new Map<string, string>();
  const note = (serverId: string, address: string): string | undefined => {
    if (!ID.test(serverId)) return `malformed server id ${JSON.stringify(serverId.slice(0, 80))}`;
    if (!/^[^\s/]+:[0-9]{1,5}$/.test(address)) return `server ${serverId} has no Stripes address (got ${JSON.stringify(address.slice(0, 80))})`;
    addresses.set(serverId, address);
    return undefined;
  };
  const sources: RepairSourceRef[] = [];
  const metadataSources: RepairSourceRef[] = [];
  for (const [list, out, what] of [[w.sources, sources, 'source'], [w.metadataSources, metadataSources, '.mt source']] as const) {
    for (const s of list) {
      const bad = note(s.serverId, s.address);
      if (bad) return fail(bad);
      if (!s.archive || !s.archive.diskId || !isDataPath(s.archive.dataPath)) return fail(`${what} on ${s.serverId}: malformed archive reference`);
      out.push({ serverId: s.serverId, diskId: s.archive.diskId, dataPath: s.archive.dataPath });
    }
  }
  const targets: RepairTargetRef[] = [];
  for (const t of w.targets) {
    const bad = note(t.serverId, t.address);
    if (bad) return fail(bad);
    if (!t.diskId) return fail(`target on ${t.serverId}: no disk`);
    if (targets.some((x) => x.serverId === t.serverId || x.slot === t.slot)) return fail(`two targets on server ${t.serverId} or slot ${t.slot}: a server holds at most one archive of a file`);
    if (t.directoryDigest && !DIGEST.test(t.directoryDigest)) return fail(`target on ${t.serverId}: malformed directory digest`);
    if (t.replaceLinkOfPath && (!t.replaceLinkOfDisk || !isDataPath(t.replaceLinkOfPath))) return fail(`target on ${t.serverId}: malformed replace_link_of_path`);
    targets.push({ slot: t.slot, serverId: t.serverId, diskId: t.diskId, ...(t.replaceLinkOfDisk ? { replaceLinkOfDisk: t.replaceLinkOfDisk } : {}), ...(t.replaceLinkOfDisk && t.replaceLinkOfPath ? { replaceLinkOfPath: t.replaceLinkOfPath } : {}), ...(t.directoryDigest ? { directoryDigest: t.directoryDigest } : {}), ...(t.metadataLostOnDisk ? { metadataLostOnDisk: t.metadataLostOnDisk } : {}) });
  }
  const kept = targets.filter((t) => t.directoryDigest !== undefined).length;
  if (kept > 0 && (kept !== targets.length || metadataSources.length === 0)) return fail('directory digests need one for every target and at least one .mt source');
  if (targets.length === 0) return fail('no targets');
  if (sources.length === 0) return fail('no sources');
  const plan: RepairPlan = {
    lfn: w.lfn, profile, strpver: w.strpver, filesize: w.filesize, xattrNamespace: ns, sources, targets, bytesRead: 0, bytesWritten: 0,
    ...(crcKind ? { crcKind } : {}), ...(metadataSources.length > 0 ? { metadataSources } : {}),
  };
  return { ok: true, value: { taskId: w.taskId, attempt: w.attempt, plan, addresses } };
}

const PHASES: readonly (readonly [RepairPhase, TaskPhase])[] = [
  ['accepted', TaskPhase.TASK_PHASE_ACCEPTED], ['fetching', TaskPhase.TASK_PHASE_FETCHING], ['decoding', TaskPhase.TASK_PHASE_DECODING],
  ['writing', TaskPhase.TASK_PHASE_WRITING], ['verifying', TaskPhase.TASK_PHASE_VERIFYING], ['done', TaskPhase.TASK_PHASE_DONE], ['failed', TaskPhase.TASK_PHASE_FAILED],
];

export interface ProgressReport extends RepairProgress {
  readonly taskId: string;
  readonly attempt: number;
  readonly placed: readonly PlacedRef[];
  readonly errorCode?: string;
  readonly error?: string;
  /** For people (`ecguard repair status`): skipped sources and bad entries, as text. */
  readonly sourceProblems: readonly string[];
  /** The bad entries again, structured (at most MAX_BAD_ENTRIES), and how many more there were. */
  readonly badEntries: readonly BadSourceEntry[];
  readonly badEntriesOmitted: number;
}

export function progressToWire(p: ProgressReport): WireProgress {
  return {
    taskId: p.taskId, attempt: p.attempt, phase: PHASES.find(([d]) => d === p.phase)?.[1] ?? 0, blocksDone: p.blocksDone, blocksTotal: p.blocksTotal,
    bytesRead: p.bytesRead, bytesWritten: p.bytesWritten, errorCode: p.errorCode ?? '', error: p.error ?? '',
    placed: p.placed.map((x): PlacedArchiveInfo => ({ ...x })), sourceProblems: [...p.sourceProblems],
    badEntries: p.badEntries.slice(0, MAX_BAD_ENTRIES).map((b): WireBadEntry => ({ ...b, kind: badEntryKindWire.toWire(b.kind) })),
    badEntriesOmitted: p.badEntriesOmitted + Math.max(0, p.badEntries.length - MAX_BAD_ENTRIES),
  };
}

export function progressFromWire(w: WireProgress): FromWire<ProgressReport> {
  const phase = PHASES.find(([, x]) => x === w.phase)?.[0];
  if (!phase) return { ok: false, reason: `task progress with unknown phase ${w.phase}` };
  if (!TASK_ID.test(w.taskId)) return { ok: false, reason: 'task progress with a malformed task id' };
  const placed: PlacedRef[] = [];
  for (const x of w.placed.slice(0, 64)) {
    if (!ID.test(x.serverId) || !x.diskId || !DATA_PATH.test(x.dataPath)) return { ok: false, reason: `task ${w.taskId}: malformed placed archive` };
    placed.push({ slot: x.slot, serverId: x.serverId, diskId: x.diskId, dataPath: x.dataPath, size: x.size, linked: x.linked });
  }
  const badEntries: BadSourceEntry[] = [];
  for (const b of w.badEntries.slice(0, MAX_BAD_ENTRIES)) {
    const kind = badEntryKindWire.fromWire(b.kind);
    if (!kind || !ID.test(b.serverId) || !b.diskId || b.diskId.length > 4096 || !DATA_PATH.test(b.dataPath)) return { ok: false, reason: `task ${w.taskId}: malformed bad source entry` };
    badEntries.push({
      serverId: b.serverId, diskId: b.diskId, dataPath: b.dataPath, block: b.block, stripe: b.stripe, kind,
      ...(b.expectedCrc !== undefined ? { expectedCrc: b.expectedCrc } : {}), ...(b.foundCrc !== undefined ? { foundCrc: b.foundCrc } : {}),
    });
  }
  return {
    ok: true,
    value: {
      taskId: w.taskId, attempt: w.attempt, phase, blocksDone: w.blocksDone, blocksTotal: w.blocksTotal, bytesRead: w.bytesRead, bytesWritten: w.bytesWritten,
      placed, sourceProblems: w.sourceProblems.slice(0, 32).map((s) => s.slice(0, 500)),
      badEntries, badEntriesOmitted: w.badEntriesOmitted + Math.max(0, w.badEntries.length - MAX_BAD_ENTRIES),
      ...(w.errorCode ? { errorCode: w.errorCode.slice(0, 64) } : {}), ...(w.error ? { error: w.error.slice(0, 4000) } : {}),
    },
  };
}
