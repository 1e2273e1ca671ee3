// Turns what the coordinator learns into data-safety events, written to the event log (the
// outbox) before anything is published. No alert storm after a restart: while safe mode is on,
// file events are held and, when it ends, only each file's net change is recorded.
import { makeEvent, type EcguardEvent, type EventType } from '../../shared/domain/event.js';
import type { FileState } from '../../shared/domain/file-health.js';
import { faultPoint } from '../../shared/fault-point.js';
import { getLogger } from '../../shared/logger.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { DiskRow, FileRow } from '../catalog/catalog-types.js';
import type { DebrisFound, FileChange } from '../health/reclassifier.js';
import type { CorruptSource } from '../repair/corrupt-sources.js';
import type { Drain } from '../repair/drain-book.js';
import { Census, type CensusTally } from './census.js';
import type { EventLog } from './event-log.js';
import type { IndicatorChange } from '../health/health-indicators.js';
import type { PlacedRef, RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { QuarantineResult } from '../../shared/domain/debris-order.js';

const log = getLogger('events');
/** Events carry CRCs as 8 lowercase hex digits (docs/events.md). */
const crcHex = (crc: number): string => (crc >>> 0).toString(16).padStart(8, '0');
const ALERT_STATES: ReadonlySet<FileState> = new Set(['degraded', 'critical', 'lost']);

// Raised indicators: files one loss from data loss or unreadable page someone; the others warn.
const INDICATOR_SEVERITY: Record<IndicatorChange['indicator'], 'warning' | 'critical'> = {
  'low-durability': 'critical',
  'last-copy-offline': 'critical',
  'insufficient-storage': 'warning',
  'disk-failing': 'warning',
};

export class EventRecorder {

  private readonly announcedDebris = new Set<string>();
  /** Corrupt stripes reported per disk in this run (the disk.downgraded event says how many). */
  private readonly corruptStripes = new Map<string, number>();
  /** Changes are held while anything is: a file's events then stay in order across a release. */
  private backlog: boolean;
  private release: Promise<number> | undefined;
  private stopping = false;
  private readonly census: Census;
  /** When the census may end (coordinator.ts: every known server has reported). */
  private censusMayEnd: () => boolean = () => true;

  constructor(
    private readonly cluster: string,
    private readonly log: EventLog,
    private readonly profileFor: (lfn: string) => EcProfile | undefined,
    private readonly inSafeMode: () => boolean,
    private readonly appended: () => void,
    /** server.lostAfter: when a down server's archives stop counting (server.down's lostAt). */
    private readonly lostAfterMs = 3_600_000,
    /** Held changes released per transaction. */
    private readonly releasePageSize = 10_000,
  ) {
    this.backlog = log.held.any();
    this.census = new Census(log);
  }

  private write(events: EcguardEvent[]): void {
    if (events.length === 0) return;
    this.log.append(events);
    this.appended();
  }

  /** The catalog knows no server: its first census starts (census.ts). */
  beginCensus(): void {
    this.census.begin();
  }

  get censusPending(): boolean {
    return this.census.pending;
  }

  /** The first census's tally while it lasts (ecguard status). */
  get censusTally(): CensusTally | undefined {
    return this.census.current;
  }

  setCensusGate(mayEnd: () => boolean): void {
    this.censusMayEnd = mayEnd;
  }

  private safeMake<T extends EventType>(...args: Parameters<typeof makeEvent<T>>): EcguardEvent | undefined {
    try {
      return makeEvent(...args);
    } catch (err) {
      log.error(`event ${args[1]} not recorded: ${(err as Error).message}`);
      return undefined;
    }
  }

  fileChanges(changes: readonly FileChange[]): void {
    // held on disk: a restart during safe mode must not lose them (nor memory hold a catalog's worth)
    if (this.inSafeMode() || this.backlog) {
      this.backlog = true;
      this.log.held.hold(changes.map((c) => ({
        lfn: c.lfn, ...(c.prev ? { prev: c.prev } : {}), ...(c.next ? { next: c.next } : {}),
        ...(c.servers ? { servers: c.servers } : {}), ...(c.serversAway ? { serversAway: c.serversAway } : {}),
      })));
    }
    else if (this.census.pending) {
      // the tally is saved with the events it explains
      const events = this.census.counting(() => {
        const out = changes.flatMap((c) => this.fileEvents(c.lfn, c.prev, c.next, c.servers, c.serversAway));
        this.log.append(out, () => this.census.save());
        return out;
      });
      if (events.length > 0) this.appended();
    } else this.write(changes.flatMap((c) => this.fileEvents(c.lfn, c.prev, c.next, c.servers, c.serversAway)));
  }

  /** Counted for the disk.downgraded event; a scrub finding is counted as it arrives, before its LFN is looked up. */
  countCorruptStripes(diskId: string, n: number): void {
    this.corruptStripes.set(diskId, (this.corruptStripes.get(diskId) ?? 0) + n);
  }

  /**
   * Stripes whose bytes do not match their CRC: found by a repair reading its sources, or by the
   * holder's scrub. `lfn` is undefined when neither the catalog nor the archive's Pfn names it.
   */
  corruptionFound(lfn: string | undefined, found: readonly CorruptSource[], detectedBy: 'repair' | 'scrub' = 'repair'): void {
    this.write(found.flatMap((c) => {
      const named = c.entries;
      if (named.length === 0) return [];
      if (detectedBy === 'repair') this.countCorruptStripes(c.diskId, named.length);
      const first = named.slice(0, 3).map((e) => `block ${e.block}, stripe ${e.stripe}`).join('; ');
      const what = lfn ?? `the archive ${c.dataPath}`;
      const by = detectedBy === 'scrub' ? 'the scrub of its disk' : 'a repair';
      return this.safeMake(this.cluster, 'corruption.found', { ...(lfn ? { lfn } : {}), serverId: c.serverId, diskId: c.diskId },
        `${by} found ${named.length} stripe(s) of ${what} on ${c.diskId} with a CRC that does not match (${first}${named.length > 3 ? '; …' : ''}): the disk may be failing`,
        { dataPath: c.dataPath, detectedBy, entries: named.slice(0, 1000).map((e) => ({ block: e.block, stripe: e.stripe, ...(e.expectedCrc !== undefined ? { expectedCrc: crcHex(e.expectedCrc) } : {}), ...(e.foundCrc !== undefined ? { actualCrc: crcHex(e.foundCrc) } : {}) })) }) ?? [];
    }));
  }

  /** Archives that just became debris (an older version, or left behind by a deletion). */
  debrisFound(found: readonly DebrisFound[]): void {
    // An archive's role flaps debris -> superseded -> debris while a server of its file is down
    // and back: announce each archive once per coordinator run.
    const fresh = found.filter((d) => {
      const key = `${d.serverId}\0${d.diskId}\0${d.dataPath}\0${d.strpver ?? ''}`;
      if (this.announcedDebris.has(key)) return false;
      if (this.announcedDebris.size >= 200_000) this.announcedDebris.clear(); // bounded memory
      this.announcedDebris.add(key);
      return true;
    });
    this.write(fresh.flatMap((d) => this.safeMake(this.cluster, 'debris.found', { lfn: d.lfn, serverId: d.serverId, diskId: d.diskId }, `${d.diskId} holds debris of ${d.lfn}: ${d.reason}`, {
      dataPath: d.dataPath, kind: d.kind, size: d.size, ...(d.strpver !== undefined ? { strpver: d.strpver } : {}), ...(d.latestStrpver !== undefined ? { latestStrpver: d.latestStrpver } : {}),
    }) ?? []));
  }

  /** An archive moved aside by `ecguard debris quarantine` (the holder said so). */
  debrisQuarantined(a: { lfn: string; serverId: string; diskId: string; dataPath: string; size: number }, r: QuarantineResult): void {
    const purgeAfter = new Date(r.purgeAfterMs ?? Date.now()).toISOString();
    this.write([this.safeMake(this.cluster, 'debris.quarantined', { lfn: a.lfn, serverId: a.serverId, diskId: a.diskId }, `${a.diskId} moved debris of ${a.lfn} aside (${r.quarantinePath ?? '?'}); purged after ${purgeAfter}`, {
      dataPath: a.dataPath, quarantinePath: r.quarantinePath ?? a.dataPath, size: a.size, purgeAfter, ...(r.linkRemoved !== undefined ? { linkRemoved: r.linkRemoved } : {}),
    })].filter((e): e is EcguardEvent => e !== undefined));
  }

  /** Files as announced before a catalog rebuild: the baseline of their next changes (held-file-changes.ts). */
  baseline(rows: readonly FileRow[]): void {
    this.log.held.baseline(rows);
    if (rows.length > 0) this.backlog = true;
  }

  /** Whether held changes (or a census's end) wait for a release (safe mode over: the coordinator calls releaseHeld). */
  get hasHeld(): boolean {
    return this.backlog || this.census.pending;
  }

  /**
   * Safe mode ended: record each held file's net change (with a restart's held ones too), a
   * page per transaction, yielding between pages; stops early when safe mode comes back.
   * Concurrent calls share one run. Resolves to the number of events written.
   */
  releaseHeld(): Promise<number> {
    this.release ??= this.releasePages().finally(() => (this.release = undefined));
    return this.release;
  }

  /** Lets a running release finish its page and stop (before the log is closed). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.release?.catch(() => undefined);
  }

  private async releasePages(): Promise<number> {
    let n = 0;
    while (!this.inSafeMode() && !this.stopping) {
      const census = this.census.pending ? () => this.census.save() : undefined;
      const page = this.census.counting(() => this.log.held.releasePage((c) => this.fileEvents(c.lfn, c.prev, c.next, c.servers, c.serversAway), this.releasePageSize, census));
      n += page.events;
      if (page.events > 0) this.appended();
      // a short page took every row left; nothing can be held between it and this line
      if (page.rows < this.releasePageSize) {
        this.backlog = false;
        if (this.census.pending && this.censusMayEnd()) n += this.endCensus();
        break;
      }
      faultPoint('held-release-page');
      await new Promise((resolve) => setImmediate(resolve));
    }
    return n;
  }

  /** The census's one event, written with the tally's end in one transaction. */
  private endCensus(): number {
    let written = 0;
    this.log.append([], () => {
      const t = this.census.end();
      if (!t) return;
      const e = this.safeMake(this.cluster, 'census.completed', {},
        `first census of a new catalog: ${t.files} file(s), ${t.bytes} bytes; ${t.notAnnounced} written before it are not announced one by one as file.created (\`ecguard files\` lists them)`,
        { startedAt: new Date(t.startedAt).toISOString(), files: t.files, bytes: t.bytes, notAnnounced: t.notAnnounced });
      if (e) {
        this.log.append([e]);
        written = 1;
      }
      log.info(`first census done: ${t.files} file(s), ${t.notAnnounced} not announced as created`);
    });
    if (written > 0) this.appended();
    return written;
  }

  private fileEvents(lfn: string, prev: FileRow | undefined, next: FileRow | undefined, servers: readonly string[] = [], serversAway: readonly string[] = []): EcguardEvent[] {
    const out: (EcguardEvent | undefined)[] = [];
    const profile = this.profileFor(lfn);
    if (!profile) return [];
    if (!next) {
      if (prev) out.push(this.safeMake(this.cluster, 'file.deleted', { lfn }, `${lfn} was deleted`, { ...(prev.latestStrpver !== undefined ? { strpver: prev.latestStrpver } : {}), ...(prev.filesize !== undefined ? { filesize: prev.filesize } : {}), serversAway: [...serversAway] }));
      return out.filter((e): e is EcguardEvent => e !== undefined);
    }
    const quiet = this.census.pending && this.census.quiet(prev, next);
    if (next.createdAt !== undefined && (prev?.createdAt === undefined || prev.latestStrpver !== next.latestStrpver) && !quiet) {
      out.push(this.safeMake(this.cluster, 'file.created', { lfn }, `${lfn} (strpver ${next.latestStrpver}) is complete`, { ...(next.latestStrpver !== undefined ? { strpver: next.latestStrpver } : {}), filesize: next.filesize ?? next.bytes, profile, servers: [...servers] }));
    }
    if (ALERT_STATES.has(next.state) && prev?.state !== next.state) {
      const data = {
        ...(prev ? { previousState: prev.state } : {}), redundancy: next.redundancy, available: next.available, unavailable: next.unavailable, profile,
        ...(next.latestStrpver !== undefined ? { strpver: next.latestStrpver } : {}), ...(next.filesize !== undefined ? { filesize: next.filesize } : {}),
      };
      const type = `file.${next.state}` as 'file.degraded' | 'file.critical' | 'file.lost';
      out.push(this.safeMake(this.cluster, type, { lfn }, next.reason, { ...data, state: next.state } as never));
    }
    return out.filter((e): e is EcguardEvent => e !== undefined);
  }

  disk(prev: DiskRow | undefined, next: DiskRow, replacedUuid: string | undefined, archives: number, downgradedBy: 'corruption' | 'operator' = 'corruption'): void {
    const subject = { serverId: next.serverId, diskId: next.diskId };
    const events: (EcguardEvent | undefined)[] = [];
    if (replacedUuid) {
      events.push(this.safeMake(this.cluster, 'disk.replaced', subject, `a different disk is mounted at ${next.path}: the old one's archives are gone`, { path: next.path, oldUuid: replacedUuid, ...(next.uuid ? { newUuid: next.uuid } : {}), archivesLost: archives }));
    }
    const down = (s: string | undefined): boolean => s === 'failed' || s === 'missing';
    // a disk first reported unusable (configured but not mounted, say) is announced too
    if (down(next.state) && !down(prev?.state)) {
      const first = prev === undefined ? ' since its agent first reported it' : '';
      events.push(this.safeMake(this.cluster, 'disk.failed', subject, `disk ${next.diskId} is ${next.state}${first}: ${next.evidence.join('; ') || 'no detail'}`, { path: next.path, ...(prev ? { previousState: prev.state } : {}), error: (next.evidence.join('; ') || next.state).slice(0, 2000), archives }));
    }
    if (prev && prev.state !== next.state && next.state === 'downgraded') {
      events.push(this.safeMake(this.cluster, 'disk.downgraded', subject, `disk ${next.diskId} downgraded: ${next.evidence.join('; ')}`, { path: next.path, previousState: prev.state, corruptStripes: this.corruptStripes.get(next.diskId) ?? 0, by: downgradedBy }));
    }
    this.write(events.filter((e): e is EcguardEvent => e !== undefined));
  }

  indicator(c: IndicatorChange): void {
    const e = this.safeMake(this.cluster, 'health.changed', { indicator: c.indicator }, `${c.indicator} ${c.active ? 'raised' : 'cleared'}: ${c.details}`,
      { active: c.active, since: new Date(c.since).toISOString(), ...(c.count !== undefined ? { count: c.count } : {}), details: c.details.slice(0, 2000) }, c.active ? INDICATOR_SEVERITY[c.indicator] : 'info');
    if (e) this.write([e]);
  }

  server(serverId: string, type: 'server.down' | 'server.up' | 'server.lost', detail: { lastSeen?: number; since?: number; archives?: number; previousState?: 'down' | 'lost'; by?: 'timeout' | 'operator' }): void {
    const iso = (ms: number | undefined): string => new Date(ms ?? Date.now()).toISOString();
    let e: EcguardEvent | undefined;
    // lostAt: when its archives stop counting unless it returns (server.lostAfter).
    if (type === 'server.down') e = this.safeMake(this.cluster, type, { serverId }, `server ${serverId} stopped reporting: its archives are unavailable, not lost`, { lastSeen: iso(detail.lastSeen), lostAt: iso(Date.now() + this.lostAfterMs), archives: detail.archives ?? 0 });
    else if (type === 'server.up') e = this.safeMake(this.cluster, type, { serverId }, `server ${serverId} is reporting again`, { downSince: iso(detail.since), previousState: detail.previousState ?? 'down' });
    else e = this.safeMake(this.cluster, type, { serverId }, `server ${serverId} declared lost: its archives no longer count`, { ...(detail.lastSeen !== undefined ? { lastSeen: iso(detail.lastSeen) } : {}), by: detail.by ?? 'operator', archives: detail.archives ?? 0 });
    if (e) this.write([e]);
  }

  /** The target's inventory shows the rebuilt archive(s). */
  repaired(task: RepairTaskRow, file: FileRow | undefined, placed: readonly PlacedRef[]): void {
    const profile = this.profileFor(task.lfn) ?? task.plan.profile;
    const state = file?.state === 'healthy' || file?.state === 'degraded' || file?.state === 'critical' ? file.state : undefined;
    if (!state || placed.length === 0) return; // worse again already: its own state event says so
    // Disk ids usually start with their server id already ("srv02:/disk/sda").
    const where = placed.map((p) => (p.diskId.startsWith(`${p.serverId}:`) ? p.diskId : `${p.serverId}:${p.diskId}`)).join(', ');
    const moved = Math.min(task.evacuates ?? 0, placed.length);
    const what = moved === placed.length ? `${moved} archive(s) moved off a drained disk or server to ${where}` : `${placed.length} archive(s) written to ${where}${moved > 0 ? ` (${moved} moved off a drained disk or server)` : ''}`;
    const e = this.safeMake(this.cluster, 'file.repaired', { lfn: task.lfn }, `${task.lfn} was rebuilt: ${what}${state === 'healthy' ? (moved === placed.length ? '' : ', full redundancy again') : `, now ${state}`}`, {
      ...(task.fileState && ['healthy', 'degraded', 'critical', 'unavailable', 'lost', 'incomplete', 'pending'].includes(task.fileState) ? { previousState: task.fileState as FileState } : {}),
      redundancy: file?.redundancy ?? 0, available: file?.available ?? 0, unavailable: file?.unavailable ?? 0, profile,
      strpver: task.plan.strpver, filesize: task.plan.filesize, state, taskId: task.taskId,
      rebuilt: placed.map((p) => ({ stripe: p.slot, serverId: p.serverId, diskId: p.diskId })), ...(moved > 0 ? { moved } : {}),
    } as never);
    if (e) this.write([e]);
  }

  drain(type: 'drain.started' | 'drain.stopped' | 'drain.completed', d: Drain, subject: { serverId: string; diskId?: string }, detail: { disks?: number; remaining?: number }): void {
    const what = `${d.kind} ${d.id}`;
    const since = new Date(d.since).toISOString();
    let e: EcguardEvent | undefined;
    if (type === 'drain.started') e = this.safeMake(this.cluster, type, subject, `${what} is being drained${d.reason ? ` (${d.reason})` : ''}: its archives are rebuilt elsewhere, after the repairs`, { kind: d.kind, reason: d.reason, disks: detail.disks ?? 0 });
    else if (type === 'drain.stopped') e = this.safeMake(this.cluster, type, subject, `drain of ${what} stopped: ${detail.remaining ?? 0} file(s) still count an archive there`, { kind: d.kind, since, remaining: detail.remaining ?? 0 });
    else e = this.safeMake(this.cluster, type, subject, `${what} is drained: no file counts an archive there any more (its duplicates can be quarantined: ecguard debris quarantine --server ${subject.serverId})`, { kind: d.kind, since, disks: detail.disks ?? 0 });
    if (e) this.write([e]);
  }

  /** An operator forgot a lost server or a missing/failed disk (`ecguard server|disk forget`). */
  forgotten(kind: 'server' | 'disk', subject: { serverId: string; diskId?: string }, archives: number, files: number): void {
    const what = kind === 'server' ? `server ${subject.serverId}` : `disk ${subject.diskId ?? '?'}`;
    const e = this.safeMake(this.cluster, kind === 'server' ? 'server.forgotten' : 'disk.forgotten', subject, `${what} forgotten by an operator: ${archives} archive row(s) of ${files} file(s) dropped from the catalog`, { archives, files });
    if (e) this.write([e]);
  }

  repairFailed(task: RepairTaskRow): void {
    const parked = task.state === 'parked';
    const e = this.safeMake(this.cluster, 'repair.failed', { lfn: task.lfn }, `repair of ${task.lfn} failed (attempt ${task.attempt}): ${task.error ?? 'no reason'}${parked ? '; parked for an operator (ecguard repair retry)' : task.nextAttemptAt ? `; retrying at ${new Date(task.nextAttemptAt).toISOString()}` : ''}`, {
      taskId: task.taskId, attempt: Math.max(1, task.attempt), parked, error: (task.error ?? 'unknown').slice(0, 2000), ...(task.executor ? { executor: task.executor } : {}),
      ...(task.nextAttemptAt && !parked ? { retryAt: new Date(task.nextAttemptAt).toISOString() } : {}),
    }, parked ? 'critical' : undefined);
    if (e) this.write([e]);
  }
}
