// The task lifecycle as pure transitions (queued → assigned → running → verifying → done |
// failed → queued again after a backoff | parked after maxAttempts; cancelled when stale).
// Each returns the new row; the callers persist it.
import { randomBytes } from 'node:crypto';
import type { RepairPlan, RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { ProgressReport } from '../../shared/wire/repair-wire.js';
import { backoffFor, type RepairSettings } from './repair-settings.js';

export function newTaskId(now: number): string {
  return `r${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function newTask(o: { lfn: string; plan: RepairPlan; redundancy: number; degradedSince: number; now: number; forced?: boolean; fileState?: string }): RepairTaskRow {
  return {
    taskId: newTaskId(o.now), lfn: o.lfn, state: 'queued', plan: o.plan, redundancy: o.redundancy, degradedSince: o.degradedSince,
    createdAt: o.now, updatedAt: o.now, attempt: 0, placed: [], ...(o.forced ? { forced: true } : {}), ...(o.fileState ? { fileState: o.fileState } : {}),
  };
}

export function assigned(t: RepairTaskRow, o: { executor: string; plan: RepairPlan; redundancy: number; now: number; leaseMs: number }): RepairTaskRow {
  const { error: _e, errorCode: _c, nextAttemptAt: _n, progress: _p, ...rest } = t;
  return {
    ...rest, state: 'assigned', executor: o.executor, plan: o.plan, redundancy: o.redundancy, attempt: t.attempt + 1, startedAt: t.startedAt ?? o.now, updatedAt: o.now,
    leaseUntil: o.now + o.leaseMs, placed: [], lastAttemptTargets: o.plan.targets,
  };
}

export function progressed(t: RepairTaskRow, p: ProgressReport, now: number, leaseMs: number): RepairTaskRow {
  const progress = { phase: p.phase, blocksDone: p.blocksDone, blocksTotal: p.blocksTotal, bytesRead: p.bytesRead, bytesWritten: p.bytesWritten };
  if (p.phase === 'done') {
    const { leaseUntil: _l, ...rest } = t;
    return { ...rest, state: 'verifying', progress, placed: p.placed, updatedAt: now, sourceProblems: p.sourceProblems };
  }
  return { ...t, state: 'running', progress, updatedAt: now, leaseUntil: now + leaseMs };
}

/** A failed attempt: retried after a backoff, or parked for an operator after maxAttempts. */
export function failed(t: RepairTaskRow, o: { code: string; error: string; now: number; settings: RepairSettings; noAttempt?: boolean }): RepairTaskRow {
  const { leaseUntil: _l, ...rest } = t;
  const attempts = o.noAttempt ? t.attempt : Math.max(t.attempt, 1);
  const counted = attempts - (t.attemptsBase ?? 0);
  const park = counted >= o.settings.maxAttempts;
  return {
    ...rest, state: park ? 'parked' : 'failed', errorCode: o.code, error: o.error, updatedAt: o.now, attempt: attempts,
    ...(park ? {} : { nextAttemptAt: o.now + backoffFor(o.settings, Math.max(1, counted)) }),
  };
}

export function requeued(t: RepairTaskRow, now: number, resetAttempts = false): RepairTaskRow {
  const { nextAttemptAt: _n, leaseUntil: _l, ...rest } = t;
  // A reset keeps the attempt number (it names the run to the agents: it must never repeat).
  return { ...rest, state: 'queued', updatedAt: now, ...(resetAttempts ? { attemptsBase: t.attempt } : {}) };
}

export function finished(t: RepairTaskRow, state: 'done' | 'cancelled', now: number, why?: string): RepairTaskRow {
  const { leaseUntil: _l, nextAttemptAt: _n, ...rest } = t;
  return { ...rest, state, updatedAt: now, finishedAt: now, ...(why ? { error: why } : {}) };
}

/** Tasks that occupy an executor slot. */
export function isRunning(t: RepairTaskRow): boolean {
  return t.state === 'assigned' || t.state === 'running';
}
