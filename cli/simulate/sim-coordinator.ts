// The coordinator `ecguard simulate` measures: a real `ecguard coordinator` process on loopback
// with its own catalog (a new SQLite file by default), never the site's. Its Admin API is
// polled for states, and /proc gives its CPU time and peak memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { AdminClient, type StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { isPostgresUrl, pgConfig } from '../../coordinator/catalog/pg-connection.js';
import { sqlitePathOf } from '../../coordinator/catalog/open-store.js';
import { DAEMON_NODE_FLAGS } from '../../shared/daemon-node-flags.js';
import { EcguardError, UsageError } from '../../shared/errors.js';
import { call } from '../admin-client.js';
import { freePort } from '../demo/local-cluster.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(repo, 'bin', 'ecguard.js');

export interface SimCoordinatorOptions {
  readonly dir: string;
  /** --db: a new SQLite file, or a postgres:// URL holding no real server. */
  readonly db: string;
  readonly heartbeat: string;
  readonly downAfter: string;
  readonly settle: string;
}

/** Refuses a catalog that could be a site's, or an earlier run's: a SQLite file that exists, a PostgreSQL catalog holding any server. */
export async function checkSimCatalog(db: string): Promise<void> {
  if (!isPostgresUrl(db)) {
    const path = sqlitePathOf(db);
    if (path === undefined || path === '' || path === ':memory:') throw new UsageError(`--db ${JSON.stringify(db)}: give a new SQLite file's path or an empty postgres:// database`);
    if (existsSync(path)) throw new UsageError(`--db ${path} exists: simulate writes synthetic servers into its catalog, so it takes a new file only (remove it, or name another)`);
    return;
  }
  const client = new pg.Client({ ...pgConfig(db), query_timeout: 10_000 });
  try {
    await client.connect();
    const t = await client.query<{ n: string | null }>("SELECT to_regclass('servers')::text AS n");
    if (t.rows[0]?.n) {
      const real = await client.query<{ server_id: string }>("SELECT server_id FROM servers WHERE server_id NOT LIKE 'sim-%' LIMIT 1");
      if (real.rows[0]) throw new UsageError(`--db ${redact(db)} holds server ${real.rows[0].server_id}: it is a real catalog, and simulate would write synthetic servers into it; give an empty database`);
      // an earlier run's servers would make this run's agents resync instead of inventory
      const sim = await client.query<{ server_id: string }>('SELECT server_id FROM servers LIMIT 1');
      if (sim.rows[0]) throw new UsageError(`--db ${redact(db)} holds ${sim.rows[0].server_id} from an earlier simulate: give an empty database (drop and create this one again)`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new EcguardError('SIM_DB', `cannot check --db ${redact(db)}: ${(e as Error).message}; is PostgreSQL running there?`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

export class SimCoordinator {
  port = 0;
  private proc: ChildProcess | undefined;
  private client: InstanceType<typeof AdminClient> | undefined;
  /** Peak resident memory over every coordinator process started, MB. */
  peakRssMB = 0;

  constructor(private readonly o: SimCoordinatorOptions) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const log = join(this.o.dir, 'coordinator.log');
    mkdirSync(dirname(log), { recursive: true });
    const args = [...DAEMON_NODE_FLAGS, BIN, 'coordinator', '--listen', this.address, '--db', this.o.db, '--event-log', join(this.o.dir, 'events.db'), '--insecure', '--cluster', 'simulate',
      '--heartbeat', this.o.heartbeat, '--down-after', this.o.downAfter, '--safe-mode-settle', this.o.settle, '--no-repair-auto'];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ECGUARD_LOG_LEVEL: process.env.ECGUARD_LOG_LEVEL ?? 'warn' } });
    p.stderr?.on('data', (b: Buffer) => writeFileSync(log, b, { flag: 'a' }));
    this.proc = p;
    this.client ??= new AdminClient(this.address, grpc.credentials.createInsecure());
    const end = Date.now() + 30_000;
    for (;;) {
      if (p.exitCode !== null) throw new EcguardError('SIM_COORDINATOR', `the coordinator exited with ${p.exitCode}: ${this.logTail()}`);
      try {
        await this.status(2000);
        return;
      } catch (e) {
        if (Date.now() > end) throw new EcguardError('SIM_COORDINATOR', `the coordinator did not answer in 30 s: ${this.logTail()}`, { cause: e });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  status(timeoutMs = 30_000): Promise<StatusReply> {
    if (!this.client) throw new EcguardError('SIM_STATE', 'the coordinator is not started');
    return call(this.client, this.client.status, {}, timeoutMs);
  }

  /** CPU seconds (user + system) the running coordinator has used. */
  cpuSeconds(): number {
    const pid = this.proc?.pid;
    if (!pid) return 0;
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
    } catch {
      return 0;
    }
  }

  /** Samples the coordinator's peak RSS (VmHWM) into peakRssMB. */
  sampleMemory(): number {
    const pid = this.proc?.pid;
    if (!pid) return this.peakRssMB;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) this.peakRssMB = Math.max(this.peakRssMB, Number(m[1]) / 1024);
    } catch {
      // the process is gone
    }
    return this.peakRssMB;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    this.sampleMemory();
    await new Promise<void>((res) => {
      p.once('exit', () => res());
      p.kill(signal);
    });
    this.proc = undefined;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    this.client?.close();
    this.client = undefined;
  }

  logTail(lines = 15): string {
    const log = join(this.o.dir, 'coordinator.log');
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
  }
}
