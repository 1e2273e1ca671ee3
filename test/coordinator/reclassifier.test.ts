// The reclassifier against a real (in-memory) catalog: file rows and archive roles are written
// only where they change, yet state_since, first_seen and created_at keep their meaning.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultyCatalogStore } from '../../coordinator/catalog/faulty-store.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { Reclassifier, type FileChange } from '../../coordinator/health/reclassifier.js';
import { METADATA_NOTE } from '../../shared/xrdec/mt-file.js';
import { archive, disk, server } from './catalog/catalog-fixtures.js';

const P21 = { nbData: 2, nbParity: 1, chunkSize: 1048576 };
const SERVERS = ['srv01', 'srv02', 'srv03'];

describe('reclassifier writes', () => {
  let store: FaultyCatalogStore;
  let cluster: ClusterState;
  let recl: Reclassifier;
  const changes: FileChange[] = [];
  const seen = (): FileChange[] => [...changes];

  beforeEach(async () => {
    store = new FaultyCatalogStore(openSqliteCatalog(':memory:'));
    for (const id of SERVERS) {
      await store.putServer(server(id));
      await store.putDisk(disk(id, 0));
    }
    cluster = new ClusterState(store);
    await cluster.load();
    recl = new Reclassifier(store, cluster, () => P21, { flushMs: 1e9, writeSettleMs: 0 });
    changes.length = 0;
    recl.on('changes', (c: FileChange[]) => changes.push(...c));
  });
  afterEach(async () => store.close());

  const put = async (records: readonly ArchiveRecord[]): Promise<void> => {
    for (const id of SERVERS) {
      const mine = records.filter((r) => r.serverId === id);
      if (mine.length) recl.mark(await store.applyArchiveChanges(id, mine, []));
    }
    await recl.flush();
  };
  const reclassify = async (lfns: string[]): Promise<void> => {
    store.resetCounts();
    changes.length = 0;
    recl.mark(lfns);
    await recl.flush();
  };
  const setDisk = async (id: string, state: 'online' | 'missing'): Promise<void> => {
    await cluster.putDisk(disk(id, 0, { state }));
  };
  const roles = async (lfn: string): Promise<(string | undefined)[]> => ((await store.archiveStatesOf([lfn])).get(lfn) ?? []).map((a) => a.role);

  it('an unchanged file is not written again; a state change moves state_since but keeps first_seen and created_at', async () => {
    await put(SERVERS.map((id) => archive(id, 0, '/a')));
    const first = await store.getFile('/a');
    assert.equal(first?.state, 'healthy');
    assert.ok(first?.createdAt !== undefined);
    await sleep(5);
    await reclassify(['/a']);
    assert.equal(store.calls('putFiles'), 0, 'nothing changed: no file write');
    assert.equal(store.calls('updateArchiveRoles'), 0, 'every archive still current: no role write');
    assert.deepEqual(seen(), []);
    assert.deepEqual(await store.getFile('/a'), first);

    await setDisk('srv01', 'missing');
    await reclassify(['/a']);
    const degraded = await store.getFile('/a');
    assert.equal(degraded?.state, 'critical');
    assert.ok((degraded?.stateSince ?? 0) > (first?.stateSince ?? 0), 'a new state starts a new state_since');
    assert.equal(degraded?.firstSeen, first?.firstSeen);
    assert.equal(degraded?.createdAt, first?.createdAt);
    assert.equal(store.calls('putFiles'), 1);
    assert.deepEqual(seen().map((c) => [c.prev?.state, c.next?.state]), [['healthy', 'critical']]);

    await sleep(5);
    await reclassify(['/a']);
    assert.equal(store.calls('putFiles'), 0, 'still critical, nothing else changed: no write');
    assert.deepEqual(await store.getFile('/a'), degraded, 'state_since stays while the state does');

    await setDisk('srv01', 'online');
    await reclassify(['/a']);
    const back = await store.getFile('/a');
    assert.equal(back?.state, 'healthy');
    assert.ok((back?.stateSince ?? 0) > (degraded?.stateSince ?? 0));
    assert.equal(back?.firstSeen, first?.firstSeen);
  });

  it('roles follow the verdicts and only changed roles are written, a role going back to current included', async () => {
    const latest = SERVERS.map((id) => archive(id, 0, '/a'));
    const old = SERVERS.map((id) => archive(id, 0, '/a', { dataPath: 'public/0A/old%', strpver: 1 }));
    await put([...latest, ...old]);
    // key order: per server, public/0A/_a% before public/0A/old%
    assert.deepEqual(await roles('/a'), [undefined, 'debris', undefined, 'debris', undefined, 'debris'], 'the older version next to a healthy latest is debris');

    await reclassify(['/a']);
    assert.equal(store.calls('updateArchiveRoles'), 0, 'same verdicts: no role write');

    await setDisk('srv02', 'missing');
    await reclassify(['/a']);
    assert.deepEqual(await roles('/a'), [undefined, 'superseded', undefined, 'superseded', undefined, 'superseded'], 'kept while the latest is not healthy');
    const why = (await store.archiveStatesOf(['/a'])).get('/a')?.[1]?.roleReason ?? '';
    assert.match(why, /which is critical/);
    assert.equal(store.calls('updateArchiveRoles'), 1);

    // the latest version goes away entirely: the old one is current again, its role cleared
    for (const a of latest) recl.mark(await store.applyArchiveChanges(a.serverId, [], [{ diskId: a.diskId, dataPath: a.dataPath }]));
    await reclassify([]);
    await setDisk('srv02', 'online');
    await reclassify(['/a']);
    assert.deepEqual(await roles('/a'), [undefined, undefined, undefined]);
    assert.equal((await store.getFile('/a'))?.latestStrpver, 1);
    assert.equal((await store.getFile('/a'))?.state, 'healthy');
    assert.deepEqual(await store.listArchiveRoles(['debris', 'superseded'], 10), []);
  });

  it('the roles of a .mt metadata LFN an older catalog classified are cleared', async () => {
    const { strpver: _s, filesize: _f, ...rest } = archive('srv01', 0, '/data/x.mt', { nblocks: 0, nentries: 0 });
    const mt: ArchiveRecord = { ...rest, parseStatus: 'not-ec', parseError: `${METADATA_NOTE} of /data/x: 6 members` };
    recl.mark(await store.applyArchiveChanges('srv01', [mt], []));
    await store.updateArchiveRoles([{ serverId: mt.serverId, diskId: mt.diskId, dataPath: mt.dataPath, lfn: '/data/x.mt', role: 'corrupt', reason: 'old catalog' }]);
    await recl.flush();
    assert.deepEqual(await roles('/data/x.mt'), [undefined]);
    assert.equal(await store.getFile('/data/x.mt'), undefined);
  });
});
