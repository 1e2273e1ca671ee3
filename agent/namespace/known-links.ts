// Where the namespace could not be read (a root unmounted, replaced or failing with EACCES/EIO, a
// directory that cannot be listed) a data file's missing symlink is not news: the walk saw no
// links there at all. Such a record keeps the namespace fields (nsPath, lfn) it was last known
// with, so the inventory journals no delta for a file that did not change and the coordinator
// is not told that every file of the disk lost its link. The namespace problem itself is
// reported once, as a finding on the root or directory.
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { isUnder } from './namespace-roots.js';

const NAMESPACE_FIELDS = new Set(['nsPath', 'lfn']);

/** The two records describe the same data file (everything but the namespace fields agrees). */
export function sameDataFile(a: ArchiveRecord, b: ArchiveRecord): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (NAMESPACE_FIELDS.has(k)) continue;
    if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) return false;
  }
  return true;
}

/**
 * `records` with the last known namespace fields restored where the scan could not see them:
 * a record without nsPath whose previous record had one below a `blind` path. An unchanged file
 * gets its previous record back as it was (so its fingerprint matches); a changed one keeps its
 * new data with the previous link.
 */
export function keepKnownLinks(records: readonly ArchiveRecord[], blind: readonly string[], previous: (diskId: string, dataPath: string) => ArchiveRecord | undefined): ArchiveRecord[] {
  if (blind.length === 0) return [...records];
  return records.map((r) => {
    if (r.nsPath !== undefined) return r;
    const prev = previous(r.diskId, r.dataPath);
    const nsPath = prev?.nsPath;
    if (prev === undefined || nsPath === undefined || !blind.some((b) => isUnder(nsPath, b))) return r;
    if (sameDataFile(r, prev)) return prev;
    return { ...r, nsPath, ...(prev.lfn !== undefined ? { lfn: prev.lfn } : {}) };
  });
}
