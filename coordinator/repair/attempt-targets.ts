// Which targets of a task may hold partial archives, and which a re-plan should keep. A queued
// task's plan is refreshed when its file changes, which may move its targets; the row keeps the
// last attempt's targets apart (lastAttemptTargets), so a retry goes back to them when it can
// (and resumes there), and a target it cannot use is told to drop what it kept.
import type { RepairTargetRef, RepairTaskRow } from '../../shared/domain/repair-task.js';

/** Targets an attempt was sent to (rows from before lastAttemptTargets: the plan's, if it ever ran). */
export function attemptedTargets(t: RepairTaskRow): readonly RepairTargetRef[] {
  return t.lastAttemptTargets ?? (t.attempt > 0 ? t.plan.targets : []);
}

/** previousTargets for planRepair: the last attempt's first (they hold its partials), then the plan's. */
export function preferredTargets(t: RepairTaskRow): readonly RepairTargetRef[] {
  const first = attemptedTargets(t);
  return [...first, ...t.plan.targets.filter((x) => !first.some((y) => y.serverId === x.serverId))];
}

/** Per server, the slots of attempted targets (they may hold partials of `t`) with no place in `next`. */
export function droppedTargets(t: RepairTaskRow, next: readonly RepairTargetRef[]): Map<string, number[]> {
  const staying = new Set(next.map((x) => x.serverId));
  const out = new Map<string, number[]>();
  for (const x of attemptedTargets(t)) if (!staying.has(x.serverId)) out.set(x.serverId, [...(out.get(x.serverId) ?? []), x.slot]);
  return out;
}
