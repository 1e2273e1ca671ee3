// A throw-away PostgreSQL cluster for a test file: initdb in a temp directory, the server on a
// free loopback port (trust auth, fsync off: nothing here must survive a crash), one database
// per createDatabase(). initdb and postgres refuse to run as root, and CI runs as root: then
// both run as the `postgres` system user (made by the Debian package) with the directory
// handed to it. Tests fail, not skip, when the binaries are missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../cli/demo/local-cluster.js';

export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/NAME for a database of this cluster. */
  url(database?: string): string;
  /** Creates an empty database with a fresh name and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /**
   * Creates an empty schema in `databaseUrl`'s database and returns a URL whose connections use
   * it (search_path): a fresh catalog in milliseconds, where CREATE DATABASE takes ~0.3 s.
   */
  createSchema(databaseUrl: string, prefix?: string): Promise<string>;
  /** Runs one statement as the superuser on the `postgres` database. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Stops the server (fast shutdown) and removes its directory. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL'); // a crashed test run leaves no server behind
});

/** The newest Debian PostgreSQL's bin directory (initdb, postgres). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/setup.sh (it installs the Debian package postgresql)');
  return join(root, versions[0] as string, 'bin');
}

/** uid and gid of the `postgres` user when we are root (initdb refuses root), else undefined. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error('running as root but there is no `postgres` user to run the test server as: run scripts/setup.sh (the Debian package makes it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

let dbCounter = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = serverUser();
  const root = mkdtempSync(join(tmpdir(), 'ecguard-pg-'));
  const data = join(root, 'data');
  const sock = join(root, 'sock');
  mkdirSync(sock);
  if (user) for (const p of [root, sock]) chownSync(p, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', ...(user ? { HOME: root } : {}) };
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], { ...as, env, encoding: 'utf8', cwd: root });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', sock, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', `logging_collector=off`, '-c', 'max_connections=200'];
  const proc = spawn(join(bin, 'postgres'), args, { ...as, env, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  let log = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d;
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => {
    live.delete(proc);
    resolve();
  }));
  const tailOf = (lines = 30): string => log.split('\n').slice(-lines).join('\n');
  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const admin = new pg.Pool({ connectionString: url(), max: 2, application_name: 'test-admin' });
  admin.on('error', () => undefined); // the server going away in stop() is expected

  const end = Date.now() + 30_000;
  for (;;) {
    try {
      await admin.query('SELECT 1');
      break;
    } catch (err) {
      if (proc.exitCode !== null || Date.now() > end) {
        proc.kill('SIGKILL');
        await admin.end().catch(() => undefined);
        rmSync(root, { recursive: true, force: true });
        throw new Error(`postgres did not start: ${(err as Error).message}\n${tailOf()}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    port,
    url,
    async createDatabase(prefix = 'ecguard') {
      const name = `${prefix}_${process.pid}_${++dbCounter}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async createSchema(databaseUrl, prefix = 'catalog') {
      const name = `${prefix}_${++dbCounter}`;
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${name}`);
      } finally {
        await c.end();
      }
      return `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    query: (sql, params) => admin.query(sql, params),
    async stop() {
      // Sessions a test just closed may not have exited yet: a shutdown now would send them
      // "terminating connection" while their client still reads (a stray warning, not a fault).
      for (const until = Date.now() + 2000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
        const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name <> 'test-admin'").catch(() => undefined);
        if (r === undefined || r.rows[0]?.n === 0) break;
      }
      await admin.end().catch(() => undefined);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT'); // fast shutdown: open sessions are ended
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(root, { recursive: true, force: true });
    },
    logTail: tailOf,
  };
}
