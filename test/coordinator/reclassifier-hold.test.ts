// The reclassifier's hold: while the coordinator says so (safe mode with servers still sending
// their inventories), marked files wait instead of being classified after every batch; an
// explicit flush still classifies them, and they are classified on their own once the hold ends.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultyCatalogStore } from '../../coordinator/catalog/faulty-store.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { Reclassifier } from '../../coordinator/health/reclassifier.js';
import { archive, disk, server } from './catalog/catalog-fixtures.js';

const P21 = { nbData: 2, nbParity: 1, chunkSize: 1048576 };
const SERVERS = ['srv01', 'srv02', 'srv03'];

describe('reclassifier hold', () => {
  let store: FaultyCatalogStore;
  let cluster: ClusterState;
  let hold = true;
  let recl: Reclassifier;

  beforeEach(async () => {
    store = new FaultyCatalogStore(openSqliteCatalog(':memory:'));
    for (const id of SERVERS) {
      await store.putServer(server(id));
      await store.putDisk(disk(id, 0));
    }
    cluster = new ClusterState(store);
    await cluster.load();
    hold = true;
    recl = new Reclassifier(store, cluster, () => P21, { flushMs: 5, writeSettleMs: 0, holdWhile: () => hold });
  });
  afterEach(async () => store.close());

  it('files marked during a hold are classified once, when it ends', async () => {
    // the archives of /a come in one server at a time, as interleaved inventories deliver them
    for (const id of SERVERS) {
      recl.mark(await store.applyArchiveChanges(id, [archive(id, 0, '/a'), archive(id, 0, '/b')], []));
      await sleep(30); // several timer periods per batch
    }
    assert.equal(store.calls('archiveStatesOf'), 0, 'nothing classified while held');
    assert.equal(await store.getFile('/a'), undefined);
    assert.equal(recl.pending, 2);
    hold = false;
    const end = Date.now() + 3000;
    while ((await store.getFile('/b'))?.state !== 'healthy') {
      assert.ok(Date.now() < end, 'classified after the hold ends, without a flush');
      await sleep(20);
    }
    assert.equal((await store.getFile('/a'))?.state, 'healthy');
    assert.equal(store.calls('archiveStatesOf'), 1, 'both files in one classification');
  });

  it('flush() classifies during a hold (safe mode ending, a stop, an operator)', async () => {
    recl.mark(await store.applyArchiveChanges('srv01', [archive('srv01', 0, '/c')], []));
    await sleep(30);
    assert.equal(await store.getFile('/c'), undefined);
    await recl.flush();
    assert.ok((await store.getFile('/c')) !== undefined);
    assert.equal(recl.pending, 0);
  });
});
