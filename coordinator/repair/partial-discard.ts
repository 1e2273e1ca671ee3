// A task given up (parked for an operator, or cancelled) must leave nothing on the targets: the
// partial archives its attempts kept for resuming are dropped. Every write of task rows goes
// through this wrapper, so no path that parks or cancels a task can forget it. A target that
// is not connected then drops its partials at its next start, once they are old.
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { RepairSession } from './repair-host.js';

const GIVEN_UP = new Set(['parked', 'cancelled']);

export function discardPartialsOf(rows: readonly RepairTaskRow[], session: (serverId: string) => RepairSession | undefined): void {
  for (const t of rows) {
    if (!GIVEN_UP.has(t.state)) continue;
    const slots = new Map<string, number[]>();
    // the plan's targets and the last attempt's (a refresh while queued may have moved them)
    for (const x of [...t.plan.targets, ...(t.lastAttemptTargets ?? [])]) {
      const s = slots.get(x.serverId) ?? [];
      if (!s.includes(x.slot)) slots.set(x.serverId, [...s, x.slot]);
    }
    for (const [serverId, s] of slots) session(serverId)?.cancelTask(t.taskId, `task ${t.state}: drop its partial archives`, s);
  }
}

/** The store, with putRepairTasks telling targets to drop the partials of tasks given up. */
export function discardingStore(store: CatalogStore, session: (serverId: string) => RepairSession | undefined): CatalogStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putRepairTasks') {
        return async (rows: readonly RepairTaskRow[]): Promise<void> => {
          await target.putRepairTasks(rows);
          discardPartialsOf(rows, session);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
