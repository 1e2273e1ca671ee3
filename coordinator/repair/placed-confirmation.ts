// When a verifying task counts as done: every archive its executor placed shows in the holders'
// inventories, and one that had to keep a directory (objects with .mt files) shows with it.
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { ArchiveRow } from '../catalog/catalog-types.js';

export type Confirmation =
  | { readonly kind: 'done' }
  | { readonly kind: 'waiting' }
  | { readonly kind: 'mismatch'; readonly reason: string; readonly code?: string };

export function confirmPlaced(t: RepairTaskRow, archives: readonly ArchiveRow[]): Confirmation {
  // Every planned target must be reported placed, where it was planned (an empty or foreign
  // `placed` list from the agent is no evidence of anything).
  for (const x of t.plan.targets) {
    const p = t.placed.find((q) => q.slot === x.slot);
    if (!p || p.serverId !== x.serverId || p.diskId !== x.diskId) {
      return { kind: 'mismatch', code: 'PLACED_MISMATCH', reason: `the executor reported no archive placed for slot ${x.slot} on ${x.serverId} ${x.diskId}${p ? ` (it named ${p.serverId} ${p.diskId})` : ''}` };
    }
  }
  const have = new Map(archives.map((a) => [`${a.serverId}\0${a.diskId}\0${a.dataPath}`, a]));
  let waiting = false;
  for (const p of t.placed) {
    const got = have.get(`${p.serverId}\0${p.diskId}\0${p.dataPath}`);
    if (got === undefined) {
      waiting = true;
      continue;
    }
    const want = t.plan.targets.find((x) => x.slot === p.slot)?.directoryDigest;
    if (want !== undefined && got.cdDigest !== want) {
      return { kind: 'mismatch', reason: `${p.serverId} reports ${p.dataPath} with central directory ${got.cdDigest ?? 'unknown'}, not ${want} (the .mt member it had to keep)` };
    }
  }
  return waiting ? { kind: 'waiting' } : { kind: 'done' };
}
