// A whole ecguard cluster on one machine, as real processes: a coordinator (SQLite catalog) and
// one agent per local data server, over gRPC on loopback (mTLS with certificates from
// deploy/make-certs.sh, or insecure). The demo runs it; the cluster tests drive it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getCodec } from '../../shared/codec/index.js';
import { DAEMON_NODE_FLAGS } from '../../shared/daemon-node-flags.js';
import { EcguardError } from '../../shared/errors.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import { makeLocalSite, storeArchive, type LocalSite } from './local-site.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(repo, 'bin', 'ecguard.js');

export interface LocalClusterOptions {
  readonly servers: number;
  readonly disksPerServer?: number;
  readonly profile: EcProfile;
  readonly tls?: boolean;
  readonly root?: string;
  readonly heartbeat?: string;
  readonly downAfter?: string;
  /** Extra environment for every process (e.g. ECGUARD_LOG_LEVEL). */
  readonly env?: Record<string, string>;
  /** Keep the directory after stop(). */
  readonly keep?: boolean;
  readonly extraCoordinatorArgs?: readonly string[];
  /** The agents' background scrub (default: the agent's defaults, 20 MB/s and a pass every 30 days). */
  readonly scrub?: { readonly mbps: number; readonly interval: string };
  /** Safe mode settle time (default 3s). */
  readonly settle?: string;
  /** Run a nats-server -js (Debian nats-server) and publish events to it. */
  readonly nats?: boolean;
  /** The coordinator's catalog (--db), e.g. a postgres:// URL; default catalog.db in the root. The event log stays in the root. */
  readonly db?: string;
}

export interface PlaceOptions {
  readonly first?: number;
  readonly crc32c?: boolean;
  readonly strpver?: number;
  /** xrdec.* in `user.` (file:// writers) instead of `user.U.` (through xrootd). */
  readonly userNamespace?: boolean;
  /** Also write the object's `.mt` file on every server (XrdEc without nomtfile). */
  readonly mtFile?: boolean;
}

export interface PlacedFile {
  readonly lfn: string;
  readonly size: number;
  /** Data file per server index (servers 0..N+M-1 of the placement). */
  readonly paths: string[];
  readonly servers: number[];
  readonly disks: number[];
  readonly crcKind: 'crc32c' | 'crc32';
  /** The `.mt` data file per server index, when placed with mtFile. */
  readonly mtPaths?: string[];
}

/** The content placeFile stores for an LFN (deterministic, so tests can check decodes). */
export function fileBytes(lfn: string, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let h = 2166136261;
  for (const ch of lfn) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  for (let i = 0; i < size; i++) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    bytes[i] = h >>> 24;
  }
  return bytes;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

export class LocalCluster {
  readonly root: string;
  readonly sites: LocalSite[] = [];
  port = 0;
  private coordinator: ChildProcess | undefined;
  private readonly agents = new Map<number, ChildProcess>();
  private readonly ownsRoot: boolean;
  private natsProc: ChildProcess | undefined;
  natsUrl: string | undefined;

  constructor(readonly o: LocalClusterOptions) {
    this.ownsRoot = o.root === undefined;
    this.root = o.root ?? mkdtempSync(join(tmpdir(), 'ecguard-cluster-'));
    for (let i = 0; i < o.servers; i++) this.sites.push(makeLocalSite(this.root, `srv${String(i).padStart(2, '0')}`, o.disksPerServer ?? 2));
  }

  get certDir(): string {
    return join(this.root, 'tls');
  }

  /** Admin CLI flags for this cluster. */
  adminFlags(): string[] {
    const base = ['--coordinator', `localhost:${this.port}`];
    return this.o.tls ? [...base, '--tls-ca', join(this.certDir, 'ca.pem'), '--tls-cert', join(this.certDir, 'admin-ops.pem'), '--tls-key', join(this.certDir, 'admin-ops.key')] : [...base, '--insecure'];
  }

  async start(): Promise<void> {
    this.port = await freePort();
    if (this.o.tls) {
      const r = spawnSync('bash', [join(repo, 'deploy', 'make-certs.sh'), this.certDir, '--agents', this.sites.map((s) => s.serverId).join(','), '--admin', 'ops'], { encoding: 'utf8' });
      if (r.status !== 0) throw new EcguardError('CERTS', `make-certs.sh failed: ${r.stderr}`);
    }
    if (this.o.nats) await this.startNats();
    this.startCoordinator();
    for (let i = 0; i < this.sites.length; i++) this.startAgent(i);
  }

  private async startNats(): Promise<void> {
    const port = await freePort();
    const store = join(this.root, 'nats');
    mkdirSync(store, { recursive: true });
    const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p));
    if (!bin) throw new EcguardError('NO_NATS', 'nats-server is not installed (apt-get install nats-server, or run scripts/setup.sh)');
    this.natsProc = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.pipeLog(this.natsProc, 'nats');
    this.natsUrl = `nats://127.0.0.1:${port}`;
    const end = Date.now() + 10_000;
    while (!(await new Promise<boolean>((res) => {
      const s = createConnection(port, '127.0.0.1', () => {
        s.end();
        res(true);
      });
      s.on('error', () => res(false));
    }))) {
      if (Date.now() > end) throw new EcguardError('NO_NATS', `nats-server did not start: ${this.logTail('nats')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, ECGUARD_LOG_LEVEL: process.env.ECGUARD_LOG_LEVEL ?? 'warn', ...this.o.env };
  }

  startCoordinator(): void {
    const tls = this.o.tls ? ['--tls-ca', join(this.certDir, 'ca.pem'), '--tls-cert', join(this.certDir, 'coordinator.pem'), '--tls-key', join(this.certDir, 'coordinator.key')] : ['--insecure'];
    this.coordinator = spawn(process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'coordinator', '--listen', `127.0.0.1:${this.port}`, ...this.catalogArgs(), '--cluster', 'local',
      '--heartbeat', this.o.heartbeat ?? '1s', '--down-after', this.o.downAfter ?? '5s', '--safe-mode-settle', this.o.settle ?? '3s', ...(this.natsUrl ? ['--nats', this.natsUrl] : []), ...tls, ...(this.o.extraCoordinatorArgs ?? [])], { stdio: ['ignore', 'ignore', 'pipe'], env: this.env() });
    this.pipeLog(this.coordinator, 'coordinator');
  }

  private catalogArgs(): string[] {
    return this.o.db === undefined ? ['--db', join(this.root, 'catalog.db')] : ['--db', this.o.db, '--event-log', join(this.root, 'events.db')];
  }

  /** Starts agent i; `env` adds to its environment (e.g. ECGUARD_FAULT_KILL_AT for one run). */
  startAgent(i: number, env: Record<string, string> = {}): void {
    const site = this.sites[i] as LocalSite;
    const cfg = join(site.root, 'agent.yaml');
    const coordinator = this.o.tls
      ? `coordinator:\n  address: localhost:${this.port}\n  tls:\n    ca: ${join(this.certDir, 'ca.pem')}\n    cert: ${join(this.certDir, `agent-${site.serverId}.pem`)}\n    key: ${join(this.certDir, `agent-${site.serverId}.key`)}\n`
      : `coordinator:\n  address: 127.0.0.1:${this.port}\n  insecure: true\n`;
    writeFileSync(cfg, `serverId: ${site.serverId}\nstateDir: ${join(site.root, 'state')}\nxrootdConfig: ${site.xrootdConfig}\nhost: localhost\n` +
      `ecProfile:\n  nbData: ${this.o.profile.nbData}\n  nbParity: ${this.o.profile.nbParity}\n  chunkSize: ${this.o.profile.chunkSize}\n${coordinator}scan:\n  workers: 1\n` +
      (this.o.scrub ? `scrub:\n  mbps: ${this.o.scrub.mbps}\n  interval: ${this.o.scrub.interval}\n` : '') +
      `stripes:\n  listen: 127.0.0.1:0\n  dataFileAddress: 127.0.0.${(i % 250) + 1}:1094\n`);
    const p = spawn(process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'agent', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...this.env(), ...env } });
    this.agents.set(i, p);
    this.pipeLog(p, site.serverId);
  }

  private pipeLog(p: ChildProcess, name: string): void {
    const log = join(this.root, 'logs', `${name}.log`);
    mkdirSync(dirname(log), { recursive: true });
    p.stderr?.on('data', (b: Buffer) => writeFileSync(log, b, { flag: 'a' }));
  }

  logTail(name: string, lines = 20): string {
    const log = join(this.root, 'logs', `${name}.log`);
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
  }

  kill(p: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((res) => {
      p.once('exit', () => res());
      p.kill(signal);
    });
  }

  /** The process id of agent i, when running. */
  agentPid(i: number): number | undefined {
    return this.agents.get(i)?.pid;
  }

  /** Resolves when agent i exits (e.g. killed by a fault point). */
  agentExit(i: number): Promise<void> {
    const p = this.agents.get(i);
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((res) => p.once('exit', () => res()));
  }

  async killAgent(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(this.agents.get(i), signal);
    this.agents.delete(i);
  }

  async killCoordinator(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(this.coordinator, signal);
    this.coordinator = undefined;
  }

  /** Encodes a random file as one XrdEc object and stores its archives on servers `first..first+N+M-1`. */
  placeFile(lfn: string, size: number, o: PlaceOptions = {}): PlacedFile {
    return this.placeFileWith(this.o.profile, lfn, size, o);
  }

  /** Same with another profile (a path the coordinator knows by --profile PREFIX=...). */
  placeFileWith(profile: EcProfile, lfn: string, size: number, o: PlaceOptions = {}): PlacedFile {
    const k = profile.nbData + profile.nbParity;
    const tmp = mkdtempSync(join(tmpdir(), 'ecguard-put-'));
    try {
      const input = join(tmp, 'in');
      writeFileSync(input, fileBytes(lfn, size));
      const archives = Array.from({ length: k }, (_, i) => {
        mkdirSync(join(tmp, String(i)));
        return join(tmp, String(i), 'a');
      });
      encodeObject({ profile, crcKind: o.crc32c ? 'crc32c' : 'crc32', input, archivePaths: archives, xattrNamespace: o.userNamespace ? 'user.' : 'user.U.', mtFile: o.mtFile === true, strpver: o.strpver ?? Math.floor(Date.now() / 1000), codec: getCodec() });
      const first = o.first ?? 0;
      const servers = archives.map((_, i) => (first + i) % this.sites.length);
      const disks = servers.map((s, i) => (lfn.length + i) % (this.sites[s]?.disks.length ?? 1));
      const paths = archives.map((a, i) => storeArchive(this.sites[servers[i] as number] as LocalSite, lfn, disks[i] as number, a));
      // The .mt copies: on the archive's disk at odd placement indices, on the other disk at even ones.
      const mtPaths = o.mtFile ? archives.map((a, i) => storeArchive(this.sites[servers[i] as number] as LocalSite, `${lfn}.mt`, ((disks[i] as number) + ((i + 1) % 2)) % (this.sites[servers[i] as number]?.disks.length ?? 1), `${a}.mt`)) : undefined;
      return { lfn, size, paths, servers, disks, crcKind: o.crc32c ? 'crc32c' : 'crc32', ...(mtPaths ? { mtPaths } : {}) };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Runs the ecguard CLI against this cluster (admin flags appended) and returns its result. */
  cli(args: string[], admin = true): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [BIN, ...args, ...(admin ? this.adminFlags() : [])], { encoding: 'utf8', env: this.env(), timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((i) => this.killAgent(i, 'SIGTERM')));
    await this.killCoordinator('SIGTERM');
    await this.kill(this.natsProc, 'SIGTERM');
    if (this.ownsRoot && !this.o.keep && !process.env.KEEP_CLUSTER) rmSync(this.root, { recursive: true, force: true });
  }
}
