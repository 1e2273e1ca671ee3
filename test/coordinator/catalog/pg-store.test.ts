// PgCatalogStore: the store contract against a real PostgreSQL server (a throw-away cluster, one
// schema per fixture), reopened too, plus what is PostgreSQL's own.
import assert from 'node:assert/strict';
import pg from 'pg';
import { freePort } from '../../../cli/demo/local-cluster.js';
import { openCatalogStore } from '../../../coordinator/catalog/open-store.js';
import { PgLeaderLease } from '../../../coordinator/catalog/pg-leader-lease.js';
import { PgCatalogStore } from '../../../coordinator/catalog/pg-store.js';
import type { EcguardError } from '../../../shared/errors.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import { archive, bareFile, disk, server as serverRow } from './catalog-fixtures.js';
import { storeContract } from './store-contract.js';

const code = (expected: string, text?: RegExp) => (err: unknown) => (err as EcguardError).code === expected && (text === undefined || text.test((err as Error).message));

describe('PgCatalogStore', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let contractDb: string;

  before(async () => {
    server = await startPostgres();
    contractDb = await server.createDatabase('contract');
  });
  after(async () => {
    await server?.stop();
  });

  describe('store contract', () =>
    storeContract(async () => {
      const url = await server.createSchema(contractDb);
      let store = new PgCatalogStore(url);
      return {
        store,
        reopen: async () => {
          await store.close();
          return (store = new PgCatalogStore(url));
        },
        cleanup: () => store.close(),
      };
    }));

  describe('PostgreSQL specifics', () => {
    let url: string;
    const stores: PgCatalogStore[] = [];
    const leases: PgLeaderLease[] = [];
    const newStore = (u = url): PgCatalogStore => {
      const st = new PgCatalogStore(u);
      stores.push(st);
      return st;
    };
    const newLease = (o: ConstructorParameters<typeof PgLeaderLease>[1] = {}, u = url): PgLeaderLease => {
      const l = new PgLeaderLease(u, o);
      leases.push(l);
      return l;
    };
    beforeEach(async () => {
      url = await server.createDatabase('specific'); // a database each: the leader lock is per database
    });
    afterEach(async () => {
      for (const l of leases.splice(0)) await l.release();
      for (const st of stores.splice(0)) await st.close();
    });

    it('openCatalogStore opens PostgreSQL for postgres:// and postgresql:// URLs; a URL that does not parse is a usage error that does not repeat it', async () => {
      for (const u of [url, url.replace(/^postgres:/, 'postgresql:')]) {
        const st = openCatalogStore(u);
        assert.ok(st instanceof PgCatalogStore);
        stores.push(st);
        await st.setMeta('k', u);
        assert.equal(await st.getMeta('k'), u);
      }
      assert.throws(() => openCatalogStore('postgres://u:sekret@host:notaport/db'), (e: Error) => code('USAGE')(e) && !e.message.includes('sekret'));
    });

    it('the hot queries can use their indexes (EXPLAIN)', async () => {
      await newStore().open();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('SET enable_seqscan = off'); // with a few rows the planner would scan anyway: ask what it can use
        const plan = async (q: string): Promise<string> => (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q}`)).rows.map((r) => r['QUERY PLAN']).join(' | ');
        assert.match(await plan("SELECT DISTINCT lfn FROM archives WHERE disk_id = 'd' AND lfn IS NOT NULL ORDER BY lfn"), /Index Only Scan using archives_disk /);
        assert.match(await plan("SELECT DISTINCT lfn FROM archives WHERE disk_id = 'd' AND lfn IS NOT NULL AND (role IS NULL OR role = 'current') ORDER BY lfn"), /Index Only Scan using archives_disk /);
        assert.match(await plan("SELECT * FROM archives WHERE lfn = ANY('{/x,/y}'::text[])"), /(using|on) archives_lfn /);
        assert.match(await plan("SELECT lfn FROM archives WHERE lfn = ANY('{/x}'::text[]) AND role IS NOT NULL"), /(using|on) archives_roled /);
        assert.match(await plan("SELECT lfn FROM archives WHERE role = ANY('{debris}'::text[]) AND role <> 'current' ORDER BY role, lfn"), /(using|on) archives_role /);
        assert.match(await plan("DELETE FROM archives WHERE server_id = 's' AND disk_id = ANY('{d}'::text[]) AND inv_gen < 3"), /(using|on) archives_pkey /);
        assert.match(await plan("SELECT lfn FROM files WHERE state = ANY('{lost}'::text[]) ORDER BY lfn"), /(using|on) files_state /);
        assert.match(await plan("SELECT lfn FROM files WHERE lfn >= '/data/' AND lfn < '/data0' ORDER BY lfn"), /(using|on) files_pkey /);
        assert.match(await plan("SELECT body FROM repair_tasks WHERE lfn = '/x'"), /(using|on) repair_tasks_lfn /);
      } finally {
        await c.end();
      }
    });

    it('an inventory batch of 10k records is a handful of statements, not one per record', async () => {
      const st = newStore();
      await st.putServer(serverRow('srv01'));
      await st.beginInventory('srv01', [disk('srv01', 0).diskId]);
      const records = Array.from({ length: 10_000 }, (_, i) => archive('srv01', 0, `/bulk/f${i}`));
      const query = pg.Client.prototype.query;
      let calls = 0;
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        calls++;
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      let touched: string[];
      const t0 = Date.now();
      try {
        touched = await st.inventoryBatch('srv01', records);
      } finally {
        pg.Client.prototype.query = query;
      }
      const ms = Date.now() - t0;
      assert.equal(touched.length, 10_000);
      assert.ok(calls <= 8, `${calls} statements for one batch`);
      assert.equal(await st.archiveCount(), 10_000);
      process.stderr.write(`      (10k-record inventory batch: ${calls} statements, ${ms} ms)\n`);
    });

    it('methods run in call order, as on SQLite: writes called without waiting never overtake each other or earlier reads', async () => {
      const st = newStore();
      const a = archive('srv01', 0, '/a');
      // not awaited one by one: each would fail (UNKNOWN_SERVER, NO_INVENTORY) if it ran before the one called before it
      const results = await Promise.all([
        st.archiveCount(),
        st.putServer(serverRow('srv01')),
        st.beginInventory('srv01', [a.diskId]),
        st.inventoryBatch('srv01', [a]),
        st.archiveCount(),
        st.applyArchiveChanges('srv01', [], [{ diskId: a.diskId, dataPath: a.dataPath }], 5),
        st.archiveCount(),
        st.endInventory('srv01', 6),
        st.getServer('srv01'),
      ]);
      assert.deepEqual([results[0], results[3], results[4], results[5], results[6], results[7]], [0, ['/a'], 1, ['/a'], 0, []]);
      assert.equal((results[8] as { appliedSeq: number }).appliedSeq, 6);
    });

    it('strings with NUL and U+0001 keep their order and prefixes (the text encoding)', async () => {
      const st = newStore();
      const lfns = ['/a', '/a\u0000', '/a\u0000x', '/a\u0001', '/a\u0001\u0000', '/a\u0002', '/a\u0002\u0001', '/b'];
      await st.putFiles([...lfns].reverse().map((l) => bareFile(l)));
      assert.deepEqual((await st.listFiles({})).map((f) => f.lfn), lfns);
      assert.deepEqual((await st.listFiles({ prefix: '/a\u0000' })).map((f) => f.lfn), ['/a\u0000', '/a\u0000x']);
      assert.deepEqual((await st.listFiles({ prefix: '/a\u0001' })).map((f) => f.lfn), ['/a\u0001', '/a\u0001\u0000']);
      assert.deepEqual((await st.listFiles({ after: '/a\u0000x', limit: 2 })).map((f) => f.lfn), ['/a\u0001', '/a\u0001\u0000']);
    });

    it('a catalog from before the counts (schema 1) is counted once at open and becomes schema 2', async () => {
      const first = newStore();
      await first.putServer(serverRow('srv01'));
      await first.applyArchiveChanges('srv01', [archive('srv01', 0, '/a'), archive('srv01', 0, '/b', { dataPath: 'public/0B/b%' }), archive('srv01', 1, '/c')], []);
      await first.putFiles([bareFile('/a'), { ...bareFile('/b'), state: 'lost', bytes: 5 }]);
      await first.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query("DROP TABLE disk_archive_counts, file_state_counts; UPDATE meta SET value = '1' WHERE key = 'catalog.schemaVersion'");
      await c.end();
      const second = newStore();
      assert.deepEqual(Object.fromEntries(await second.archiveCountsByDisk()), { [disk('srv01', 0).diskId]: 2, [disk('srv01', 1).diskId]: 1 });
      const counts = await second.fileCounts();
      assert.deepEqual([counts.pending, counts.lost], [{ count: 1, bytes: 0 }, { count: 1, bytes: 5 }]);
      assert.equal(await second.getMeta('catalog.schemaVersion'), '2');
      await second.applyArchiveChanges('srv01', [archive('srv01', 1, '/d', { dataPath: 'public/0D/d%' })], []);
      assert.equal(await second.archiveCount(), 4, 'kept by the triggers from then on');
    });

    it('refuses a catalog written by a newer schema', async () => {
      const first = newStore();
      await first.setMeta('k', 'v');
      await server.query(`SELECT 1`); // the cluster is up
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query("UPDATE meta SET value = '999' WHERE key = 'catalog.schemaVersion'");
      await c.end();
      const second = newStore();
      await assert.rejects(second.open(), code('STORE_SCHEMA', /newer than this ecguard/));
      await assert.rejects(second.getMeta('k'), code('STORE_SCHEMA'), 'every call refuses it, not just the first');
    });

    it('an unreachable server is STORE_UNREACHABLE naming host:port and what to check, never the password', async () => {
      const port = await freePort(); // nothing listens there
      const dead = `postgres://ecguard:sekret@127.0.0.1:${port}/catalog`;
      const st = newStore(dead);
      for (const attempt of [st.open(), st.listServers(), newLease({}, dead).acquire()]) {
        await assert.rejects(attempt, (e: Error) => {
          assert.equal((e as EcguardError).code, 'STORE_UNREACHABLE');
          assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}/catalog`));
          assert.match(e.message, /check that the server runs/i);
          assert.doesNotMatch(e.message, /sekret/);
          return true;
        });
      }
      await assert.rejects(newStore(url.replace(/\/[^/]+$/, '/nosuchdb')).open(), code('STORE_OPEN', /no such database.*create it/i));
    });

    it('leader lock: a second coordinator is standby while the first holds it, and takes over when it lets go', async () => {
      const first = newLease();
      assert.equal(await first.acquire(), true);
      assert.equal(first.held, true);
      const seen: string[] = [];
      const second = newLease({ retryMs: 100, onStandby: (h) => seen.push(h) });
      let secondHeld = false;
      const waiting = second.acquire().then((ok) => (secondHeld = ok));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(secondHeld, false, 'standby while the first holds the lock');
      assert.ok(seen.length >= 3, `tried again every 100 ms (${seen.length})`);
      assert.match(seen[0] ?? '', /ecguard-coordinator .* pid \d+/, 'says which coordinator is active');
      await first.release();
      await waiting;
      assert.equal(secondHeld, true);
      assert.equal(second.held, true);
      // a third one waiting can be called off
      const third = newLease({ retryMs: 100 });
      const off = third.acquire();
      await new Promise((r) => setTimeout(r, 150));
      await third.release();
      assert.equal(await off, false);
    });

    it('leader lock: when the lock connection drops the holder is told at once, and its store writes nothing more (fence)', async () => {
      const lease = newLease({ pingMs: 200 });
      assert.equal(await lease.acquire(), true);
      const st = newStore();
      st.setLeaderFence(lease.fence!);
      await st.putServer(serverRow('srv01'));
      const lost = new Promise<EcguardError>((resolve) => lease.onLost(resolve));
      // the administrator (or a failover) ends the lock's session; the store's own connections live on
      await server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'ecguard-coordinator % pid %'");
      const err = await lost;
      assert.equal(err.code, 'STORE_LEASE_LOST');
      assert.match(err.message, /another coordinator may be active/);
      assert.equal(lease.held, false);
      await assert.rejects(st.putServer(serverRow('srv01', { state: 'down' })), code('STORE_FENCED'));
      assert.equal((await st.getServer('srv01'))?.state, 'up', 'nothing written');
      // another coordinator now takes the lock and writes
      const next = newLease();
      assert.equal(await next.acquire(), true);
      const other = newStore();
      other.setLeaderFence(next.fence!);
      await other.putServer(serverRow('srv01', { state: 'lost' }));
      await assert.rejects(st.putDisk(disk('srv01', 0)), code('STORE_FENCED'));
    });
  });
});
