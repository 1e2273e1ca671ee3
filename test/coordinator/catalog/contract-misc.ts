// Contract: tombstones, meta, clearAgentData and persistence across reopening.
import type { CatalogStore } from '../../../coordinator/catalog/catalog-store.js';
import assert from 'node:assert/strict';
import type { ContractContext } from './contract-context.js';
import { archive, disk, file, server } from './catalog-fixtures.js';

export function miscContract(c: ContractContext): void {
  it('tombstones: with and without strpver, per LFN in time order, duplicates kept once', async () => {
    const s = c.store();
    const t1 = { lfn: '/a', strpver: 7, at: 200, reason: 'deleted on every up server' };
    const t0 = { lfn: '/a', at: 100, reason: 'rm seen' };
    const tb = { lfn: '/b', at: 50, reason: 'gone' };
    await s.addTombstones([t1, t0, tb]);
    await s.addTombstones([t1, t0]); // a retried batch
    assert.deepEqual(await s.tombstonesFor(['/a', '/c', '/b']), new Map([['/a', [t0, t1]], ['/c', []], ['/b', [tb]]]));
  });

  it('meta: absent until set, then overwritten', async () => {
    const s = c.store();
    assert.equal(await s.getMeta('profile'), undefined);
    await s.setMeta('profile', '{"n":8}');
    await s.setMeta('profile', '{"n":4}');
    assert.equal(await s.getMeta('profile'), '{"n":4}');
  });

  it('clearAgentData forgets archives, roles and files; keeps tombstones, meta, servers and disks', async () => {
    const s = c.store();
    await s.putServer(server('srv01', { appliedSeq: 9, inventoried: true, state: 'lost' }));
    await s.putDisk(disk('srv01', 0));
    const a = archive('srv01', 0, '/a');
    await s.applyArchiveChanges('srv01', [a], []);
    await s.putArchiveRoles(['/a'], [{ serverId: 'srv01', diskId: a.diskId, dataPath: a.dataPath, lfn: '/a', role: 'debris', reason: 'x' }]);
    await s.putFiles([file('/a')]);
    await s.addTombstones([{ lfn: '/t', at: 1, reason: 'r' }]);
    await s.setMeta('k', 'v');
    await s.beginInventory('srv01', [a.diskId]);
    await s.clearAgentData();
    assert.equal(await s.archiveCount(), 0);
    assert.deepEqual(await s.allLfns(), []);
    assert.deepEqual(await s.listArchiveRoles(['debris'], 10), []);
    assert.equal((await s.fileCounts()).healthy.count, 0);
    assert.equal((await s.tombstonesFor(['/t'])).get('/t')!.length, 1);
    assert.equal(await s.getMeta('k'), 'v');
    assert.deepEqual(await s.getServer('srv01'), server('srv01', { appliedSeq: 0, inventoried: false, state: 'lost' }));
    assert.deepEqual(await s.listDisks(), [disk('srv01', 0)]);
    await assert.rejects(s.endInventory('srv01', 1), /no full inventory/, 'the running inventory went with the data');
    assert.deepEqual(await s.applyArchiveChanges('srv01', [a], []), ['/a']);
  });

  if (c.persistent) it('reopening keeps every kind of row', async function () {
    const s = c.store();
    await s.putServer(server('srv01', { appliedSeq: 4 }));
    await s.putDisk(disk('srv01', 0, { uuid: 'u' }));
    const a = archive('srv01', 0, '/a', { stripeMap: { 3: [0] }, regular: false });
    await s.applyArchiveChanges('srv01', [a], []);
    await s.putArchiveRoles(['/a'], [{ serverId: 'srv01', diskId: a.diskId, dataPath: a.dataPath, lfn: '/a', role: 'orphan', reason: 'alone' }]);
    await s.putFiles([file('/a')]);
    await s.addTombstones([{ lfn: '/a', at: 1, reason: 'r' }]);
    await s.setMeta('k', 'v');
    const r = await (c.reopen as () => Promise<CatalogStore>)();
    assert.deepEqual(await r.getServer('srv01'), server('srv01', { appliedSeq: 4 }));
    assert.deepEqual(await r.getDisk(a.diskId), disk('srv01', 0, { uuid: 'u' }));
    assert.deepEqual((await r.archivesOf(['/a'])).get('/a'), [a]);
    assert.equal((await r.listArchiveRoles(['orphan'], 10)).length, 1);
    assert.deepEqual(await r.getFile('/a'), file('/a'));
    assert.equal((await r.tombstonesFor(['/a'])).get('/a')!.length, 1);
    assert.equal(await r.getMeta('k'), 'v');
    assert.deepEqual(await r.applyArchiveChanges('srv01', [a], []), [], 'the archive is known after reopening');
  });
}
