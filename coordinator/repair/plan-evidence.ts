// What the planner decides from, loaded once per batch of files: their archives, the archives an
// earlier repair replaced, and the object's .mt files. Every (re)plan of a file takes its part
// through evidenceFor(), so no caller can forget a piece (the dispatcher's re-plan once dropped
// the .mt files, which decide where an archive may go).
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { ArchiveRow, ReplacedArchive } from '../catalog/catalog-types.js';
import { archiveKeyOf } from '../health/health-engine.js';
import { isMetadataRecord, metadataLfnOf } from '../health/metadata-files.js';
import type { PlanInput } from './repair-plan.js';

export interface PlanEvidence {
  readonly archives: ReadonlyMap<string, readonly ArchiveRow[]>;
  readonly metadata: ReadonlyMap<string, readonly ArchiveRow[]>;
  readonly replaced: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export async function loadPlanEvidence(store: Pick<CatalogStore, 'archivesOf' | 'replacedFor'>, lfns: readonly string[]): Promise<PlanEvidence> {
  return {
    archives: await store.archivesOf(lfns),
    metadata: await store.archivesOf(lfns.map(metadataLfnOf)),
    replaced: replacedMaps(await store.replacedFor(lfns)),
  };
}

/** The PlanInput fields that come from the catalog, for one file. */
export function evidenceFor(e: PlanEvidence, lfn: string): Pick<PlanInput, 'archives' | 'metadata' | 'replaced'> {
  const replaced = e.replaced.get(lfn);
  return {
    archives: e.archives.get(lfn) ?? [],
    metadata: (e.metadata.get(metadataLfnOf(lfn)) ?? []).filter(isMetadataRecord),
    ...(replaced ? { replaced } : {}),
  };
}

/** replacedFor() rows as the planner's maps (archiveKeyOf → task id), per LFN. */
export function replacedMaps(rows: ReadonlyMap<string, readonly ReplacedArchive[]>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [lfn, list] of rows) if (list.length > 0) out.set(lfn, new Map(list.map((r) => [archiveKeyOf(r), r.taskId])));
  return out;
}
