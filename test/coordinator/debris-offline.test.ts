// debris.found is for debris someone can act on: an archive that became debris on a disk that is
// not online (a duplicate left on a dead disk once repair rebuilt its stripes elsewhere, or an old
// version there) is announced when the disk is back, not while it is gone; never twice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { Reclassifier, type DebrisFound } from '../../coordinator/health/reclassifier.js';
import { LFN, P21, V0, seedRecord, seedSite } from '../helpers/catalog-seed.js';

describe('reclassifier: debris on a disk that is not online is announced once it is back', () => {
  let dir: string;
  let store: CatalogStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-doff-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no debris.found while the disk is missing; one when it is online again; none on later passes', async () => {
    await seedSite(store, [1, 2, 3, 4], { disk: (s) => (s === 4 ? 'missing' : 'online'), record: (s) => seedRecord(s, s === 4 ? { strpver: V0 } : {}) });
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = new Reclassifier(store, cluster, () => P21, { flushMs: 1 });
    const found: DebrisFound[] = [];
    rc.on('debris', (d: DebrisFound[]) => found.push(...d));
    const pass = async (): Promise<void> => {
      rc.mark([LFN]);
      await rc.flush();
      await new Promise((r) => setImmediate(r));
    };
    await pass();
    assert.deepEqual((await store.listArchiveRoles(['debris'], 10)).map((r) => r.serverId), ['s4'], 'it is debris (listed)');
    assert.deepEqual(found, [], 'but not announced while its disk is missing');
    await pass();
    assert.deepEqual(found, []);
    await cluster.putDisk({ diskId: 's4:/d', serverId: 's4', path: '/d', space: 'public', state: 'online', since: 1, evidence: [] });
    await pass();
    assert.deepEqual((found as DebrisFound[]).map((d) => [d.serverId, d.kind]), [['s4', 'superseded']], 'announced once the disk is back');
    await pass();
    assert.equal(found.length, 1, 'and only once');
  });
});
