// The Admin gRPC service behind the `ecguard` CLI. With TLS, only admin certificates may call
// it. In safe mode every file state is shown as pending evidence (with the computed state in
// the reason), because the picture may be stale.
import type { AdminServer, FileInfo, ServerInfo } from '../../proto/gen/ecguard/v1/admin.js';
import { EcguardError } from '../../shared/errors.js';
import { FILE_STATES, type FileState } from '../../shared/domain/file-health.js';
import { EVENT_TYPES, type EventType } from '../../shared/domain/event.js';
import { diskToWire, profileToWire } from '../../shared/wire/session-wire.js';
import type { FileRow } from '../catalog/catalog-types.js';
import type { AdminContext } from './admin-context.js';
import { confirmLfns } from './confirm-lfns.js';
import { adminCall } from './admin-call.js';
import { repairHandlers } from './admin-repair.js';
import { drainHandlers } from './admin-drain.js';

export function adminHandlers(c: AdminContext): AdminServer {
  const wrap = adminCall(c.insecure);
  const pending = (): boolean => c.safeMode.isActive;
  const fileInfo = (f: FileRow): FileInfo => ({
    lfn: f.lfn,
    state: pending() ? 'pending' : f.state,
    redundancy: f.redundancy,
    ...(f.latestStrpver !== undefined ? { strpver: f.latestStrpver } : {}),
    ...(f.filesize !== undefined ? { filesize: f.filesize } : {}),
    available: f.available,
    unavailable: f.unavailable,
    reason: pending() ? `pending evidence (${c.safeMode.status().reason}); last computed: ${f.state}: ${f.reason}` : f.reason,
    stateSinceMs: f.stateSince,
    ...(f.createdAt !== undefined ? { createdAtMs: f.createdAt } : {}),
    bytes: f.bytes,
  });
  const serverInfo = (): ServerInfo[] => c.cluster.listServers().map((s) => ({
    serverId: s.serverId, state: s.state, sinceMs: s.since, lastSeenMs: s.lastSeen, appliedSeq: s.appliedSeq, connected: c.registry.connected(s.serverId), archives: 0,
    fullInventories: c.syncs.get(s.serverId)?.full ?? 0, replays: c.syncs.get(s.serverId)?.replay ?? 0, rejectedRecords: c.rejected.get(s.serverId) ?? 0,
    digestResyncs: c.syncs.get(s.serverId)?.digest ?? 0, digestRecords: c.syncs.get(s.serverId)?.digestRecords ?? 0,
  }));
  return {
    status: wrap(async () => {
      const counts = await c.store.fileCounts();
      const disks = new Map<string, number>();
      for (const d of c.cluster.listDisks()) disks.set(d.state, (disks.get(d.state) ?? 0) + 1);
      const sm = c.safeMode.status();
      const profile = c.profile();
      const census = c.events?.censusTally;
      return {
        cluster: c.o.cluster,
        servers: serverInfo(),
        disksByState: [...disks].map(([state, count]) => ({ state, count, bytes: 0 })),
        filesByState: FILE_STATES.filter((s) => s !== 'pending').map((s) => ({ state: s, count: counts[s]?.count ?? 0, bytes: counts[s]?.bytes ?? 0 })),
        safeMode: { active: sm.active, reason: sm.reason, waitingFor: [...sm.waitingFor], sinceMs: sm.since },
        archives: await c.store.archiveCount(),
        startedAtMs: c.startedAt,
        ...(profile ? { profile: profileToWire(profile) } : {}),
        indicators: Object.entries(c.indicators.states()).map(([name, s]) => ({ name, active: s.active, sinceMs: s.since, details: s.details })),
        drains: c.repair.drain.book.drains().map((d) => `${d.kind} ${d.id}`),
        ...(census ? { census: { startedAtMs: census.startedAt, files: census.files, bytes: census.bytes, notAnnounced: census.notAnnounced } } : {}),
      };
    }),
    listFiles: wrap(async (req) => {
      const bad = req.states.filter((s) => !FILE_STATES.includes(s as FileState));
      if (bad.length) throw new EcguardError('USAGE', `unknown state(s) ${bad.join(', ')}; known: ${FILE_STATES.join(', ')}`);
      const limit = Math.min(req.limit || 1000, 100_000);
      const rows = await c.store.listFiles({
        // no --state: every state (to the store an empty list would match nothing)
        ...(req.states.length > 0 ? { states: req.states as FileState[] } : {}), limit: limit + 1,
        ...(req.serverId !== undefined ? { serverId: req.serverId } : {}),
        ...(req.diskId !== undefined ? { diskId: req.diskId } : {}),
        ...(req.prefix !== undefined ? { prefix: req.prefix } : {}),
        ...(req.createdSinceMs !== undefined ? { createdSince: req.createdSinceMs } : {}),
        ...(req.after !== undefined ? { after: req.after } : {}),
      });
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      return { files: page.map(fileInfo), ...(more ? { next: page[page.length - 1]?.lfn } : {}), pendingEvidence: pending() };
    }),
    listServers: wrap(async () => ({ servers: serverInfo() })),
    listDisks: wrap(async (req) => ({
      disks: c.cluster.listDisks(req.serverId).map((d) => {
        const room = c.space.get(d.diskId);
        return {
          disk: diskToWire({ diskId: d.diskId, path: d.path, space: d.space, state: d.state, evidence: d.evidence, ...(d.uuid ? { uuid: d.uuid } : {}) }), serverId: d.serverId, sinceMs: d.since,
          ...(room ? { freeBytes: room.freeBytes, totalBytes: room.totalBytes } : {}),
        };
      }),
    })),
    listDebris: wrap(async (req) => {
      const rows = await c.store.listArchiveRoles(['debris', 'orphan'], Math.min(req.limit || 1000, 100_000));
      return { archives: rows.map((r) => ({ serverId: r.serverId, diskId: r.diskId, dataPath: r.dataPath, lfn: r.lfn, role: r.role, reason: r.reason })), pendingEvidence: pending() };
    }),
    quarantineDebris: wrap(async (req) => {
      const actions = await c.debris.run({ limit: Math.min(req.limit || 1000, 100_000), dryRun: req.dryRun, ...(req.serverId ? { serverId: req.serverId } : {}), ...(req.prefix ? { prefix: req.prefix } : {}) });
      const by = (o: string): number => actions.filter((a) => a.outcome === o).length;
      const message = req.dryRun
        ? `dry run: ${by('planned')} archive(s) would be moved aside, ${by('skipped')} skipped; nothing was moved`
        : `${by('quarantined')} archive(s) moved aside, ${by('refused')} refused by their holder, ${by('failed')} failed, ${by('skipped')} skipped`;
      return {
        message,
        actions: actions.map((a) => ({ serverId: a.serverId, diskId: a.diskId, dataPath: a.dataPath, lfn: a.lfn, outcome: a.outcome, code: a.code ?? '', reason: a.reason, quarantinePath: a.quarantinePath ?? '', linkRemoved: a.linkRemoved ?? '', size: a.size })),
      };
    }),
    serverLost: wrap(async (req) => ({ message: await c.serverLost(req.serverId) })),
    serverForget: wrap(async (req) => ({ message: await c.forgetServer(req.serverId) })),
    diskForget: wrap(async (req) => ({ message: await c.forgetDisk(req.diskId) })),
    leaveSafeMode: wrap(async () => ({ message: c.safeMode.leave('operator') })),
    rebuildCatalog: wrap(async () => ({ message: await c.rebuildCatalog() })),
    confirmLfns: wrap(async (req) => confirmLfns(c, req)),
    listEvents: wrap(async (req) => {
      const logBook = c.o.eventLog;
      if (!logBook) throw new EcguardError('NO_EVENT_LOG', 'this coordinator keeps no event log');
      const bad = req.types.filter((t) => !EVENT_TYPES.includes(t as EventType));
      if (bad.length) throw new EcguardError('USAGE', `unknown event type(s) ${bad.join(', ')}; known: ${EVENT_TYPES.join(', ')}`);
      // A page is at most 1000 events (a few MB): larger replies passed gRPC's message limit.
      const limit = Math.min(req.limit || 1000, 1000);
      const q = { types: req.types as EventType[], ...(req.afterSeq !== undefined ? { afterSeq: req.afterSeq } : {}), ...(req.sinceMs !== undefined ? { sinceMs: req.sinceMs } : {}) };
      const rows = logBook.query({ ...q, limit: req.newest ? limit : limit + 1, newest: req.newest });
      const more = !req.newest && rows.length > limit;
      return { events: rows.slice(0, limit).map((r) => ({ seq: r.seq, json: JSON.stringify(r.event), published: r.publishedAt !== undefined })), backlog: logBook.backlog(), more };
    }),
    ...repairHandlers(c.repair, wrap),
    ...drainHandlers(c.repair, wrap),
  };
}
