// Starts a real `nats-server -js` (Debian 2.9.10) on a free loopback port with a temp store for a
// test. stop() and restart() keep the port and the store, to test "NATS down, then back";
// dispose() also removes the store. Tests fail, not skip, when nats-server is missing.
// readStream() reads a stream back the way a consumer would: a durable pull consumer.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly logPath: string;
  readonly running: boolean;
  /** Stops the server (SIGTERM, then SIGKILL); port and store are kept. */
  stop(): Promise<void>;
  /** Starts it again (stopping it first if running) on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes the temp directory. */
  dispose(): Promise<void>;
  logTail(lines?: number): string;
}

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];
const live = new Set<ChildProcess>();

// A crashed test run must not leave servers behind.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function natsServerPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status === 0 && p) return p;
  throw new Error('nats-server is not installed (apt-get install nats-server, v2.9 or later): the event tests need a real JetStream server');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${path})`;
  }
}

/** True when the server greets with an INFO line that says JetStream is on. */
function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const finish = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => finish(false));
    sock.once('error', () => finish(false));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) finish(buf.startsWith('INFO ') && buf.includes('"jetstream":true'));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

export async function startNatsServer(o: { readyTimeoutMs?: number } = {}): Promise<NatsServer> {
  const bin = natsServerPath();
  const root = mkdtempSync(join(tmpdir(), 'ecguard-nats-'));
  const storeDir = join(root, 'store');
  const logPath = join(root, 'nats-server.log');
  const port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const c = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-l', logPath], { stdio: 'ignore' });
    live.add(c);
    c.once('exit', () => live.delete(c));
    child = c;
    const deadline = Date.now() + (o.readyTimeoutMs ?? 15_000);
    while (Date.now() < deadline) {
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`nats-server exited (${c.exitCode ?? c.signalCode}) while starting; log tail:\n${tail(logPath, 20)}`);
      }
      if (await probe(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await stopChild(c);
    throw new Error(`nats-server on port ${port} not ready; log tail:\n${tail(logPath, 20)}`);
  };

  const stop = async (): Promise<void> => {
    if (child) await stopChild(child);
  };

  try {
    await launch();
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    logPath,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async dispose() {
      await stop();
      if (process.env.KEEP_NATS !== '1') rmSync(root, { recursive: true, force: true });
    },
    logTail: (lines = 30) => tail(logPath, lines),
  };
}

export interface StoredMessage {
  readonly subject: string;
  readonly seq: number;
  readonly msgId?: string;
  readonly data: unknown;
}

/** Every message of `stream`, in order, through a new durable pull consumer (created after the fact). */
export async function readStream(url: string, stream: string, durable = `reader${Date.now()}`): Promise<StoredMessage[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const out: StoredMessage[] = [];
    while (out.length < state.messages) {
      const batch = await consumer.fetch({ max_messages: state.messages - out.length, expires: 2000 });
      const before = out.length;
      for await (const m of batch) {
        out.push({ subject: m.subject, seq: m.seq, msgId: m.headers?.get('Nats-Msg-Id'), data: m.json() });
        m.ack();
      }
      if (out.length === before) throw new Error(`stream ${stream} holds ${state.messages} messages but only ${out.length} were delivered`);
    }
    return out;
  } finally {
    await nc.close();
  }
}
