// Starts queued tasks within the throttles, watches leases, retries failures and confirms
// finished tasks against the catalog. Order is strict by priority class: while a task of
// redundancy r waits for an executor slot, no task of higher redundancy starts (critical first).
// Every task is re-planned from the current catalog right before it starts, so a stale plan
// (server gone, file healthy again or rewritten) is never sent.
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { ReplacedArchive } from '../catalog/catalog-types.js';
import { getLogger } from '../../shared/logger.js';
import { repairOrderToWire } from '../../shared/wire/repair-wire.js';
import type { RepairHost } from './repair-host.js';
import { confirmPlaced } from './placed-confirmation.js';
import { planRepair } from './repair-plan.js';
import { evidenceFor, loadPlanEvidence } from './plan-evidence.js';
import { withEvacuates, type RepairPlanner } from './repair-planner.js';
import type { RepairSettings, RepairThrottleSettings } from './repair-settings.js';
import type { PlacementView } from './target-placement.js';
import { assigned, failed, finished, isRunning, requeued } from './task-transitions.js';
import { droppedTargets, preferredTargets } from './attempt-targets.js';
import { drainInput } from './drain-book.js';

const log = getLogger('repair');

export class RepairDispatcher {
  /** When each verifying task asked for a rescan (once). */
  private readonly rescanAsked = new Set<string>();
  /** Queued tasks that must wait (a down server's grace), not re-planned before this time. */
  private readonly waitUntil = new Map<string, number>();
  /** Why each queued task the last dispatch looked at was not started (`ecguard repair status`). */
  private held = new Map<string, string>();

  /** Why a queued task was not started at the last dispatch; undefined: its turn has not come. */
  heldReason(taskId: string): string | undefined {
    return this.held.get(taskId);
  }

  constructor(private readonly host: RepairHost, private readonly planner: RepairPlanner, private readonly settings: RepairSettings) {}

  /** Leases, retries and inventory confirmation: runs even in safe mode (they only watch). */
  async housekeeping(now: number): Promise<void> {
    const store = this.host.store;
    const live = await store.listRepairTasks({ states: ['assigned', 'running', 'verifying', 'failed'] });
    const changed: RepairTaskRow[] = [];
    const verifying = live.filter((t) => t.state === 'verifying');
    for (const t of live) {
      if (isRunning(t) && t.leaseUntil !== undefined && t.leaseUntil < now) {
        const f = failed(t, { code: 'LEASE_EXPIRED', error: `no progress from executor ${t.executor ?? '?'} for ${Math.round(this.settings.leaseMs / 1000)} s: its agent died or lost contact`, now, settings: this.settings });
        this.host.session(t.executor ?? '')?.cancelTask(t.taskId, 'lease expired: reassigned');
        changed.push(f);
        this.host.events?.repairFailed(f);
      } else if (t.state === 'failed' && (t.nextAttemptAt ?? 0) <= now) {
        changed.push(requeued(t, now));
      }
    }
    if (verifying.length > 0) {
      const archives = await store.archivesOf([...new Set(verifying.map((t) => t.lfn))]);
      const done: RepairTaskRow[] = [];
      for (const t of verifying) {
        const c = confirmPlaced(t, archives.get(t.lfn) ?? []);
        if (c.kind === 'mismatch') {
          changed.push(failed(t, { code: c.code ?? 'DIRECTORY_MISMATCH', error: c.reason, now, settings: this.settings }));
        } else if (c.kind === 'done') {
          done.push(finished(t, 'done', now));
          this.rescanAsked.delete(t.taskId);
        } else if (!t.placed.every((p) => this.host.session(p.serverId))) {
          // A holder that is not connected cannot show its inventory: no evidence either way yet,
          // unless it is gone for good (lost, or down past server.lostAfter): then the task is
          // retried, or it would stay verifying (and its file never planned again) forever.
          const gone = t.placed.map((p) => p.serverId).filter((id) => {
            const x = this.host.cluster.server(id);
            return !this.host.session(id) && (x === undefined || x.state === 'lost' || (x.state === 'down' && now >= x.since + this.settings.lostAfterMs));
          });
          if (gone.length > 0) changed.push(failed(t, { code: 'HOLDER_LOST', error: `the server(s) holding the new archive(s) are gone before their inventory showed them: ${[...new Set(gone)].join(', ')}`, now, settings: this.settings }));
        } else if (now - t.updatedAt > this.settings.inventoryWaitMs * 4) {
          changed.push(failed(t, { code: 'NOT_IN_INVENTORY', error: `the new archive(s) never showed in the inventory of ${t.placed.map((p) => p.serverId).join(', ')}`, now, settings: this.settings }));
        } else if (now - t.updatedAt > this.settings.inventoryWaitMs && !this.rescanAsked.has(t.taskId)) {
          this.rescanAsked.add(t.taskId);
          for (const p of t.placed) this.host.session(p.serverId)?.requestRescan([p.diskId], `repair ${t.taskId} wrote ${p.dataPath}`);
        }
      }
      if (done.length > 0) {
        // The archives the tasks rebuilt: every current one that was neither a source nor new.
        const gone: ReplacedArchive[] = [];
        for (const t of done) {
          const keep = new Set([...t.plan.sources, ...t.placed].map((a) => `${a.serverId}\0${a.diskId}\0${a.dataPath}`));
          for (const a of archives.get(t.lfn) ?? []) {
            if (a.strpver === t.plan.strpver && !keep.has(`${a.serverId}\0${a.diskId}\0${a.dataPath}`)) {
              gone.push({ lfn: t.lfn, serverId: a.serverId, diskId: a.diskId, dataPath: a.dataPath, strpver: t.plan.strpver, taskId: t.taskId, at: now });
            }
          }
        }
        await store.addReplacedArchives(gone);
        await store.putRepairTasks(done);
        for (const t of done) this.planner.active.delete(t.lfn);
        this.host.reclassify(done.map((t) => t.lfn));
        await this.host.flushReclassify();
        const files = await store.filesOf(done.map((t) => t.lfn));
        for (const t of done) this.host.events?.repaired(t, files.get(t.lfn), t.placed);
        log.info(`${done.length} repair task(s) done`);
      }
    }
    if (changed.length > 0) await store.putRepairTasks(changed);
  }

  /**
   * Targets an earlier attempt had that this one does not (their disk failed, their server is
   * full): their partial archives would stay until that agent restarts. Servers with no slot in
   * the new plan drop them now (one with a slot may run the new attempt: not told to cancel).
   */
  private dropLeftTargets(prev: RepairTaskRow, targets: RepairTaskRow['plan']['targets']): void {
    // the last attempt's targets, not only the plan's: a refresh while queued may have moved those
    for (const [serverId, slots] of droppedTargets(prev, targets)) this.host.session(serverId)?.cancelTask(prev.taskId, 'no longer a target of this task: drop its partial archive', slots);
  }

  /** Starts queued tasks within the throttles. */
  async dispatch(now: number, throttles: RepairThrottleSettings, view: PlacementView): Promise<RepairTaskRow[]> {
    const store = this.host.store;
    const running = (await store.listRepairTasks({ states: ['assigned', 'running'] }));
    const perAgent = new Map<string, number>();
    for (const t of running) perAgent.set(t.executor ?? '', (perAgent.get(t.executor ?? '') ?? 0) + 1);
    let cluster = running.length;
    if (cluster >= throttles.clusterTasks) return [];
    for (const [id, until] of this.waitUntil) if (until <= now) this.waitUntil.delete(id);
    // Tasks known to wait do not take the window's places (they would starve every task behind them).
    const queued = await store.listRepairTasks({ states: ['queued'], limit: Math.max(200, throttles.clusterTasks * 8) + this.waitUntil.size });
    let blockedClass: number | undefined;
    const started: RepairTaskRow[] = [];
    const held = new Map<string, string>();
    const hold = (t: RepairTaskRow, why: string): void => void held.set(t.taskId, why);
    const previous = this.held;
    this.held = held;
    const lfns = [...new Set(queued.map((t) => t.lfn))];
    const evidence = await loadPlanEvidence(store, lfns);
    for (const t of queued) {
      if (cluster >= throttles.clusterTasks) break;
      if (blockedClass !== undefined && t.redundancy > blockedClass) break;
      if (this.waitUntil.has(t.taskId)) {
        hold(t, previous.get(t.taskId) ?? 'waiting for a down server\'s grace');
        continue;
      }
      // Its last attempt's fate is unknown (lease expired) and its executor has not reconnected:
      // that run may still be writing, so no other attempt (maybe onto other targets) starts yet.
      if (t.errorCode === 'LEASE_EXPIRED' && t.executor !== undefined && !this.host.session(t.executor)) {
        const x = this.host.cluster.server(t.executor);
        // as long as a down server's grace: critical files wait only criticalAfter
        const grace = t.redundancy <= 0 ? this.settings.criticalAfterMs : this.settings.lostAfterMs;
        if (x && x.state !== 'lost' && (x.state !== 'down' || now < x.since + grace)) {
          hold(t, `its last attempt on ${t.executor} may still be writing (lease expired, ${t.executor} not reconnected); no other attempt starts before it reconnects or its grace ends`);
          continue;
        }
      }
      const profile = this.host.profileFor(t.lfn) ?? t.plan.profile;
      const d = planRepair({
        lfn: t.lfn, ...evidenceFor(evidence, t.lfn), profile, nowMs: now, lostAfterMs: this.settings.lostAfterMs, criticalAfterMs: this.settings.criticalAfterMs,
        server: (id) => this.host.cluster.server(id), disk: (id) => this.host.cluster.disk(id), placement: view, previousTargets: preferredTargets(t), ...(t.forced ? { force: true } : {}),
        ...drainInput(this.host.drains),
      });
      if (d.kind === 'none') {
        await store.putRepairTasks([finished(t, 'cancelled', now, d.reason)]);
        this.planner.active.delete(t.lfn);
        continue;
      }
      if (d.kind === 'wait') {
        this.waitUntil.set(t.taskId, Math.min(d.until, now + 5_000)); // re-checked soon: the server may come back
        hold(t, d.reason);
        continue;
      }
      if (d.kind === 'impossible') {
        await store.putRepairTasks([failed(t, { code: 'CANNOT_PLAN', error: d.reason, now, settings: this.settings, noAttempt: t.attempt > 0 })]);
        continue;
      }
      // The executor writes one target locally: any target server with a free slot.
      const executor = d.plan.targets
        .map((x) => x.serverId)
        .filter((s) => (this.host.session(s)?.stripesAddress ?? '') !== '' && (perAgent.get(s) ?? 0) < throttles.perAgentTasks)
        .sort((a, b) => (perAgent.get(a) ?? 0) - (perAgent.get(b) ?? 0))[0];
      const session = executor !== undefined ? this.host.session(executor) : undefined;
      if (executor === undefined || !session) {
        blockedClass ??= t.redundancy;
        const targets = [...new Set(d.plan.targets.map((x) => x.serverId))];
        const busy = targets.filter((s) => (perAgent.get(s) ?? 0) >= throttles.perAgentTasks);
        const away = targets.filter((s) => (this.host.session(s)?.stripesAddress ?? '') === '');
        hold(t, `no target server can execute it: ${[busy.length > 0 ? `${busy.join(', ')} already run(s) ${throttles.perAgentTasks} task(s) (per-agent limit)` : '', away.length > 0 ? `${away.join(', ')} not connected or serving no Stripes` : ''].filter(Boolean).join('; ')}; less urgent tasks wait behind it`);
        continue;
      }
      // Sources the executor cannot reach (a server up but not connected, or serving no Stripes):
      // the agent refuses a task naming one, which would burn attempts until the task parks.
      const reachable = (x: { serverId: string }): boolean => (this.host.session(x.serverId)?.stripesAddress ?? '') !== '';
      const sources = d.plan.sources.filter(reachable);
      const metadataSources = d.plan.metadataSources?.filter(reachable);
      if (sources.length < profile.nbData || (d.plan.metadataSources !== undefined && d.plan.metadataSources.length > 0 && metadataSources?.length === 0)) {
        const away = [...new Set([...d.plan.sources, ...(d.plan.metadataSources ?? [])].filter((x) => !reachable(x)).map((x) => x.serverId))];
        hold(t, sources.length < profile.nbData
          ? `only ${sources.length} of the ${profile.nbData} sources needed are reachable (${away.join(', ')} not connected or serving no Stripes)`
          : `no server holding the object's .mt file is reachable (${away.join(', ')} not connected or serving no Stripes)`);
        continue;
      }
      const plan = { ...d.plan, sources, ...(metadataSources !== undefined ? { metadataSources } : {}) };
      const row = withEvacuates(assigned(t, { executor, plan, redundancy: d.redundancy, now, leaseMs: this.settings.leaseMs }), d.evacuated);
      const addresses = new Map<string, string>();
      for (const s of [...plan.sources.map((x) => x.serverId), ...(plan.metadataSources ?? []).map((x) => x.serverId), ...plan.targets.map((x) => x.serverId)]) addresses.set(s, this.host.session(s)?.stripesAddress ?? '');
      await store.putRepairTasks([row]);
      this.dropLeftTargets(t, plan.targets);
      session.sendTask(repairOrderToWire({ taskId: row.taskId, attempt: row.attempt, plan: row.plan, addresses }));
      perAgent.set(executor, (perAgent.get(executor) ?? 0) + 1);
      cluster++;
      started.push(row);
    }
    return started;
  }
}
