// The drain list (`ecguard drain start|stop`): kept in the catalog across restarts; bad requests
// are refused with a code naming what was wrong, and change nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { DrainBook, placeableServers } from '../../coordinator/repair/drain-book.js';
import { EcguardError } from '../../shared/errors.js';

const code = (c: string) => (e: unknown): boolean => e instanceof EcguardError && e.code === c;

describe('drain book', () => {
  let dir: string;
  let store: CatalogStore;
  let cluster: ClusterState;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-drain-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
    cluster = new ClusterState(store);
    for (const [s, state] of [['s1', 'up'], ['s2', 'up'], ['s3', 'lost']] as const) {
      await cluster.putServer({ serverId: s, state, since: 0, lastSeen: 0, appliedSeq: 0, instanceId: `i-${s}`, inventoried: true });
      for (const n of [0, 1]) await store.putDisk({ diskId: `${s}:/data/disk${n}`, serverId: s, path: `/data/disk${n}`, space: 'public', state: s === 's2' && n === 1 ? 'failed' : 'online', since: 0, evidence: [] });
    }
    await cluster.load();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a drain is kept across a restart, says why for its archives, and covers a server\'s disks', async () => {
    const book = new DrainBook(store, cluster);
    await book.load();
    assert.equal((await book.start('disk', 's1:/data/disk0', 'SMART reallocated sectors', 1000)).created, true);
    assert.equal((await book.start('server', 's2', '', 2000)).created, true);
    const again = await book.start('disk', 's1:/data/disk0', 'other words', 3000);
    assert.equal(again.created, false, 'starting it twice keeps the first');
    assert.equal(again.drain.reason, 'SMART reallocated sectors');

    const reopened = new DrainBook(store, cluster);
    await reopened.load();
    assert.deepEqual(reopened.drains(), [{ kind: 'disk', id: 's1:/data/disk0', since: 1000, reason: 'SMART reallocated sectors' }, { kind: 'server', id: 's2', since: 2000, reason: '' }]);
    assert.match(reopened.why('s1', 's1:/data/disk0') ?? '', /disk s1:\/data\/disk0 is being drained \(SMART/);
    assert.equal(reopened.why('s1', 's1:/data/disk1'), undefined);
    assert.ok(reopened.why('s2', 's2:/data/disk0'));
    assert.equal(reopened.serverDraining('s2'), true);
    assert.equal(reopened.serverDraining('s1'), false);
    assert.deepEqual(reopened.disksOf(reopened.drains()[1] as never), ['s2:/data/disk0', 's2:/data/disk1']);

    await reopened.stop('disk', 's1:/data/disk0');
    const third = new DrainBook(store, cluster);
    await third.load();
    assert.deepEqual(third.drains().map((d) => d.id), ['s2']);
  });

  it('placeable servers (the insufficient-storage indicator) leave out drained servers and servers whose online disks are all drained', async () => {
    const book = new DrainBook(store, cluster);
    await book.load();
    assert.equal(placeableServers(cluster, book), 2, 's1 and s2 (s3 is lost)');
    await book.start('disk', 's2:/data/disk0', '', 1); // s2's other disk is failed: nothing left there
    assert.equal(placeableServers(cluster, book), 1);
    await book.start('disk', 's1:/data/disk1', '', 2); // s1 keeps disk0
    assert.equal(placeableServers(cluster, book), 1);
    await book.start('server', 's1', '', 3);
    assert.equal(placeableServers(cluster, book), 0);
  });

  it('refuses what cannot be drained, and changes nothing', async () => {
    const book = new DrainBook(store, cluster);
    await book.load();
    await assert.rejects(book.start('server', 'nope', '', 1), code('UNKNOWN_SERVER'));
    await assert.rejects(book.start('disk', 's1:/nope', '', 1), code('UNKNOWN_DISK'));
    await assert.rejects(book.start('server', 's3', '', 1), code('SERVER_LOST'));
    await assert.rejects(book.start('disk', 's2:/data/disk1', '', 1), code('DISK_GONE'));
    await assert.rejects(book.start('disk', 's1:/data/disk0', 'two\nlines', 1), code('USAGE'));
    await assert.rejects(book.start('disk', 's1:/data/disk0', 'a\ttab', 1), code('USAGE'));
    await assert.rejects(book.start('disk', 's1:/data/disk0', 'x'.repeat(501), 1), code('USAGE'));
    await assert.rejects(book.stop('server', 's1'), code('NOT_DRAINING'));
    assert.deepEqual(book.drains(), []);
    assert.equal(await store.getMeta('drain.list'), undefined, 'nothing was written');
  });

  it('a malformed stored list is refused at load with the meta key to fix', async () => {
    await store.setMeta('drain.list', JSON.stringify([{ kind: 'rack', id: 'r1', since: 0, reason: '' }]));
    await assert.rejects(new DrainBook(store, cluster).load(), (e: unknown) => code('CATALOG_CORRUPT')(e) && /drain\.list/.test((e as Error).message));
    await store.setMeta('drain.list', '{not json');
    await assert.rejects(new DrainBook(store, cluster).load(), code('CATALOG_CORRUPT'));
  });
});
