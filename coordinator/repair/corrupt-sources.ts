// Corrupt stripes a repair ran into in its sources (CRC mismatches), read back from the task's
// source problems, so they become corruption.found events: a rotting disk must not stay a line
// in one task's report. Problems are "<serverId>:<diskId>/<dataPath> obj.B.S: reason" (the
// executor's source ids, agent/stripes/remote-source.ts; a local source is its path).
import type { RepairPlan } from '../../shared/domain/repair-task.js';
import { parseEntryName } from '../../shared/xrdec/entry-name.js';

export interface CorruptSource {
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly entries: { readonly block: number; readonly stripe: number }[];
}

export function corruptSources(plan: RepairPlan, executor: string | undefined, problems: readonly string[]): CorruptSource[] {
  const out: CorruptSource[] = [];
  for (const s of plan.sources) {
    // the executor reads its own sources by path: <disk path>/<dataPath>
    const ids = [`${s.serverId}:${s.diskId}/${s.dataPath}`, ...(s.serverId === executor ? [`/${s.dataPath}`] : [])];
    const entries: { block: number; stripe: number }[] = [];
    for (const p of problems) {
      const m = /^(\S+) (\S+): CRC mismatch/.exec(p);
      if (!m || !ids.some((id) => (m[1] as string) === id || (id.startsWith('/') && (m[1] as string).endsWith(id)))) continue;
      const e = parseEntryName(m[2] as string);
      if (e && !entries.some((x) => x.block === e.block && x.stripe === e.stripe)) entries.push({ block: e.block, stripe: e.stripe });
    }
    if (entries.length > 0) out.push({ serverId: s.serverId, diskId: s.diskId, dataPath: s.dataPath, entries });
  }
  return out;
}
