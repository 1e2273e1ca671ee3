// The coordinator's repair: planner, dispatcher, throttles, pause, and what agents report.
// Gated by safe mode and by `ecguard repair pause`: nothing is planned or started then, but
// running tasks finish (they only add archives) and are confirmed.
import { discardingStore } from './partial-discard.js';
import type { FileChange } from '../health/reclassifier.js';
import { REPAIR_TASK_STATES, type RepairTaskRow, type RepairTaskState } from '../../shared/domain/repair-task.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import type { ProgressReport } from '../../shared/wire/repair-wire.js';
import type { RepairHost, RepairSession } from './repair-host.js';
import { corruptSources } from './corrupt-sources.js';
import { RepairDispatcher } from './repair-dispatcher.js';
import { REPAIRABLE, RepairPlanner, type PlanOutcome } from './repair-planner.js';
import { DEFAULT_THROTTLES, mergeThrottles, type RepairSettings, type RepairThrottleSettings } from './repair-settings.js';
import type { PlannerView } from './target-placement.js';
import { failed, isRunning, progressed, requeued } from './task-transitions.js';
import { Throughput } from './throughput.js';
import { DrainManager } from './drain-manager.js';
import { DrainBook, diskTakesPlacements, takesPlacements } from './drain-book.js';

const log = getLogger('repair');
const META_PAUSED = 'repair.paused';
const META_THROTTLES = 'repair.throttles';

export interface RepairStatus {
  readonly paused: boolean;
  readonly gate?: string;
  readonly counts: Record<RepairTaskState, number>;
  readonly tasks: RepairTaskRow[];
  /** taskId → why that queued task was not started at the last dispatch. */
  readonly held: ReadonlyMap<string, string>;
  readonly throttles: RepairThrottleSettings;
  readonly bytesPerSecond: number;
  readonly bytesRebuilt: number;
  readonly waiting: number;
  readonly waitingExamples: string[];
}

export class RepairManager {
  readonly planner: RepairPlanner;
  private readonly dispatcher: RepairDispatcher;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  paused = false;
  throttles: RepairThrottleSettings = DEFAULT_THROTTLES;
  readonly throughput = new Throughput(30_000);
  /** Task starts in order (taskId, redundancy), for metrics and tests. */
  readonly started: { taskId: string; lfn: string; redundancy: number; at: number }[] = [];

  private readonly host: RepairHost;

  /** Operators' drains of disks and servers (`ecguard drain`). */
  readonly drain: DrainManager;

  constructor(host: RepairHost, readonly settings: RepairSettings, initialThrottles?: Partial<RepairThrottleSettings>) {
    const store = discardingStore(host.store, (id) => host.session(id));
    const book = new DrainBook(store, host.cluster);
    this.host = { ...host, store, drains: book };
    host = this.host;
    this.planner = new RepairPlanner(host, settings);
    this.drain = new DrainManager(host, this.planner, book);
    this.dispatcher = new RepairDispatcher(host, this.planner, settings);
    if (initialThrottles) this.throttles = mergeThrottles(DEFAULT_THROTTLES, initialThrottles);
  }

  async start(): Promise<void> {
    this.paused = (await this.host.store.getMeta(META_PAUSED)) === 'true';
    const saved = await this.host.store.getMeta(META_THROTTLES);
    if (saved) this.throttles = mergeThrottles(this.throttles, JSON.parse(saved) as Partial<RepairThrottleSettings>);
    await this.drain.load();
    await this.planner.loadActive();
    // The time this coordinator was down is no silence of the agents: give them a full lease (and
    // verifying tasks a full inventory wait) from now, so they can reconnect and say what they run.
    const now = Date.now();
    const inFlight = await this.host.store.listRepairTasks({ states: ['assigned', 'running', 'verifying'] });
    await this.host.store.putRepairTasks(inFlight.map((t) => (t.state === 'verifying' ? { ...t, updatedAt: Math.max(t.updatedAt, now) } : { ...t, leaseUntil: Math.max(t.leaseUntil ?? 0, now + this.settings.leaseMs) })));
    this.timer = setInterval(() => void this.tick(), this.settings.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  gate(): string | undefined {
    const safe = this.host.gate();
    if (safe) return safe;
    if (this.paused) return 'paused by an operator: tasks are queued but not started (ecguard repair resume)';
    return undefined;
  }

  /** Files whose state changed: candidates for planning. */
  fileChanges(changes: readonly FileChange[]): void {
    this.planner.note(changes.filter((c) => c.next && REPAIRABLE.includes(c.next.state)).map((c) => c.lfn));
  }

  /** Runs a tick now (a slot freed, an operator acted), or right after the running one. */
  kick(): void {
    if (this.ticking) this.again = true;
    else void this.tick();
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    this.again = false;
    try {
      const now = Date.now();
      await this.dispatcher.housekeeping(now);
      // Safe mode stops planning and starting; a pause only stops starting (the queue still shows what waits).
      if (this.host.gate()) return;
      const view = await this.placementView();
      if (this.settings.auto) await this.planner.tick(now, view);
      // drains are an operator's request: planned even without automatic repair planning
      await this.drain.tick(now, view, Math.max(1000, this.throttles.clusterTasks * 20));
      if (this.paused) return;
      for (const t of await this.dispatcher.dispatch(now, this.throttles, view)) this.started.push({ taskId: t.taskId, lfn: t.lfn, redundancy: t.redundancy, at: now });
      if (this.started.length > 10_000) this.started.splice(0, this.started.length - 10_000);
    } catch (err) {
      log.error(`repair tick: ${errorText(err)}`);
    } finally {
      this.ticking = false;
      if (this.again) setImmediate(() => this.kick());
    }
  }

  /** Up servers serving Stripes, their online disks, and repair writes planned on each. */
  async placementView(): Promise<PlannerView> {
    const load = new Map<string, number>();
    const pending = new Map<string, number>();
    const addLoad = (serverId: string, diskId?: string, bytes = 0): void => {
      load.set(serverId, (load.get(serverId) ?? 0) + 1);
      if (diskId !== undefined) pending.set(diskId, (pending.get(diskId) ?? 0) + bytes);
    };
    for (const t of await this.host.store.listRepairTasks({ states: ['queued', 'assigned', 'running'] })) {
      for (const x of t.plan.targets) addLoad(x.serverId, x.diskId, t.plan.bytesWritten / Math.max(1, t.plan.targets.length));
    }
    // drained servers and disks take no new archive
    const book = this.drain.book;
    const servers = this.host.cluster.listServers().filter((s) => takesPlacements(s, book) && (this.host.session(s.serverId)?.stripesAddress ?? '') !== '').map((s) => s.serverId);
    const disks = new Map(servers.map((s) => [s, this.host.cluster.listDisks(s).filter((d) => diskTakesPlacements(d, book)).map((d) => d.diskId)]));
    return {
      servers,
      disksOf: (s, need) => (disks.get(s) ?? []).filter((d) => need === undefined || this.host.space === undefined || this.host.space.hasRoom(d, need, pending.get(d) ?? 0)),
      load: (s) => load.get(s) ?? 0,
      addLoad,
    };
  }

  // --- what agents report

  /** A session started: tasks its executor no longer runs (a restarted agent) fail at once. */
  async agentConnected(s: RepairSession, instanceChanged: boolean, running: readonly string[]): Promise<void> {
    s.sendThrottles(this.wireThrottles());
    const now = Date.now();
    const mine = (await this.host.store.listRepairTasks({ states: ['assigned', 'running'] })).filter((t) => t.executor === s.serverId);
    const lost = mine.filter((t) => instanceChanged || !running.includes(t.taskId));
    // Runs it still has that are no longer its (lease expired, reassigned): stop them now, not at their next report.
    if (!instanceChanged) for (const id of running) if (!mine.some((t) => t.taskId === id)) s.cancelTask(id, 'the task is not assigned to this agent (any more)');
    if (lost.length === 0) return;
    const rows = lost.map((t) => failed(t, { code: 'EXECUTOR_RESTARTED', error: `executor ${s.serverId} restarted while running the task`, now, settings: this.settings }));
    await this.host.store.putRepairTasks(rows.map((r) => (r.state === 'failed' ? { ...r, nextAttemptAt: now } : r)));
    log.warn(`${lost.length} repair task(s) of ${s.serverId} lost with its restart: retried`);
  }

  async progress(serverId: string, p: ProgressReport): Promise<void> {
    const t = await this.host.store.getRepairTask(p.taskId);
    const now = Date.now();
    if (!t || t.executor !== serverId || t.attempt !== p.attempt || !isRunning(t)) {
      // Not (or no longer) this agent's: stop it, unless it already finished.
      if (p.phase !== 'done' && p.phase !== 'failed') this.host.session(serverId)?.cancelTask(p.taskId, 'the task is not assigned to this agent (any more)');
      return;
    }
    if ((p.phase === 'failed' || p.phase === 'done') && p.badEntries.length > 0) {
      const found = corruptSources(t.plan, p.badEntries);
      if (found.length > 0) this.host.events?.corruptionFound?.(t.lfn, found);
    }
    if (p.phase === 'failed') {
      const row = failed(t, { code: p.errorCode ?? 'FAILED', error: p.error ?? 'failed without a reason', now, settings: this.settings });
      await this.host.store.putRepairTasks([{ ...row, sourceProblems: p.sourceProblems, progress: { phase: 'failed', blocksDone: p.blocksDone, blocksTotal: p.blocksTotal, bytesRead: p.bytesRead, bytesWritten: p.bytesWritten } }]);
      log.warn(`repair ${t.taskId} of ${t.lfn} failed on ${serverId} (attempt ${t.attempt}): ${p.errorCode ?? ''} ${p.error ?? ''}${row.state === 'parked' ? ' — parked for an operator' : ''}`);
      this.host.events?.repairFailed(row);
      this.kick();
      return;
    }
    const prevBytes = t.progress?.bytesWritten ?? 0;
    this.throughput.add(now, Math.max(0, p.bytesWritten - prevBytes));
    await this.host.store.putRepairTasks([progressed(t, p, now, this.settings.leaseMs)]);
    if (p.phase === 'done') this.kick();
  }

  // --- operator actions

  async run(sel: { lfn?: string; diskId?: string; all?: boolean; dryRun?: boolean }): Promise<PlanOutcome[]> {
    const gate = this.host.gate();
    if (gate && !sel.dryRun) throw new EcguardError('SAFE_MODE', `no repair is planned now (${gate}); in safe mode \`ecguard safemode leave\` overrides; --dry-run shows the plan`);
    let lfns: string[];
    if (sel.lfn) lfns = [sel.lfn];
    else if (sel.diskId) {
      if (!this.host.cluster.disk(sel.diskId)) throw new EcguardError('UNKNOWN_DISK', `no disk ${sel.diskId} in the catalog (see ecguard disks)`);
      lfns = await this.host.store.lfnsOnDisk(sel.diskId);
    } else if (sel.all) lfns = (await this.host.store.listFiles({ states: REPAIRABLE, limit: 1_000_000 })).map((f) => f.lfn);
    else throw new EcguardError('USAGE', 'say what to repair: --file LFN, --disk ID or --all');
    const view = await this.placementView();
    const out: PlanOutcome[] = [];
    for (let i = 0; i < lfns.length; i += 500) out.push(...(await this.planner.plan(lfns.slice(i, i + 500), { now: Date.now(), view, force: true, dryRun: sel.dryRun === true })));
    if (!sel.dryRun) this.kick();
    return out;
  }

  async setPaused(paused: boolean): Promise<string> {
    this.paused = paused;
    await this.host.store.setMeta(META_PAUSED, String(paused));
    if (!paused) this.kick();
    return paused ? 'repair paused: tasks are still planned and queued, none is started; running tasks finish' : 'repair resumed';
  }

  async retry(taskId: string): Promise<string> {
    const t = await this.host.store.getRepairTask(taskId);
    if (!t) throw new EcguardError('UNKNOWN_TASK', `no repair task ${taskId} (see ecguard repair status)`);
    if (t.state !== 'parked' && t.state !== 'failed') throw new EcguardError('TASK_NOT_FAILED', `task ${taskId} is ${t.state}: only failed or parked tasks are retried`);
    await this.host.store.putRepairTasks([requeued(t, Date.now(), true)]);
    this.planner.active.add(t.lfn);
    this.kick();
    return `task ${taskId} (${t.lfn}) queued again with a fresh attempt count`;
  }

  async setThrottles(patch: Partial<RepairThrottleSettings>): Promise<RepairThrottleSettings> {
    this.throttles = mergeThrottles(this.throttles, patch);
    await this.host.store.setMeta(META_THROTTLES, JSON.stringify(this.throttles));
    for (const s of this.host.sessions()) s.sendThrottles(this.wireThrottles());
    return this.throttles;
  }

  wireThrottles(): { maxTasks: number; maxSourceStreams: number; mbPerS: number } {
    return { maxTasks: this.throttles.perAgentTasks, maxSourceStreams: this.throttles.perSourceStreams, mbPerS: this.throttles.perAgentMBps };
  }

  async status(limit: number, includeFinished: boolean): Promise<RepairStatus> {
    const counts = await this.host.store.repairTaskCounts();
    const states = REPAIR_TASK_STATES.filter((s) => includeFinished || (s !== 'done' && s !== 'cancelled'));
    const tasks = await this.host.store.listRepairTasks({ states, limit });
    const order = (t: RepairTaskRow): number => (isRunning(t) || t.state === 'verifying' ? 0 : t.state === 'queued' ? 1 : 2);
    tasks.sort((a, b) => order(a) - order(b));
    const gate = this.gate();
    const held = new Map<string, string>();
    for (const t of tasks) {
      const why = t.state === 'queued' ? this.dispatcher.heldReason(t.taskId) : undefined;
      if (why !== undefined) held.set(t.taskId, why);
    }
    return {
      paused: this.paused, ...(gate ? { gate } : {}), counts, tasks, held, throttles: this.throttles, bytesPerSecond: this.throughput.rate(Date.now()),
      // Since this coordinator started (summing every done task's archives would read them all).
      bytesRebuilt: this.throughput.total,
      waiting: this.planner.waiting.size, waitingExamples: [...this.planner.waiting].slice(0, 5).map(([lfn, w]) => `${lfn}: ${w.reason}`),
    };
  }
}
