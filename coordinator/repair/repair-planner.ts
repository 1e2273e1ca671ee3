// Turns unhealthy files into queued repair tasks. Candidates come from the reclassifier (files
// whose state changed) and from a slow sweep over every unhealthy file (graces that ran out,
// tasks cancelled earlier). One task per file: a file with an active task is not planned again.
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import { ACTIVE_TASK_STATES } from '../../shared/domain/repair-task.js';
import type { FileState } from '../../shared/domain/file-health.js';
import { getLogger } from '../../shared/logger.js';
import type { RepairHost } from './repair-host.js';
import { evidenceFor, loadPlanEvidence } from './plan-evidence.js';
import { planRepair, type PlanDecision } from './repair-plan.js';
import type { RepairSettings } from './repair-settings.js';
import type { PlannerView } from './target-placement.js';
import { newTask } from './task-transitions.js';
import { preferredTargets } from './attempt-targets.js';
import { drainInput } from './drain-book.js';

const log = getLogger('repair');

/** States a repair can help (unavailable: once a down server's grace is over). */
export const REPAIRABLE: readonly FileState[] = ['critical', 'degraded', 'unavailable'];

export interface PlanOutcome {
  readonly lfn: string;
  readonly decision: PlanDecision | { readonly kind: 'queued'; readonly task: RepairTaskRow } | { readonly kind: 'healthy'; readonly reason: string };
  /** The task made (not in a dry run). */
  readonly task?: RepairTaskRow;
}

export class RepairPlanner {
  /** LFNs holding an active task (loaded at start, kept by the manager). */
  readonly active = new Set<string>();
  /** Files waiting for a down server's grace: re-planned when it ends. */
  readonly waiting = new Map<string, { until: number; reason: string }>();
  private readonly dirty = new Set<string>();
  private sweepAfter: string | undefined;
  private nextSweep = 0;

  constructor(private readonly host: RepairHost, private readonly settings: RepairSettings) {}

  /** Files whose state changed: planned, or (with a task still queued) re-planned. */
  note(lfns: Iterable<string>): void {
    for (const l of lfns) this.dirty.add(l);
  }

  async loadActive(): Promise<void> {
    for (const t of await this.host.store.listRepairTasks({ states: ACTIVE_TASK_STATES })) this.active.add(t.lfn);
  }

  /** Plans what is due: changed files, ended graces, and one page of the sweep. */
  async tick(now: number, view: PlannerView): Promise<number> {
    const due = [...this.dirty];
    const changed = new Set(due);
    this.dirty.clear();
    for (const [lfn, w] of this.waiting) if (w.until <= now) due.push(lfn);
    if (now >= this.nextSweep) {
      const page = await this.host.store.listFiles({ states: REPAIRABLE, limit: 2000, ...(this.sweepAfter !== undefined ? { after: this.sweepAfter } : {}) });
      due.push(...page.map((f) => f.lfn));
      this.sweepAfter = page.length === 2000 ? page[page.length - 1]?.lfn : undefined;
      if (this.sweepAfter === undefined) this.nextSweep = now + 10_000;
    }
    let made = 0;
    // Active files from the sweep or a grace are skipped; changed ones refresh their queued task.
    const unique = [...new Set(due)].filter((l) => !this.active.has(l) || changed.has(l));
    for (let i = 0; i < unique.length; i += 500) {
      for (const o of await this.plan(unique.slice(i, i + 500), { now, view })) if (o.task) made++;
    }
    return made;
  }

  /** Decides for these files; queues tasks unless dryRun. */
  async plan(lfns: readonly string[], o: { now: number; view: PlannerView; force?: boolean; dryRun?: boolean }): Promise<PlanOutcome[]> {
    const files = await this.host.store.filesOf(lfns);
    const evidence = await loadPlanEvidence(this.host.store, lfns);
    const out: PlanOutcome[] = [];
    const made: RepairTaskRow[] = [];
    const refreshed: RepairTaskRow[] = [];
    for (const lfn of lfns) {
      if (this.active.has(lfn)) {
        const found = (await this.host.store.listRepairTasks({ lfn, states: ACTIVE_TASK_STATES, limit: 1 }))[0];
        if (found) {
          // `repair run` ends the grace of a file whose task is already queued, too.
          const forcing = o.force === true && !o.dryRun && found.state === 'queued' && !found.forced;
          const task: RepairTaskRow = forcing ? { ...found, forced: true, updatedAt: o.now } : found;
          const fresh = task.state === 'queued' && !o.dryRun ? (this.refresh(task, evidenceFor(evidence, lfn), o.now, o.view) ?? (forcing ? task : undefined)) : undefined;
          if (fresh) refreshed.push(fresh);
          out.push({ lfn, decision: { kind: 'queued', task: fresh ?? task } });
          continue;
        }
        this.active.delete(lfn);
      }
      const file = files.get(lfn);
      const profile = this.host.profileFor(lfn);
      // a healthy file is planned only to move an archive off a drained disk or server
      const drains = this.host.drains;
      const drained = drains !== undefined && evidenceFor(evidence, lfn).archives.some((a) => drains.why(a.serverId, a.diskId) !== undefined);
      if (!file || (file.state === 'healthy' && !drained) || !profile) {
        this.waiting.delete(lfn);
        out.push({ lfn, decision: { kind: 'healthy', reason: !file ? 'no such file in the catalog' : !profile ? 'no EC profile known for it' : 'healthy: nothing to repair' } });
        continue;
      }
      const decision = planRepair({
        lfn, ...evidenceFor(evidence, lfn), profile, nowMs: o.now, lostAfterMs: this.settings.lostAfterMs, criticalAfterMs: this.settings.criticalAfterMs,
        server: (id) => this.host.cluster.server(id), disk: (id) => this.host.cluster.disk(id), placement: o.view, ...(o.force ? { force: true } : {}), ...drainInput(drains),
      });
      if (!o.dryRun) {
        if (decision.kind === 'wait') this.waiting.set(lfn, { until: decision.until, reason: decision.reason });
        else this.waiting.delete(lfn);
      }
      if (decision.kind !== 'plan' || o.dryRun) {
        out.push({ lfn, decision });
        continue;
      }
      const task: RepairTaskRow = {
        ...newTask({ lfn, plan: decision.plan, redundancy: decision.redundancy, degradedSince: file.stateSince, now: o.now, fileState: file.state, ...(o.force ? { forced: true } : {}) }),
        ...(decision.evacuated ? { evacuates: decision.evacuated } : {}),
      };
      for (const t of decision.plan.targets) o.view.addLoad(t.serverId, t.diskId, decision.plan.bytesWritten / decision.plan.targets.length);
      made.push(task);
      out.push({ lfn, decision, task });
    }
    if (refreshed.length > 0) await this.host.store.putRepairTasks(refreshed);
    if (made.length > 0) {
      await this.host.store.putRepairTasks(made);
      for (const t of made) this.active.add(t.lfn);
      log.info(`queued ${made.length} repair task(s)${made.length <= 3 ? `: ${made.map((t) => `${t.lfn} (${t.plan.targets.length} archive(s))`).join(', ')}` : ''}`);
    }
    return out;
  }

  /**
   * A queued task of a file whose state changed: its plan and priority follow (a second lost
   * archive makes it critical and adds a target, keeping the first target's slot).
   */
  private refresh(task: RepairTaskRow, evidence: ReturnType<typeof evidenceFor>, now: number, view: PlannerView): RepairTaskRow | undefined {
    const profile = this.host.profileFor(task.lfn) ?? task.plan.profile;
    const d = planRepair({
      lfn: task.lfn, ...evidence, profile, nowMs: now, lostAfterMs: this.settings.lostAfterMs, criticalAfterMs: this.settings.criticalAfterMs,
      server: (id) => this.host.cluster.server(id), disk: (id) => this.host.cluster.disk(id), placement: view, previousTargets: preferredTargets(task), ...(task.forced ? { force: true } : {}),
      ...drainInput(this.host.drains),
    });
    if (d.kind !== 'plan') return undefined; // the dispatcher decides when it comes to start it
    if (d.redundancy === task.redundancy && JSON.stringify(d.plan) === JSON.stringify(task.plan) && (d.evacuated ?? 0) === (task.evacuates ?? 0)) return undefined;
    return withEvacuates({ ...task, plan: d.plan, redundancy: Math.min(d.redundancy, task.redundancy), updatedAt: now }, d.evacuated);
  }
}

/** The task row saying how many archives it moves off drains (none: the field is absent). */
export function withEvacuates(t: RepairTaskRow, evacuated: number | undefined): RepairTaskRow {
  const { evacuates: _e, ...rest } = t;
  return evacuated ? { ...rest, evacuates: evacuated } : rest;
}
