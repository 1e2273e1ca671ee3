// `ecguard drain`: start, stop and report drains, and feed the planner the files of drained
// disks (drain-sweep.ts). Drains go through the repair machinery unchanged: a task rebuilds the
// drained archive's stripes elsewhere from the other archives, and the archive left behind is
// recorded as replaced when the task is confirmed (a duplicate, then debris).
import { ACTIVE_TASK_STATES } from '../../shared/domain/repair-task.js';
import { getLogger } from '../../shared/logger.js';
import type { DiskState } from '../catalog/catalog-types.js';
import type { RepairHost } from './repair-host.js';
import type { RepairPlanner } from './repair-planner.js';
import type { DrainBook, Drain, DrainKind } from './drain-book.js';
import { DrainSweep, type DrainOutcome, type DrainPass } from './drain-sweep.js';
import type { PlannerView } from './target-placement.js';
import { METADATA_SUFFIX } from '../../shared/xrdec/mt-file.js';

const log = getLogger('repair');

/** Files still counting an archive on a drained disk are counted up to this many for status. */
const COUNT_CAP = 100_000;

export interface DrainDiskStatus {
  readonly diskId: string;
  readonly state: DiskState | 'unknown';
  /** Files that still count an archive there (capped at COUNT_CAP: `remainingCapped`). */
  readonly remaining: number;
  readonly remainingCapped: boolean;
  /** `.mt` copies of objects still there: a drain does not move them (see docs/repair.md). */
  readonly metadataCopies: number;
  readonly lastPass?: DrainPass;
}

export interface DrainStatus {
  readonly drain: Drain;
  readonly disks: readonly DrainDiskStatus[];
  /** Nothing on it counts any more: its archives are all elsewhere too. */
  readonly drained: boolean;
}

export class DrainManager {
  private readonly sweep: DrainSweep;

  constructor(private readonly host: RepairHost, private readonly planner: RepairPlanner, readonly book: DrainBook) {
    this.sweep = new DrainSweep(host.store, book);
  }

  load(): Promise<void> {
    return this.book.load();
  }

  /**
   * Plans the next page of every drained disk, while fewer than `room` tasks are active: drain
   * tasks queue behind repairs (a healthy file's keeps its full redundancy as priority).
   */
  async tick(now: number, view: PlannerView, room: number): Promise<void> {
    if (!this.book.active || this.planner.active.size >= room) return;
    for (const [diskId, lfns] of await this.sweep.next(now)) {
      const copies = new Set(await this.metadataCopies(lfns));
      const todo = lfns.filter((l) => !this.planner.active.has(l) && !copies.has(l));
      const outcomes: { lfn: string; outcome: DrainOutcome; reason?: string }[] = [
        ...lfns.filter((l) => this.planner.active.has(l)).map((lfn) => ({ lfn, outcome: 'planned' as const })),
        ...[...copies].map((lfn) => ({ lfn, outcome: 'metadata' as const })),
      ];
      for (const o of todo.length > 0 ? await this.planner.plan(todo, { now, view }) : []) {
        const d = o.decision;
        if (o.task || d.kind === 'queued') outcomes.push({ lfn: o.lfn, outcome: 'planned' });
        else if (d.kind === 'impossible' || d.kind === 'wait') outcomes.push({ lfn: o.lfn, outcome: 'blocked', reason: d.reason });
        else outcomes.push({ lfn: o.lfn, outcome: 'other' });
      }
      this.sweep.record(diskId, outcomes);
    }
    // A drain whose every disk had a pass finding nothing that counts there is complete (once).
    for (const d of this.book.drains()) {
      if (d.completedAt !== undefined) continue;
      const disks = this.book.disksOf(d);
      if (disks.length === 0 || !disks.every((id) => filesOf(this.sweep.last.get(id)) === 0)) continue;
      if (await this.book.markCompleted(d, now)) {
        log.info(`drain of ${d.kind} ${d.id} complete`);
        this.host.events?.drain?.('drain.completed', d, this.book.subjectOf(d), { disks: disks.length });
      }
    }
  }

  /** Per drained disk with a complete pass: files that still counted an archive there (metrics). */
  lastCounts(): { drain: string; diskId: string; files: number }[] {
    return this.book.drains().flatMap((d) => this.book.disksOf(d).flatMap((diskId) => {
      const last = this.sweep.last.get(diskId);
      return last ? [{ drain: `${d.kind} ${d.id}`, diskId, files: filesOf(last) as number }] : [];
    }));
  }

  /** Of these LFNs, the `.mt` copies: named <object>.mt, and no file of that name. */
  private async metadataCopies(lfns: readonly string[]): Promise<string[]> {
    const named = lfns.filter((l) => l.endsWith(METADATA_SUFFIX));
    if (named.length === 0) return [];
    const files = await this.host.store.filesOf(named);
    return named.filter((l) => !files.has(l));
  }

  async start(kind: DrainKind, id: string, reason: string): Promise<string> {
    const { drain, created } = await this.book.start(kind, id, reason, Date.now());
    if (!created) return `${kind} ${id} is already being drained (since ${new Date(drain.since).toISOString()})`;
    this.sweep.restart(this.book.disksOf(drain));
    log.warn(`drain started: ${kind} ${id}${reason ? ` (${reason})` : ''}`);
    this.host.events?.drain?.('drain.started', drain, this.book.subjectOf(drain), { disks: this.book.disksOf(drain).length });
    return `draining ${kind} ${id}: no new placements there; each file with an archive there gets one rebuilt elsewhere${kind === 'disk' ? ' (on the same server\'s other disks first, its link moving along)' : ''}, after the repairs (see ecguard drain status)`;
  }

  async stop(kind: DrainKind, id: string): Promise<string> {
    const drain = await this.book.stop(kind, id);
    this.sweep.restart(this.book.disksOf(drain));
    // No task is written here (the repair tick owns them): a queued move is re-planned when its
    // turn comes, which now finds nothing to move and cancels it, or only the repair its file
    // still needs. Running ones finish: they only add archives.
    log.warn(`drain stopped: ${kind} ${id}`);
    let remaining = 0;
    for (const diskId of this.book.disksOf(drain)) {
      const counted = await this.host.store.lfnsCountedOnDisk(diskId, { limit: COUNT_CAP });
      remaining += counted.length - (await this.metadataCopies(counted)).length;
    }
    this.host.events?.drain?.('drain.stopped', drain, this.book.subjectOf(drain), { remaining });
    return `drain of ${kind} ${id} stopped: it takes repair placements again; queued moves are cancelled when their turn comes, running ones finish; archives already moved stay where they are now`;
  }

  async status(): Promise<{ drains: DrainStatus[]; activeTasks: number; runningTasks: number }> {
    const drains: DrainStatus[] = [];
    for (const drain of this.book.drains()) {
      const disks: DrainDiskStatus[] = [];
      for (const diskId of this.book.disksOf(drain)) {
        const counted = await this.host.store.lfnsCountedOnDisk(diskId, { limit: COUNT_CAP + 1 });
        const copies = new Set(await this.metadataCopies(counted));
        const left = counted.length - copies.size;
        const last = this.sweep.last.get(diskId);
        disks.push({
          diskId, state: this.host.cluster.disk(diskId)?.state ?? 'unknown', remaining: Math.min(left, COUNT_CAP), remainingCapped: counted.length > COUNT_CAP, metadataCopies: copies.size,
          ...(last ? { lastPass: last } : {}),
        });
      }
      drains.push({ drain, disks, drained: disks.every((d) => d.remaining === 0) });
    }
    const tasks = (await this.host.store.listRepairTasks({ states: ACTIVE_TASK_STATES, limit: 100_000 })).filter((t) => (t.evacuates ?? 0) > 0);
    return { drains, activeTasks: tasks.length, runningTasks: tasks.filter((t) => t.state === 'assigned' || t.state === 'running' || t.state === 'verifying').length };
  }
}

/** Files (not `.mt` copies) a pass found still counting an archive there; undefined before a pass. */
function filesOf(p: DrainPass | undefined): number | undefined {
  return p === undefined ? undefined : p.candidates - p.metadata;
}
