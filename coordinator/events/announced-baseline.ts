// Before a catalog is rebuilt from the agents (`ecguard catalog rebuild`, or `ecguard coordinator
// --rebuild-catalog`): the files as announced so far become the baseline of their next changes
// (held-file-changes.ts), so the rebuild announces only real differences, not every file as
// created again.
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { FileRow } from '../catalog/catalog-types.js';

const PAGE = 5000;

/** Hands every file row to `baseline`, a page at a time; returns how many. */
export async function baselineAnnounced(store: Pick<CatalogStore, 'listFiles'>, baseline: (rows: readonly FileRow[]) => void): Promise<number> {
  let n = 0;
  for (let after: string | undefined, page = await store.listFiles({ limit: PAGE }); page.length > 0; page = await store.listFiles({ limit: PAGE, after })) {
    baseline(page);
    n += page.length;
    after = page[page.length - 1]?.lfn;
  }
  return n;
}
