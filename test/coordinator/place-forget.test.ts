// server forget / disk forget (coordinator/place-forget.ts) on a real SQLite catalog: only a
// place whose archives no longer count, never one holding the last archives of a file's newest
// version; a refusal changes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { forgetDisk, forgetServer, type ForgetContext } from '../../coordinator/place-forget.js';
import type { Drain, DrainKind } from '../../coordinator/repair/drain-book.js';
import { EcguardError } from '../../shared/errors.js';
import { archive, disk, file, server } from './catalog/catalog-fixtures.js';

const code = (c: string) => (e: unknown): boolean => e instanceof EcguardError && e.code === c;

describe('forget a server or a disk', () => {
  let dir: string;
  let store: CatalogStore;
  let cluster: ClusterState;
  let ctx: ForgetContext;
  const reclassified: string[] = [];
  const stopped: string[] = [];
  const forgotten: string[] = [];
  let drains: Drain[];
  let connected: Set<string>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-forget-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
    cluster = new ClusterState(store);
    reclassified.length = 0;
    stopped.length = 0;
    forgotten.length = 0;
    drains = [];
    connected = new Set();
    // s1 lost, s2 up; /a has archives on s1 and s2; /b only on s1 (its last ones)
    for (const [id, state] of [['s1', 'lost'], ['s2', 'up'], ['s3', 'down']] as const) await store.putServer(server(id, { state }));
    for (const d of [disk('s1', 0), disk('s1', 1, { state: 'missing' }), disk('s2', 0), disk('s2', 1, { state: 'failed' })]) await store.putDisk(d);
    await store.applyArchiveChanges('s1', [archive('s1', 0, '/a'), archive('s1', 1, '/c')], []);
    await store.applyArchiveChanges('s2', [archive('s2', 0, '/a'), archive('s2', 0, '/c'), archive('s2', 1, '/a')], []);
    await store.putFiles([file('/a', { latestStrpver: 1_700_000_000 }), file('/c', { latestStrpver: 1_700_000_000 })]);
    await cluster.load();
    ctx = {
      cluster, store, connected: (id) => connected.has(id), reclassify: (l) => reclassified.push(...l),
      drains: { drains: () => drains, stop: async (kind: DrainKind, id: string) => {
        stopped.push(`${kind} ${id}`);
        return 'stopped';
      } },
      events: { forgotten: (kind, subject, archives, files) => void forgotten.push(`${kind} ${subject.diskId ?? subject.serverId} ${archives} ${files}`) },
    };
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a lost server whose files all have their newest version elsewhere: forgotten, its drains ended, its files reclassified', async () => {
    drains = [{ kind: 'server', id: 's1', since: 1, reason: '' }];
    assert.match(await forgetServer(ctx, 's1'), /server s1 forgotten: 2 disk\(s\)/);
    assert.equal(await store.getServer('s1'), undefined);
    assert.deepEqual(await store.listDisks('s1'), []);
    assert.equal(cluster.server('s1'), undefined);
    assert.equal(cluster.disk(disk('s1', 0).diskId), undefined);
    assert.deepEqual(reclassified.sort(), ['/a', '/c']);
    assert.deepEqual(stopped, ['server s1']);
    assert.deepEqual(forgotten, ['server s1 2 2']);
    assert.deepEqual((await store.archivesOf(['/a'])).get('/a')?.map((a) => a.serverId), ['s2', 's2']);
  });

  it('refuses an unknown, connected, not lost server, or one holding the last archives of a file, and changes nothing', async () => {
    await assert.rejects(forgetServer(ctx, 'nope'), code('UNKNOWN_SERVER'));
    await assert.rejects(forgetServer(ctx, 's3'), (e: unknown) => code('SERVER_NOT_LOST')(e) && /ecguard server lost s3/.test((e as Error).message));
    connected.add('s1');
    await assert.rejects(forgetServer(ctx, 's1'), code('SERVER_CONNECTED'));
    connected.clear();
    await store.applyArchiveChanges('s1', [archive('s1', 0, '/b')], []);
    await store.putFiles([file('/b', { latestStrpver: 1_700_000_000, state: 'lost' })]);
    await assert.rejects(forgetServer(ctx, 's1'), (e: unknown) => code('LAST_ARCHIVES')(e) && /1 file\(s\) \(\/b\)/.test((e as Error).message));
    assert.ok(await store.getServer('s1'));
    assert.equal((await store.lfnsOnServer('s1')).length, 3);
    assert.deepEqual([reclassified, stopped, forgotten], [[], [], []]);
  });

  it('a missing or failed disk is forgotten; an online one, or one with a file\'s last archives, is refused', async () => {
    await assert.rejects(forgetDisk(ctx, 'nope'), code('UNKNOWN_DISK'));
    await assert.rejects(forgetDisk(ctx, disk('s2', 0).diskId), code('DISK_PRESENT'));
    assert.match(await forgetDisk(ctx, disk('s2', 1).diskId), /forgotten: the archive rows of 1 file/);
    assert.deepEqual(await store.lfnsOnDisk(disk('s2', 1).diskId), []);
    assert.deepEqual(reclassified, ['/a']);
    // /c's newest version: s1 disk 1 (missing) and s2 disk 0; after s2 disk 0 were gone it would be the last
    await store.applyArchiveChanges('s2', [], [{ diskId: disk('s2', 0).diskId, dataPath: archive('s2', 0, '/c').dataPath }]);
    await assert.rejects(forgetDisk(ctx, disk('s1', 1).diskId), code('LAST_ARCHIVES'));
    assert.ok(await store.getDisk(disk('s1', 1).diskId), 'kept');
  });
});
