// Repair settings: graces and retry policy (fixed at start), and throttles (changeable at run
// time with `ecguard repair throttle`, kept in the catalog so a restart keeps them).
import { UsageError } from '../../shared/errors.js';

export interface RepairThrottleSettings {
  /** Repair tasks one agent executes at once. */
  readonly perAgentTasks: number;
  /** Concurrent entry read streams one agent serves to repairing peers. */
  readonly perSourceStreams: number;
  /** Source bytes one executing agent reads per second (token bucket). */
  readonly perAgentMBps: number;
  /** Tasks running in the whole cluster at once. */
  readonly clusterTasks: number;
}

export const DEFAULT_THROTTLES: RepairThrottleSettings = { perAgentTasks: 2, perSourceStreams: 4, perAgentMBps: 100, clusterTasks: 64 };

export interface RepairSettings {
  /** Plan on its own (default), or only when an operator runs `ecguard repair run`. */
  readonly auto: boolean;
  /** A down server's archives count as lost after this long (server.lostAfter, default 1 h). */
  readonly lostAfterMs: number;
  /** ... after this long for files at redundancy 0 (server.criticalAfter, default 10 min). */
  readonly criticalAfterMs: number;
  /** A task without progress this long goes back to the queue (its agent died). */
  readonly leaseMs: number;
  /** Attempts before a task is parked for an operator. */
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt, capped at 10 min. */
  readonly backoffMs: number;
  /** How long a finished task waits for the target's inventory before asking for a rescan, then failing. */
  readonly inventoryWaitMs: number;
  readonly tickMs: number;
}

export const DEFAULT_REPAIR: RepairSettings = {
  auto: true, lostAfterMs: 3600_000, criticalAfterMs: 600_000, leaseMs: 60_000, maxAttempts: 5, backoffMs: 2000, inventoryWaitMs: 30_000, tickMs: 500,
};

export function mergeThrottles(base: RepairThrottleSettings, patch: Partial<RepairThrottleSettings>): RepairThrottleSettings {
  const out = { ...base, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as RepairThrottleSettings;
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new UsageError(`repair throttle ${k} must be a positive number, got ${String(v)}`);
    if (k !== 'perAgentMBps' && !Number.isInteger(v)) throw new UsageError(`repair throttle ${k} must be a whole number, got ${v}`);
  }
  return out;
}

export function backoffFor(s: RepairSettings, attempt: number): number {
  return Math.min(s.backoffMs * 2 ** Math.max(0, attempt - 1), 600_000);
}
