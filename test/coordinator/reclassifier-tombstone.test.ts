// A tombstone says "deleted on every up server". It must come only from unlinks of the latest
// version's available archives, never from an unrelated unlink while the file had none
// available (found by review: removing an old leftover of an unavailable file deleted it and
// called its surviving archives debris, for good).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { Reclassifier } from '../../coordinator/health/reclassifier.js';
import { LFN, P21, V0, V1, seedRecord, seedSite } from '../helpers/catalog-seed.js';

describe('reclassifier: tombstones only from the deletion of the latest version', () => {
  let dir: string;
  let store: CatalogStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-tomb-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
  });
  // each test's reclassifiers: stopped before the store closes (a delete's grace timer may be due)
  const made: Reclassifier[] = [];
  const track = (rc: Reclassifier): Reclassifier => (made.push(rc), rc);
  afterEach(async () => {
    for (const rc of made.splice(0)) rc.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(states: { down: number[]; s1disk: 'online' | 'failed' }): Promise<Reclassifier> {
    await seedSite(store, [1, 2, 3, 4], { down: states.down, disk: (s) => (s === 1 ? states.s1disk : 'online'), record: (s) => seedRecord(s, s === 4 ? { strpver: V0 } : {}) });
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = track(new Reclassifier(store, cluster, () => P21, { flushMs: 1, deleteGraceMs: 20 }));
    rc.mark([LFN]);
    await rc.flush();
    return rc;
  }

  it('an unavailable file stays unavailable when an old leftover of it is removed', async () => {
    const rc = await setup({ down: [2, 3], s1disk: 'failed' });
    assert.equal((await store.getFile(LFN))?.state, 'unavailable');
    await store.applyArchiveChanges('s4', [], [{ diskId: 's4:/d', dataPath: 'public/00/f4%' }]);
    rc.markUnlinked([LFN]);
    await new Promise((r) => setTimeout(r, 60));
    await rc.flush();
    assert.deepEqual((await store.tombstonesFor([LFN])).get(LFN) ?? [], []);
    const f = await store.getFile(LFN);
    assert.equal(f?.state, 'unavailable');
    const roles = await store.listArchiveRoles(['debris'], 10);
    assert.deepEqual(roles, [], 'no archive of it is debris');
  });

  it('a file deleted on every up server while one was down gets its tombstone; the down server\'s archive is debris', async () => {
    const rc = await setup({ down: [3], s1disk: 'online' });
    assert.equal((await store.getFile(LFN))?.state, 'critical');
    // rm on every up server: s1 and s2 (latest) and the old leftover on s4
    for (const s of [1, 2, 4]) await store.applyArchiveChanges(`s${s}`, [], [{ diskId: `s${s}:/d`, dataPath: `public/00/f${s}%` }]);
    rc.markUnlinked([LFN]);
    await new Promise((r) => setTimeout(r, 60));
    await rc.flush();
    const t = (await store.tombstonesFor([LFN])).get(LFN) ?? [];
    assert.equal(t.length, 1);
    assert.equal(t[0]?.strpver, V1);
    assert.deepEqual((await store.listArchiveRoles(['debris'], 10)).map((r) => r.serverId), ['s3']);
  });

  it('a delete while a server is dead but not yet down: no false loss, and the tombstone comes when it is marked down', async () => {
    // s3 died a moment ago: still `up`, silent
    const quiet = new Set<string>();
    await seedSite(store, [1, 2, 3]);
    const cluster = new ClusterState(store);
    await cluster.load();
    const make = (silence: boolean): Reclassifier => track(new Reclassifier(store, cluster, () => P21, {
      flushMs: 1, deleteGraceMs: 20, ...(silence ? { silence: { silentMs: (id: string) => (quiet.has(id) ? 10_000 : 0), silentAfterMs: 1000, deleteHoldMs: 5000 } } : {}),
    }));
    const rc = make(true);
    rc.mark([LFN]);
    await rc.flush();
    assert.equal((await store.getFile(LFN))?.state, 'healthy');
    quiet.add('s3');
    for (const s of [1, 2]) await store.applyArchiveChanges(`s${s}`, [], [{ diskId: `s${s}:/d`, dataPath: `public/00/f${s}%` }]);
    rc.markUnlinked([LFN]);
    await new Promise((r) => setTimeout(r, 200)); // well past the 20 ms grace
    await rc.flush();
    assert.equal((await store.getFile(LFN))?.state, 'healthy', 'held: the only archive left is on a silent server, not called lost');
    // liveness marks s3 down: the delete is recognised
    await cluster.updateServer('s3', { state: 'down' });
    rc.mark([LFN]);
    await new Promise((r) => setTimeout(r, 30));
    await rc.flush();
    assert.equal(await store.getFile(LFN), undefined, 'deleted');
    assert.equal(((await store.tombstonesFor([LFN])).get(LFN) ?? [])[0]?.strpver, V1);
    assert.deepEqual((await store.listArchiveRoles(['debris'], 10)).map((r) => r.serverId), ['s3']);
  });

  it('holders silent through an unlink that speak again before they are marked down: no tombstone, the file is what its archives say', async () => {
    // found by review: a partition (agents silent, xrootd fine) while ONE stripe is lost is damage
    const quiet = new Set<string>();
    await seedSite(store, [1, 2, 3]);
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = track(new Reclassifier(store, cluster, () => P21, { flushMs: 1, deleteGraceMs: 20, silence: { silentMs: (id: string) => (quiet.has(id) ? 10_000 : 0), silentAfterMs: 1000, deleteHoldMs: 5000 } }));
    rc.mark([LFN]);
    await rc.flush();
    quiet.add('s2');
    quiet.add('s3');
    await store.applyArchiveChanges('s1', [], [{ diskId: 's1:/d', dataPath: 'public/00/f1%' }]);
    rc.markUnlinked([LFN]);
    await new Promise((r) => setTimeout(r, 200));
    await rc.flush();
    assert.equal((await store.getFile(LFN))?.state, 'healthy', 'held while s2 and s3 are silent');
    quiet.clear(); // the partition heals before liveness marks them down
    await new Promise((r) => setTimeout(r, 600));
    await rc.flush();
    assert.equal((await store.getFile(LFN))?.state, 'critical', 'one stripe lost: damage, to be repaired');
    assert.deepEqual((await store.tombstonesFor([LFN])).get(LFN) ?? [], []);
    assert.deepEqual(await store.listArchiveRoles(['debris'], 10), []);
  });

  it('without silence (the last holder is talking) the same unlinks are damage after the grace, as before', async () => {
    await seedSite(store, [1, 2, 3]);
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = track(new Reclassifier(store, cluster, () => P21, { flushMs: 1, deleteGraceMs: 20, silence: { silentMs: () => 0, silentAfterMs: 1000, deleteHoldMs: 5000 } }));
    rc.mark([LFN]);
    await rc.flush();
    for (const s of [1, 2]) await store.applyArchiveChanges(`s${s}`, [], [{ diskId: `s${s}:/d`, dataPath: `public/00/f${s}%` }]);
    rc.markUnlinked([LFN]);
    await new Promise((r) => setTimeout(r, 200));
    await rc.flush();
    assert.equal((await store.getFile(LFN))?.state, 'lost');
  });
  it('a delete learnt server by server from inventories (journals lost): held while the other holders still sync, then gone, never lost', async () => {
    // found with ecguard simulate: every agent restarted without its journal while files were
    // deleted; each server's sweep took away its archive, and the file was shown lost until the
    // last server's resync came in
    const syncing = new Set(['s2', 's3']);
    await seedSite(store, [1, 2, 3]);
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = track(new Reclassifier(store, cluster, () => P21, { flushMs: 1, deleteGraceMs: 20, silence: { silentMs: () => 0, silentAfterMs: 1000, deleteHoldMs: 50, syncingMs: (id: string) => (syncing.has(id) ? 0 : undefined), syncHoldMs: 60_000 } }));
    rc.mark([LFN]);
    await rc.flush();
    for (const s of [1, 2]) {
      await store.applyArchiveChanges(`s${s}`, [], [{ diskId: `s${s}:/d`, dataPath: `public/00/f${s}%` }]);
      syncing.delete(`s${s}`);
      rc.markUnlinked([LFN]);
      await new Promise((r) => setTimeout(r, 200)); // well past the grace and the silence hold
      await rc.flush();
      assert.equal((await store.getFile(LFN))?.state, 'healthy', `held after s${s}'s sweep: s3 still syncing`);
    }
    await store.applyArchiveChanges('s3', [], [{ diskId: 's3:/d', dataPath: 'public/00/f3%' }]);
    syncing.delete('s3');
    rc.markUnlinked([LFN]);
    await rc.flush();
    assert.equal(await store.getFile(LFN), undefined, 'deleted: gone from every server, so nothing is left to explain');
  });

  it('the same sweep once the other holders have synced is damage after the grace', async () => {
    await seedSite(store, [1, 2, 3]);
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = track(new Reclassifier(store, cluster, () => P21, { flushMs: 1, deleteGraceMs: 20, silence: { silentMs: () => 0, silentAfterMs: 1000, deleteHoldMs: 50, syncingMs: () => undefined, syncHoldMs: 60_000 } }));
    rc.mark([LFN]);
    await rc.flush();
    await store.applyArchiveChanges('s1', [], [{ diskId: 's1:/d', dataPath: 'public/00/f1%' }]);
    rc.markUnlinked([LFN]);
    await new Promise((r) => setTimeout(r, 200));
    await rc.flush();
    assert.equal((await store.getFile(LFN))?.state, 'critical');
    assert.deepEqual((await store.tombstonesFor([LFN])).get(LFN) ?? [], []);
  });
});
