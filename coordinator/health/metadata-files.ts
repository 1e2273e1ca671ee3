// Objects written without `nomtfile` have a `<object>.mt` file on every server (XRDEC-FORMAT.md
// §E). The agent reports it as an archive record that is not XrdEc (parse status not-ec) with a
// parseError naming it as metadata. It is not a file of its own: the health engine skips it
// (no bogus "incomplete" file per object) and the planner learns from it that the object's
// placement indices are tied to servers.
import { METADATA_NOTE, METADATA_SUFFIX } from '../../shared/xrdec/mt-file.js';
import type { ClassifiableArchive } from '../catalog/catalog-types.js';

/** Every archive of `lfn` is an `.mt` file (and there is at least one). */
export function isMetadataOnly(lfn: string, archives: readonly ClassifiableArchive[]): boolean {
  return lfn.endsWith(METADATA_SUFFIX) && archives.length > 0 && archives.every(isMetadataRecord);
}

export function isMetadataRecord(a: ClassifiableArchive): boolean {
  return a.parseStatus === 'not-ec' && a.strpver === undefined && (a.parseError ?? '').startsWith(METADATA_NOTE);
}

export function metadataLfnOf(objectLfn: string): string {
  return objectLfn + METADATA_SUFFIX;
}
