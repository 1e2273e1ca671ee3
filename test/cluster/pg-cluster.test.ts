// The coordinator process on a PostgreSQL catalog (`--db postgres://…`) with four agent
// processes (2+2 files): files become healthy, a removed disk makes exactly its files degraded, and the
// catalog rows are in PostgreSQL. Then the leader lock between coordinator processes: a second
// one waits as a standby, serves once the first is killed, and exits when its lock is taken.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import pgClient from 'pg';
import { freePort, LocalCluster, type PlacedFile } from '../../cli/demo/local-cluster.js';
import type { ListFilesReply, StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { repoRoot, runCliAsync } from '../helpers/cli.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

const P22 = { nbData: 2, nbParity: 2, chunkSize: 4096 }; // losing one archive leaves a file degraded, not critical

describe('cluster on a PostgreSQL catalog: coordinator + 4 agent processes', function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  let db: string;
  let cluster: LocalCluster;
  let files: PlacedFile[];
  let standby: ChildProcess | undefined;

  const admin = <T>(args: string[]): T => {
    const r = cluster.cli([...args, '--json']);
    if (r.code !== 0 && r.code !== 1) throw new Error(`ecguard ${args.join(' ')} exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> => {
    const end = Date.now() + ms;
    for (;;) {
      try {
        if (await ok()) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\ncoordinator log:\n${cluster.logTail('coordinator')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const count = (s: StatusReply, state: string): number => s.filesByState.find((x) => x.state === state)?.count ?? 0;
  const rows = async (sql: string): Promise<Record<string, unknown>[]> => {
    const c = new pgClient.Client({ connectionString: db });
    await c.connect();
    try {
      return (await c.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };

  before(async () => {
    pg = await startPostgres();
    db = await pg.createDatabase('cluster');
    // detection without repair racing it; safe mode settles fast (four known servers)
    cluster = new LocalCluster({ servers: 4, profile: P22, db, heartbeat: '300ms', downAfter: '4s', settle: '1s', extraCoordinatorArgs: ['--no-repair-auto'] });
    const sizes = [0, 1, 5000, 8192, 20_000];
    files = Array.from({ length: 24 }, (_, i) => cluster.placeFile(`/data/pg/f${i}`, sizes[i % sizes.length] as number, { first: i % 4 }));
    await cluster.start();
  });
  after(async () => {
    standby?.kill('SIGKILL');
    await cluster?.stop();
    await pg?.stop();
  });

  it('all files healthy once every agent has reported; the catalog is in PostgreSQL', async () => {
    await until('all healthy', () => {
      const s = admin<StatusReply>(['status']);
      return !s.safeMode?.active && count(s, 'healthy') === files.length;
    }, 60_000);
    const [n] = await rows("SELECT (SELECT count(*) FROM files WHERE state = 'healthy')::int AS healthy, (SELECT count(*) FROM archives)::int AS archives, (SELECT count(*) FROM servers WHERE inventoried = 1)::int AS servers");
    assert.deepEqual(n, { healthy: files.length, archives: files.length * 4, servers: 4 });
  });

  it('a disk directory removed: exactly the files with an archive there are degraded', async () => {
    const disk = cluster.sites[1]?.disks[0] as string;
    const expected = files.filter((f) => f.paths.some((p) => p.startsWith(disk + '/'))).map((f) => f.lfn).sort();
    assert.ok(expected.length >= 4, `${expected.length} files on the disk`);
    renameSync(disk, disk + '.gone');
    let got: string[] = [];
    await until('degraded list', () => {
      got = admin<ListFilesReply>(['files', '--state', 'degraded']).files.map((f) => f.lfn).sort();
      return got.length === expected.length;
    });
    assert.deepEqual(got, expected);
    assert.equal(admin<ListFilesReply>(['files', '--state', 'lost,critical,unavailable']).files.length, 0);
    const inPg = (await rows("SELECT lfn FROM files WHERE state = 'degraded' ORDER BY lfn")).map((r) => r.lfn);
    assert.deepEqual(inPg, expected);
  });

  it('a second coordinator waits as a standby, serves when the first is killed, and exits when its lock session ends', async () => {
    const port = await freePort();
    standby = spawn(process.execPath, [join(repoRoot, 'bin', 'ecguard.js'), 'coordinator', '--insecure', '--listen', `127.0.0.1:${port}`, '--db', db, '--event-log', join(cluster.root, 'events-2.db')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    standby.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    standby.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => standby?.once('exit', (c) => resolve(c)));
    await until('standby message', () => /standby: the catalog at 127\.0\.0\.1:\d+\/cluster_\d+_\d+ is in use by another coordinator \(ecguard-coordinator /.test(err), 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.doesNotMatch(out, /listening/, 'a standby does not serve');
    await cluster.killCoordinator('SIGKILL');
    await until('the standby serving', () => /listening on port \d+/.test(out), 20_000);
    // the catalog it took over is the one the first coordinator filled
    const status = JSON.parse(cluster.cli(['status', '--json', '--coordinator', `127.0.0.1:${port}`, '--insecure'], false).stdout) as StatusReply;
    assert.equal(status.filesByState.reduce((n, s) => n + s.count, 0), files.length);
    await pg.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'ecguard-coordinator % pid %'");
    assert.equal(await exited, 1);
    assert.match(err, /ecguard: STORE_LEASE_LOST: lost the catalog lock at 127\.0\.0\.1:\d+\/cluster_\d+_\d+ .*another coordinator may be active now/);
  });

  it('an unreachable PostgreSQL: the coordinator exits at once with STORE_UNREACHABLE naming host:port, never the password', async () => {
    const port = await freePort(); // nothing listens there
    const r = await runCliAsync(['coordinator', '--insecure', '--listen', '127.0.0.1:0', '--db', `postgres://ecguard:sekret@127.0.0.1:${port}/catalog`, '--event-log', join(cluster.root, 'events-3.db')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`ecguard: STORE_UNREACHABLE: cannot reach the PostgreSQL catalog at 127\\.0\\.0\\.1:${port}/catalog: .*Check that the server runs`));
    assert.doesNotMatch(r.stderr + r.stdout, /sekret/);
  });
});
