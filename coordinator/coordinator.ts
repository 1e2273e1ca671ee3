// The coordinator: gRPC endpoint for agent sessions and the Admin API, the catalog, the health
// engine, liveness and safe mode. It is the SessionContext every agent session talks to.
import { AGENT_LONGEST_RETRY_MS } from '../shared/domain/agent-backoff.js';
import * as grpc from '@grpc/grpc-js';
import { AgentSessionService, type AgentMessage, type CoordinatorMessage } from '../proto/gen/ecguard/v1/agent.js';
import { AdminService } from '../proto/gen/ecguard/v1/admin.js';
import { EcguardError, errorText } from '../shared/errors.js';
import { bindWithWideWindows } from '../shared/grpc/receive-window.js';
import { getLogger } from '../shared/logger.js';
import type { DiskInfo } from '../shared/wire/session-wire.js';
import { insecureWarning, isLoopbackAddress, peerIdentity, serverCredentials, type TlsFiles } from '../shared/tls/tls-identity.js';
import type { EcProfile } from '../shared/xrdec/profile.js';
import type { AdminContext } from './admin/admin-context.js';
import { adminHandlers } from './admin/admin-service.js';
import type { ArchiveRemoval, CatalogStore } from './catalog/catalog-store.js';
import type { DiskRow, ServerRow } from './catalog/catalog-types.js';
import { ClusterState } from './cluster-state.js';
import { DiskSpaceBook, type DiskSpaceReport } from './disk-space.js';
import { LivenessMonitor } from './liveness-monitor.js';
import { ProfileMap } from './profile-map.js';
import type { EventLog } from './events/event-log.js';
import { baselineAnnounced } from './events/announced-baseline.js';
import { EventRecorder } from './events/event-recorder.js';
import { HealthIndicators, type IndicatorState } from './health/health-indicators.js';
import type { HealthIndicator } from '../shared/domain/event.js';
import { Reclassifier, type DebrisFound } from './health/reclassifier.js';
import { ReclassifyMarkers } from './health/reclassify-markers.js';
import { forgetDisk, forgetServer, type ForgetContext } from './place-forget.js';
import { placeableServers } from './repair/drain-book.js';
import { SafeMode } from './safe-mode.js';
import { AgentSession } from './session/agent-session.js';
import type { SessionContext, SyncCounts } from './session/session-context.js';
import { SessionRegistry, type SessionHandle } from './session/session-registry.js';
import { RepairManager } from './repair/repair-manager.js';
import { DEFAULT_REPAIR, type RepairSettings, type RepairThrottleSettings } from './repair/repair-settings.js';
import type { ProgressReport } from '../shared/wire/repair-wire.js';
import { DebrisQuarantine } from './debris/debris-quarantine.js';
import type { ScrubFinding } from '../shared/domain/scrub-finding.js';
import type { QuarantineResult } from '../shared/domain/debris-order.js';
import { diskReadable } from '../shared/domain/disk-readable.js';

/** Longest a delete learnt from one server's inventory waits on a holder still syncing, from that holder's sync start. */
const SYNC_HOLD_MS = 60 * 60_000;
/** Least silence that marks a connected server down while it is still sending its inventory. */
const SYNC_SILENCE_MS = 5 * 60_000;

export interface CoordinatorOptions {
  readonly cluster: string;
  /** host:port to listen on (port 0: any free port). */
  readonly listen: string;
  readonly store: CatalogStore;
  readonly tls?: TlsFiles;
  /** No TLS (loopback only): says so loudly. */
  readonly insecure?: boolean;
  readonly heartbeatMs?: number;
  readonly downAfterMs?: number;
  /** The site's EC profile (default: the agents'), and profiles by LFN prefix. */
  readonly profile?: EcProfile;
  readonly profilesByPrefix?: readonly { readonly prefix: string; readonly profile: EcProfile }[];
  readonly safeModeTimeoutMs?: number;
  readonly safeModeQuorum?: number;
  readonly safeModeReenterFraction?: number;
  /** Health indicators: raised after a condition held this long, cleared after it was gone this long. */
  readonly indicatorRaiseMs?: number;
  readonly indicatorClearMs?: number;
  /** Safe mode waits until no new server has appeared for this long (default 10 s). */
  readonly safeModeSettleMs?: number;
  /** A version never yet complete is "being written", not damaged, for this long (default 10 s). */
  readonly writeSettleMs?: number;
  readonly maxMessageBytes?: number;
  /** The data-safety log / outbox: a local SQLite file (the catalog's own with an SQLite catalog). */
  readonly eventLog?: EventLog;
  /** Called when events were written (to publish them promptly). */
  readonly onEvents?: () => void;
  /** Repair graces, leases and retries (defaults: DEFAULT_REPAIR), and initial throttles. */
  readonly repair?: Partial<RepairSettings>;
  readonly repairThrottles?: Partial<RepairThrottleSettings>;
  /** How long a quarantine order waits for its holder's answer (default 60 s). */
  readonly quarantineTimeoutMs?: number;
  /**
   * Refused records of one inventory whose old rows are kept from its sweep (default 100,000);
   * past it, that inventory sweeps nothing.
   */
  readonly maxRejectedKeys?: number;
}

const log = getLogger('coordinator');

export class Coordinator implements SessionContext, AdminContext {
  readonly store: CatalogStore;
  readonly registry = new SessionRegistry();
  readonly cluster: ClusterState;
  readonly reclassifier: Reclassifier;
  private readonly markers: ReclassifyMarkers;
  readonly safeMode: SafeMode;
  readonly insecure: boolean;
  readonly heartbeatMs: number;
  readonly maxRejectedKeys: number;
  readonly startedAt = Date.now();
  private readonly downAfterMs: number;
  private readonly liveness: LivenessMonitor;
  /** Room per disk (heartbeats), for repair placement. */
  readonly space = new DiskSpaceBook();
  readonly profiles: ProfileMap;
  private server: grpc.Server | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  readonly events: EventRecorder | undefined;
  private safeWasActive = true;
  private readonly lostAfterMs: number;
  indicators: HealthIndicators = new HealthIndicators({ raiseAfterMs: 0, clearAfterMs: 0 });
  private indicatorTimer: NodeJS.Timeout | undefined;
  readonly repair: RepairManager;
  readonly debris: DebrisQuarantine;
  /** Records rejected per server (hostile or buggy agents). */
  readonly rejected = new Map<string, number>();

  constructor(readonly o: CoordinatorOptions) {
    this.store = o.store;
    this.insecure = o.insecure === true;
    this.heartbeatMs = o.heartbeatMs ?? 5000;
    this.maxRejectedKeys = o.maxRejectedKeys ?? 100_000;
    this.lostAfterMs = { ...DEFAULT_REPAIR, ...o.repair }.lostAfterMs;
    this.downAfterMs = o.downAfterMs ?? 30_000;
    this.liveness = new LivenessMonitor({ downAfterMs: this.downAfterMs, intervalMs: this.livenessEveryMs() });
    this.profiles = new ProfileMap(o.profile);
    for (const p of o.profilesByPrefix ?? []) this.profiles.add(p.prefix, p.profile);
    this.cluster = new ClusterState(this.store);
    this.reclassifier = new Reclassifier(this.store, this.cluster, (lfn) => this.profiles.for(lfn), {
      ...(o.writeSettleMs !== undefined ? { writeSettleMs: o.writeSettleMs } : {}),
      // a delete while a server is dead but not yet down: hold it until liveness decides
      silence: {
        silentMs: (id) => Date.now() - (this.liveness.lastSeenOf(id) ?? Date.now()), silentAfterMs: 2 * this.heartbeatMs + 500,
        // as long as a silent server may stay up: after a start that is the start grace (below)
        deleteHoldMs: this.startGraceMs() + 2 * this.heartbeatMs,
        // archives swept from one server's inventory while the file's other holders still sync
        syncingMs: (id) => {
          const since = this.syncing.get(id);
          return since !== undefined && this.registry.connected(id) ? Date.now() - since : undefined;
        },
        syncHoldMs: SYNC_HOLD_MS,
      },
      // in safe mode nothing acts on states: classify once the servers' inventories are in
      holdWhile: () => this.safeMode.isActive && [...this.syncing.keys()].some((id) => this.registry.connected(id)),
    });
    this.events = o.eventLog ? new EventRecorder(o.cluster, o.eventLog, (lfn) => this.profiles.for(lfn), () => this.safeMode.isActive, () => o.onEvents?.(), this.lostAfterMs) : undefined;
    this.markers = new ReclassifyMarkers(this.store, this.cluster, this.reclassifier);
    if (this.events) this.reclassifier.on('changes', (c) => this.events?.fileChanges(c));
    // The first census ends when safe mode ended by itself (every known server reported, or the
    // quorum at its timeout). Left early by an operator: once no server is still sending its
    // inventory, and every known one has reported or is down (a dead one never will).
    this.events?.setCensusGate(() => {
      if (this.cluster.listServers().length === 0) return false;
      if (!this.safeMode.overridden) return true;
      const syncing = [...this.syncing.keys()].some((id) => this.registry.connected(id));
      return !syncing && this.safeMode.waiting().every((id) => this.cluster.serverState(id) !== 'up');
    });
    if (this.events) this.reclassifier.on('debris', (d: DebrisFound[]) => this.events?.debrisFound(d));
    this.repair = new RepairManager({
      store: this.store, cluster: this.cluster, profileFor: (lfn) => this.profiles.for(lfn),
      gate: () => this.repairGate(),
      session: (id) => this.registry.get(id), sessions: () => this.registry.all(), flushReclassify: () => this.reclassifier.flush(), reclassify: (lfns) => this.reclassify(lfns),
      ...(this.events ? { events: this.events } : {}), space: this.space,
    }, { ...DEFAULT_REPAIR, ...o.repair }, o.repairThrottles);
    this.reclassifier.on('changes', (c) => this.repair.fileChanges(c));
    this.debris = new DebrisQuarantine({
      store: this.store, cluster: this.cluster, profileFor: (lfn) => this.profiles.for(lfn), session: (id) => this.registry.get(id),
      gate: () => this.repairGate(), ...(this.events ? { events: this.events } : {}),
    }, o.quarantineTimeoutMs);
    this.safeMode = new SafeMode({ timeoutMs: o.safeModeTimeoutMs ?? 600_000, quorum: o.safeModeQuorum ?? 0.9, reenterFraction: o.safeModeReenterFraction ?? 0.5, settleMs: o.safeModeSettleMs ?? 10_000 });
  }

  /** How long after a start a server not heard from yet stays up: an agent may be waiting out its longest retry. */
  private startGraceMs(): number {
    return Math.max(this.downAfterMs, AGENT_LONGEST_RETRY_MS + 2 * this.heartbeatMs);
  }

  async start(): Promise<number> {
    if (!this.insecure && !this.o.tls) throw new EcguardError('TLS_REQUIRED', 'the coordinator needs TLS files (--tls-ca/--tls-cert/--tls-key, made by deploy/make-certs.sh) or --insecure for a loopback demo');
    const host = this.o.listen.slice(0, this.o.listen.lastIndexOf(':'));
    if (this.insecure) {
      if (!isLoopbackAddress(host)) throw new EcguardError('INSECURE_NON_LOOPBACK', `--insecure only listens on loopback, not ${host}`);
      log.warn(insecureWarning('coordinator'));
    }
    await this.cluster.load();
    // a catalog that knows no server learns the whole site now: its first census (events/census.ts)
    if (this.cluster.listServers().length === 0) this.events?.beginCensus();
    const profileMeta = await this.store.getMeta('profile');
    if (!this.profiles.hasDefault() && profileMeta) this.profiles.setDefault(JSON.parse(profileMeta) as EcProfile);
    // what a crash left between a disk or server state change and its reclassification
    const marked = await this.markers.resume();
    if (marked > 0) log.info(`classifying again ${marked} file(s) of disk or server state changes a crash left unfinished`);
    // time to reconnect: an agent may be waiting out its longest retry (shared/domain/agent-backoff.ts)
    this.liveness.graceAll(this.cluster.listServers().map((s) => s.serverId), this.startGraceMs());
    this.safeMode.setKnown(this.cluster.listServers().filter((s) => s.state !== 'lost').map((s) => s.serverId));
    const max = this.o.maxMessageBytes ?? 16 * 1024 * 1024;
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max, 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1 });
    this.server.addService(AgentSessionService, {
      connect: (call: grpc.ServerDuplexStream<AgentMessage, CoordinatorMessage>) => {
        new AgentSession(call, this, call.getPeer(), peerIdentity(call as unknown as Parameters<typeof peerIdentity>[0]));
      },
    });
    this.server.addService(AdminService, adminHandlers(this));
    const creds = this.insecure ? grpc.ServerCredentials.createInsecure() : serverCredentials(this.o.tls as TlsFiles);
    // Agents stream inventory batches to us: a wide receive window keeps a full inventory over a
    // real network from stalling on window updates.
    const server = this.server;
    const port = await bindWithWideWindows(server, () => new Promise<number>((resolve, reject) => {
      server.bindAsync(this.o.listen, creds, (err, p) => (err ? reject(new EcguardError('LISTEN', `cannot listen on ${this.o.listen}: ${err.message}`, { cause: err })) : resolve(p)));
    }), (m) => log.warn(m));
    // a catalog error (a PostgreSQL catalog out of reach) is logged and the next check tries again
    this.livenessTimer = setInterval(() => void this.checkLiveness().catch((err: unknown) => log.error(`liveness check: ${errorText(err)}`)), this.livenessEveryMs());
    this.livenessTimer.unref();
    const saved = await this.store.getMeta('indicators');
    this.indicators = new HealthIndicators({ raiseAfterMs: this.o.indicatorRaiseMs ?? 10_000, clearAfterMs: this.o.indicatorClearMs ?? 60_000 }, saved ? (JSON.parse(saved) as Partial<Record<HealthIndicator, IndicatorState>>) : {});
    this.indicatorTimer = setInterval(() => void this.checkIndicators().catch((err: unknown) => log.error(`health indicators: ${String(err)}`)), 1000);
    this.indicatorTimer.unref();
    await this.repair.start();
    log.info(`listening on ${host}:${port} (${this.insecure ? 'INSECURE' : 'mTLS'}), cluster ${this.o.cluster}`);
    return port;
  }

  async stop(): Promise<void> {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.indicatorTimer) clearInterval(this.indicatorTimer);
    this.repair.stop();
    this.markers.stop();
    await this.events?.stop();
    for (const s of this.registry.all()) s.close('SHUTDOWN', 'coordinator shutting down');
    await new Promise<void>((resolve) => (this.server ? this.server.tryShutdown(() => resolve()) : resolve()));
    this.server?.forceShutdown();
    await this.reclassifier.flush().catch(() => undefined);
    this.reclassifier.stop();
    await this.store.close();
  }

  // --- SessionContext
  profile = (lfn?: string): EcProfile | undefined => this.profiles.for(lfn);

  noteProfile(serverId: string, p: EcProfile): void {
    const site = this.profiles.default;
    if (!site) {
      this.profiles.setDefault(p);
      void this.store.setMeta('profile', JSON.stringify(p)).catch((err: unknown) => log.error(`saving the EC profile: ${errorText(err)}`));
      log.info(`EC profile ${p.nbData}+${p.nbParity}, chunk ${p.chunkSize} (from ${serverId}); profiles: ${this.profiles.describe()}`);
      this.reclassifier.mark([]);
    } else if (p.nbData !== site.nbData || p.nbParity !== site.nbParity || p.chunkSize !== site.chunkSize) {
      log.warn(`server ${serverId} reports EC profile ${p.nbData}+${p.nbParity}×${p.chunkSize}, the site's is ${site.nbData}+${site.nbParity}×${site.chunkSize}`);
    }
  }

  seen(serverId: string): void {
    this.liveness.seen(serverId);
  }

  diskSpace(serverId: string, reports: readonly DiskSpaceReport[]): void {
    this.space.note(serverId, reports, (id) => this.cluster.disk(id)?.serverId);
  }

  private livenessEveryMs(): number {
    return Math.min(1000, this.downAfterMs / 4);
  }

  async serverConnected(serverId: string, instanceId: string): Promise<ServerRow | undefined> {
    const prev = await this.cluster.freshServer(serverId);
    const now = Date.now();
    this.seen(serverId);
    this.syncing.set(serverId, now);
    this.safeMode.connected(serverId);
    const back = prev !== undefined && prev.state !== 'up';
    const token = back ? this.markers.token() : undefined;
    const row: ServerRow = prev
      ? { ...prev, state: 'up', since: prev.state === 'up' ? prev.since : now, lastSeen: now, instanceId, ...(token !== undefined ? { reclassifyPending: token } : {}) }
      : { serverId, state: 'up', since: now, lastSeen: now, appliedSeq: 0, instanceId, inventoried: false };
    await this.cluster.putServer(row);
    if (back && token !== undefined) {
      log.info(`server ${serverId} up again (was ${prev.state})`);
      this.events?.server(serverId, 'server.up', { since: prev.since, previousState: prev.state === 'lost' ? 'lost' : 'down' });
      this.markers.reclassify('server', serverId, token, await this.store.lfnsOnServer(serverId));
    }
    return prev;
  }

  async diskReport(serverId: string, d: DiskInfo, replacedUuid: string | undefined): Promise<void> {
    const downgradedBy = d.downgradedBy;
    const prev = this.cluster.disk(d.diskId);
    const now = Date.now();
    const next: DiskRow = { diskId: d.diskId, serverId, path: d.path, space: d.space, state: d.state, since: prev?.state === d.state ? prev.since : now, evidence: d.evidence, ...(d.uuid ? { uuid: d.uuid } : {}) };
    if (!prev) {
      if (d.state === 'failed' || d.state === 'missing') this.events?.disk(undefined, next, undefined, 0);
      await this.cluster.putDisk(next);
      return;
    }
    if (prev.state === d.state && !replacedUuid) {
      await this.cluster.putDisk(next);
      return;
    }
    // online <-> downgraded changes no file's state (both are read): the event, not a reclassification
    // of every file on the disk (a million archives took 40 s)
    if (diskReadable(prev.state) && diskReadable(d.state) && !replacedUuid) {
      this.events?.disk(prev, next, undefined, 0, downgradedBy);
      await this.cluster.putDisk(next);
      log.warn(`disk ${d.diskId}: ${prev.state} -> ${d.state}: ${d.evidence.join('; ')}`);
      return;
    }
    // the files whose counted archive was there first (from the index, before any state is
    // recomputed), then every other LFN on the disk (roles may change too)
    const damaged = await this.store.lfnsCountedOnDisk(d.diskId);
    const lfns = await this.store.lfnsOnDisk(d.diskId);
    // The event is stored before the state: a crash in between leaves the old state, so the
    // agent's next report makes the change (and its event) again: at least once, never lost.
    this.events?.disk(prev, next, replacedUuid, lfns.length, downgradedBy);
    const token = this.markers.token();
    await this.cluster.putDisk({ ...next, reclassifyPending: token });
    log.warn(`disk ${d.diskId}: ${prev.state} -> ${d.state}${replacedUuid ? ' (replaced)' : ''}: ${d.evidence.join('; ')}; ${damaged.length} file(s) with a counted archive there`);
    this.markers.reclassify('disk', d.diskId, token, [...new Set([...damaged, ...lfns])]);
  }

  reported(serverId: string): void {
    this.syncing.delete(serverId);
    this.safeMode.reportedBy(serverId);
  }

  /** Servers connected whose inventory (or journal replay) is not complete yet. */
  private readonly syncing = new Map<string, number>();

  /**
   * Why repair may not plan or start now: safe mode, or a connected server still syncing (its
   * archives are missing from the catalog, so files look worse than they are and the server
   * looks free to take archives it already holds).
   */
  private repairGate(): string | undefined {
    if (this.safeMode.isActive) return `safe mode: ${this.safeMode.status().reason}`;
    const syncing = [...this.syncing.keys()].filter((id) => this.registry.connected(id));
    return syncing.length > 0 ? `waiting for the inventory of ${syncing.slice(0, 5).join(', ')}${syncing.length > 5 ? ` and ${syncing.length - 5} more` : ''}` : undefined;
  }

  reclassify(lfns: readonly string[]): void {
    if (lfns.length) this.reclassifier.mark(lfns);
  }

  reclassifyUnlinked(lfns: readonly string[]): void {
    if (lfns.length) this.reclassifier.markUnlinked(lfns);
  }

  lfnsOfArchives(serverId: string, keys: readonly ArchiveRemoval[]): Promise<string[]> {
    return this.store.lfnsOfArchives(serverId, keys);
  }

  rejectedRecord(serverId: string, _reason: string): void {
    this.rejected.set(serverId, (this.rejected.get(serverId) ?? 0) + 1);
  }

  /** Full inventories, replays and digest resyncs (with the records they re-sent) per server since start. */
  readonly syncs = new Map<string, SyncCounts>();

  synced(serverId: string, mode: 'full' | 'replay' | 'digest', records = 0): void {
    const s = this.syncs.get(serverId) ?? { full: 0, replay: 0, digest: 0, digestRecords: 0 };
    if (mode === 'full') s.full++;
    else if (mode === 'replay') s.replay++;
    else {
      s.digest++;
      s.digestRecords += records;
    }
    this.syncs.set(serverId, s);
  }

  repairSessionStarted(s: SessionHandle, instanceChanged: boolean, runningTasks: readonly string[]): Promise<void> {
    return this.repair.agentConnected(s, instanceChanged, runningTasks);
  }

  repairProgress(serverId: string, p: ProgressReport): Promise<void> {
    return this.repair.progress(serverId, p);
  }

  quarantineResult(serverId: string, r: QuarantineResult): void {
    this.debris.onResult(serverId, r);
  }

  async scrubFinding(serverId: string, f: ScrubFinding): Promise<void> {
    if (this.cluster.disk(f.diskId)?.serverId !== serverId) {
      log.warn(`${serverId}: scrub finding for disk ${JSON.stringify(f.diskId.slice(0, 200))}, which is not one of its disks: ignored`);
      return;
    }
    // The agent downgrades the disk right after sending this: count before the first await.
    this.events?.countCorruptStripes(f.diskId, f.problems.length);
    // The catalog's LFN for the archive; the holder's Pfn only when the catalog has none yet.
    const known = await this.store.lfnsOfArchives(serverId, [{ diskId: f.diskId, dataPath: f.dataPath }]);
    const lfn = known[0] ?? f.lfn;
    const entries = f.problems.flatMap((p) => (p.block !== undefined && p.stripe !== undefined ? [{ block: p.block, stripe: p.stripe, ...(p.expectedCrc !== undefined ? { expectedCrc: p.expectedCrc } : {}), ...(p.foundCrc !== undefined ? { foundCrc: p.foundCrc } : {}) }] : []));
    log.warn(`${serverId}: scrub found ${f.problems.length} corrupt or unreadable entr${f.problems.length === 1 ? 'y' : 'ies'} in ${f.diskId} ${f.dataPath}${lfn ? ` (${lfn})` : ''}: ${f.problems.slice(0, 3).map((p) => `${p.name}: ${p.reason}`).join('; ')}`);
    this.events?.corruptionFound(lfn, [{ serverId, diskId: f.diskId, dataPath: f.dataPath, entries }], 'scrub');
  }

  // --- liveness and operator actions
  private async checkLiveness(): Promise<void> {
    const now = Date.now();
    const down: string[] = [];
    // A session still handling a message (a long inventory write) is paused, so its heartbeats
    // wait unread: the coordinator's work is not the agent's silence.
    const up = new Map(this.cluster.listServers().filter((s) => s.state === 'up' && this.registry.get(s.serverId)?.busy !== true).map((s) => [s.serverId, s]));
    // A server sending its inventory waits on the coordinator's reading: its heartbeats queue in
    // the stream behind its batches, and with many inventories at once (a start, a site-wide
    // resync) its turn can come later than --down-after. Connected and syncing, it has longer.
    const limit = (id: string): number => (this.syncing.has(id) && this.registry.connected(id) ? Math.max(10 * this.downAfterMs, SYNC_SILENCE_MS) : this.downAfterMs);
    for (const { serverId, silentMs } of this.liveness.silent(up.keys(), limit)) {
      const lastSeen = this.liveness.lastSeenOf(serverId) ?? up.get(serverId)?.lastSeen ?? 0;
      const lfns = await this.store.lfnsOnServer(serverId);
      // event before state, as for disks: a crash in between finds the server up and silent again
      this.events?.server(serverId, 'server.down', { lastSeen, archives: lfns.length });
      const token = this.markers.token();
      await this.cluster.updateServer(serverId, { state: 'down', since: now, reclassifyPending: token });
      // A session that stayed open but went silent (a stalled agent) is closed: the agent
      // reconnects with a new Hello and comes back up through the normal path.
      this.registry.get(serverId)?.close('SILENT', `no message for ${Math.round(this.downAfterMs / 1000)} s: marked down; reconnect`);
      log.warn(`server ${serverId} down: no message for ${Math.round(silentMs / 1000)} s`);
      this.markers.reclassify('server', serverId, token, lfns);
      down.push(serverId);
    }
    if (down.length) this.safeMode.contactLost(this.cluster.listServers().filter((s) => s.state === 'down').map((s) => s.serverId));
    await this.expireDown(now);
    this.safeMode.evaluate(now);
    if (this.safeWasActive && !this.safeMode.isActive) await this.reclassifier.flush();
    // Out of safe mode, held changes go out in pages in the background (also what a failed or
    // stopped release left); meanwhile new changes queue behind them.
    if (!this.safeMode.isActive && this.events?.hasHeld) void this.events.releaseHeld().catch((err: unknown) => log.error(`releasing held file changes: ${errorText(err)}`));
    this.safeWasActive = this.safeMode.isActive;
  }

  /** Judges the health indicators (never in safe mode: no alerts while the picture forms). */
  private async checkIndicators(): Promise<void> {
    if (this.safeMode.isActive) return;
    const counts = await this.store.fileCounts();
    const disks = this.cluster.listDisks();
    const placeable = placeableServers(this.cluster, this.repair.drain.book);
    const changes = this.indicators.evaluate(Date.now(), {
      placeableServers: placeable, widestProfile: this.profiles.widest(), unavailableFiles: counts.unavailable.count, criticalFiles: counts.critical.count,
      failingDisks: disks.filter((d) => d.state === 'failed' || d.state === 'downgraded').map((d) => d.diskId),
    });
    if (changes.length === 0) return;
    await this.store.setMeta('indicators', JSON.stringify(this.indicators.states()));
    for (const c of changes) {
      log.warn(`health indicator ${c.indicator} ${c.active ? 'RAISED' : 'cleared'}: ${c.details}`);
      this.events?.indicator(c);
    }
  }

  async serverLost(serverId: string): Promise<string> {
    const s = this.cluster.server(serverId);
    if (!s) throw new EcguardError('UNKNOWN_SERVER', `no server ${serverId} in the catalog (see ecguard servers)`);
    if (this.registry.connected(serverId)) throw new EcguardError('SERVER_CONNECTED', `server ${serverId} is connected right now: it is not lost`);
    const n = await this.declareLost(serverId, s.lastSeen, 'operator');
    return `server ${serverId} declared lost: ${n} file(s) reclassified; its archives no longer count`;
  }

  forgetServer(serverId: string): Promise<string> {
    return forgetServer(this.forgetContext(), serverId);
  }

  forgetDisk(diskId: string): Promise<string> {
    return forgetDisk(this.forgetContext(), diskId);
  }

  private forgetContext(): ForgetContext {
    const drain = this.repair.drain;
    return {
      cluster: this.cluster, store: this.store, connected: (id) => this.registry.connected(id), reclassify: (lfns) => this.reclassify(lfns),
      drains: { drains: () => drain.book.drains(), stop: (kind, id) => drain.stop(kind, id) }, ...(this.events ? { events: this.events } : {}),
    };
  }

  private async declareLost(serverId: string, lastSeen: number, by: 'operator' | 'timeout'): Promise<number> {
    const lfns = await this.store.lfnsOnServer(serverId);
    // event before state, as for server.down
    this.events?.server(serverId, 'server.lost', { lastSeen, archives: lfns.length, by });
    const token = this.markers.token();
    await this.cluster.updateServer(serverId, { state: 'lost', since: Date.now(), reclassifyPending: token });
    this.markers.reclassify('server', serverId, token, lfns);
    return lfns.length;
  }

  /** Servers down for longer than server.lostAfter become lost (docs/events.md server.lost). */
  private async expireDown(now: number): Promise<void> {
    // not while evidence is pending (just started: a server down before may be reconnecting)
    if (this.safeMode.isActive) return;
    for (const s of this.cluster.listServers()) {
      // The grace counts from this coordinator's start at the earliest: the time it was itself
      // down is no silence of the server (as repair leases get a fresh one at start).
      if (s.state !== 'down' || now < Math.max(s.since, this.startedAt) + this.lostAfterMs || this.registry.connected(s.serverId)) continue;
      log.warn(`server ${s.serverId} down for longer than server.lostAfter (${Math.round(this.lostAfterMs / 60_000)} min): declared lost; its archives no longer count`);
      await this.declareLost(s.serverId, s.lastSeen, 'timeout');
    }
  }

  /** Forgets what agents told and has every connected agent send a full inventory again. */
  async rebuildCatalog(): Promise<string> {
    this.safeMode.enter('catalog rebuilt from the agents: waiting for every server\'s full inventory');
    // What was announced stays the baseline: after the rebuild only real differences are events.
    const events = this.events;
    if (events) await baselineAnnounced(this.store, (rows) => events.baseline(rows));
    await this.store.clearAgentData();
    for (const s of this.cluster.listServers()) await this.cluster.updateServer(s.serverId, { appliedSeq: 0, inventoried: false });
    this.safeMode.setKnown(this.cluster.listServers().filter((s) => s.state !== 'lost').map((s) => s.serverId));
    const n = this.registry.size;
    for (const s of this.registry.all()) s.close('RESYNC', 'catalog rebuilt: reconnect and send a full inventory');
    return `catalog cleared; ${n} connected agent(s) asked to send full inventories (safe mode until all have)`;
  }
}
