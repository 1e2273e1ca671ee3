// Whether the coordinator may act on debris now (DESIGN.md §8.1): only on complete evidence. Not in
// safe mode, and every server that could hold a stripe (each one not declared lost) is up,
// connected and has sent a full inventory: an archive on a silent server could be the one that
// makes an "old" version the latest, or a deleted file alive.
import type { ServerRow } from '../catalog/catalog-types.js';

export interface EvidenceView {
  /** Safe mode, or a server whose inventory or replay is still arriving (its archives are not all in the catalog yet). */
  readonly gate?: string;
  readonly servers: readonly ServerRow[];
  connected(serverId: string): boolean;
}

/** Why debris may not be acted on now, in words (one line per gap); empty when it may. */
export function evidenceGaps(v: EvidenceView): string[] {
  const gaps: string[] = [];
  if (v.gate !== undefined) gaps.push(v.gate);
  for (const s of v.servers) {
    if (s.state === 'lost') continue;
    if (s.state !== 'up') gaps.push(`${s.serverId} is ${s.state}`);
    else if (!v.connected(s.serverId)) gaps.push(`${s.serverId} is not connected`);
    else if (!s.inventoried) gaps.push(`${s.serverId} has not sent a full inventory yet`);
  }
  return gaps;
}
