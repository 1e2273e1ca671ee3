// Corrupt stripes a repair ran into in its sources (CRC mismatches), taken from the structured
// bad entries of the task's report, so they become corruption.found events: a rotting disk must
// not stay a line in one task's report. Only archives the task named as sources count.
import type { BadSourceEntry } from '../../shared/domain/bad-source-entry.js';
import type { RepairPlan } from '../../shared/domain/repair-task.js';

export interface CorruptEntry {
  readonly block: number;
  readonly stripe: number;
  /** The central directory's CRC and the one the bytes had (unsigned), when the agent knew them. */
  readonly expectedCrc?: number;
  readonly foundCrc?: number;
}

export interface CorruptSource {
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly entries: readonly CorruptEntry[];
}

export function corruptSources(plan: RepairPlan, bad: readonly BadSourceEntry[]): CorruptSource[] {
  const out: CorruptSource[] = [];
  for (const s of plan.sources) {
    const entries: CorruptEntry[] = [];
    for (const b of bad) {
      if (b.kind !== 'crc-mismatch' || b.serverId !== s.serverId || b.diskId !== s.diskId || b.dataPath !== s.dataPath) continue;
      if (entries.some((x) => x.block === b.block && x.stripe === b.stripe)) continue;
      entries.push({ block: b.block, stripe: b.stripe, ...(b.expectedCrc !== undefined ? { expectedCrc: b.expectedCrc } : {}), ...(b.foundCrc !== undefined ? { foundCrc: b.foundCrc } : {}) });
    }
    if (entries.length > 0) out.push({ serverId: s.serverId, diskId: s.diskId, dataPath: s.dataPath, entries });
  }
  return out;
}
