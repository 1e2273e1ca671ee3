// FaultyCatalogStore: injected failures, stalls and call counts, over a real SQLite store that an
// injected failure must leave unchanged.
import assert from 'node:assert/strict';
import { FaultyCatalogStore } from '../../../coordinator/catalog/faulty-store.js';
import { openSqliteCatalog, type SqliteCatalogStore } from '../../../coordinator/catalog/sqlite-store.js';
import type { EcguardError } from '../../../shared/errors.js';
import { archive, server } from './catalog-fixtures.js';
import { storeContract } from './store-contract.js';

const fault = (err: unknown) => (err as EcguardError).code === 'STORE_FAULT';

describe('FaultyCatalogStore', () => {
  describe('without faults it is the wrapped store', () =>
    storeContract(async () => {
      const store = new FaultyCatalogStore(openSqliteCatalog(':memory:'));
      return { store, cleanup: () => store.close() };
    }, { persistent: false }));

  let inner: SqliteCatalogStore;
  let s: FaultyCatalogStore;
  beforeEach(async () => {
    inner = openSqliteCatalog(':memory:');
    s = new FaultyCatalogStore(inner);
    await s.putServer(server('srv01'));
  });
  afterEach(() => inner.close());

  it('failNext fails one call with STORE_FAULT and leaves the store unchanged', async () => {
    s.failNext('applyArchiveChanges');
    await assert.rejects(s.applyArchiveChanges('srv01', [archive('srv01', 0, '/a')], [], 5), fault);
    assert.equal(await inner.archiveCount(), 0);
    assert.equal((await inner.getServer('srv01'))!.appliedSeq, 0);
    assert.deepEqual(await s.applyArchiveChanges('srv01', [archive('srv01', 0, '/a')], [], 5), ['/a']);
    assert.equal(s.calls('applyArchiveChanges'), 2);
  });

  it('queued failNext calls, failAlways until heal, and a caller-chosen error', async () => {
    const mine = new Error('disk full');
    s.failNext('getMeta').failNext('getMeta', mine);
    await assert.rejects(s.getMeta('k'), fault);
    await assert.rejects(s.getMeta('k'), /disk full/);
    assert.equal(await s.getMeta('k'), undefined);
    s.failAlways('listServers');
    for (let i = 0; i < 3; i++) await assert.rejects(s.listServers(), fault);
    assert.equal((await s.getServer('srv01'))!.serverId, 'srv01', 'other methods still work');
    s.heal();
    assert.equal((await s.listServers()).length, 1);
    assert.equal(s.calls('listServers'), 4);
    s.resetCounts();
    assert.equal(s.calls('listServers'), 0);
  });

  it("a fault 'after' applies the call and then fails (the reply was lost)", async () => {
    s.failNext('setMeta', undefined, 'after');
    await assert.rejects(s.setMeta('k', 'v'), (e: unknown) => fault(e) && /applied/.test((e as Error).message));
    assert.equal(await inner.getMeta('k'), 'v');
  });

  it('delay stalls a method until heal', async () => {
    s.delay('archiveCount', 60);
    let t0 = performance.now();
    assert.equal(await s.archiveCount(), 0);
    assert.ok(performance.now() - t0 >= 55);
    s.heal();
    t0 = performance.now();
    await s.archiveCount();
    assert.ok(performance.now() - t0 < 50);
  });
});
