// deploy/nats-webhook-bridge.mjs end to end: a real nats-server, events published the way the
// coordinator publishes them (JetStreamPublisher), the bridge as a child process, and a webhook
// on 127.0.0.1:0. Warning and critical events arrive once each, in order; info is skipped; the
// subject filter, severities and text format are applied; a webhook failure is retried and not acked meanwhile; a restarted bridge resumes after what it
// acked (durable consumer) and re-sends nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { JetStreamPublisher } from '../../coordinator/events/jetstream-publisher.js';
import { makeEvent, type EcguardEvent } from '../../shared/domain/event.js';
import { setLogLevel } from '../../shared/logger.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';

const BRIDGE = fileURLToPath(new URL('../../../deploy/nats-webhook-bridge.mjs', import.meta.url));

interface Received {
  readonly status: number;
  readonly id: string | undefined;
  readonly contentType: string | undefined;
  readonly event: EcguardEvent;
}

/** A webhook that records every POST; `failNext` answers 503 to the next n requests. */
class Webhook {
  readonly received: Received[] = [];
  failNext = 0;
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const status = this.failNext > 0 ? 503 : 204;
        if (this.failNext > 0) this.failNext--;
        const id = req.headers['x-ecguard-event-id'];
        this.received.push({ status, id: typeof id === 'string' ? id : undefined, contentType: req.headers['content-type'], event: JSON.parse(body) as EcguardEvent });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  accepted(): EcguardEvent[] {
    return this.received.filter((r) => r.status < 300).map((r) => r.event);
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Runs the bridge; resolves once it says it is ready. */
async function startBridge(env: Record<string, string>, logs: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BRIDGE], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bridge not ready:\n${logs.join('')}`)), 20_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      logs.push(d);
      if (/ ready: /.test(logs.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bridge exited (${code}):\n${logs.join('')}`));
    });
  });
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const serverDown = (i: number): EcguardEvent =>
  makeEvent('prod', 'server.down', { serverId: `srv0${i}` }, `srv0${i} sent no heartbeat for 30 s.`, { lastSeen: new Date().toISOString(), lostAt: new Date(Date.now() + 3_600_000).toISOString(), archives: 10 * i });
const serverUp = (i: number): EcguardEvent =>
  makeEvent('prod', 'server.up', { serverId: `srv0${i}` }, `srv0${i} is back.`, { downSince: new Date().toISOString(), previousState: 'down' });
const diskFailed = (i: number): EcguardEvent =>
  makeEvent('prod', 'disk.failed', { serverId: `srv0${i}`, diskId: `srv0${i}:/disk/sdb` }, `srv0${i}:/disk/sdb returns EIO.`, { path: '/disk/sdb', previousState: 'online', error: 'EIO', archives: 51 });

describe('NATS webhook bridge (deploy/nats-webhook-bridge.mjs, real nats-server)', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let publisher: JetStreamPublisher;
  let webhook: Webhook;
  let bridge: ChildProcess | undefined;
  const logs: string[] = [];

  before(() => setLogLevel('error'));
  after(() => setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info'));
  beforeEach(async () => {
    logs.length = 0;
    nats = await startNatsServer();
    publisher = new JetStreamPublisher({ servers: nats.url });
    publisher.start();
    await publisher.waitReady(); // creates the stream ECGUARD
    webhook = new Webhook();
    await webhook.start();
  });
  afterEach(async function () {
    await stopChild(bridge);
    bridge = undefined;
    if (this.currentTest?.state === 'failed') console.error(logs.join(''));
    await publisher.close();
    await webhook.close();
    await nats.dispose();
  });

  const env = (): Record<string, string> => ({ NATS_URL: nats.url, WEBHOOK_URL: webhook.url, RETRY_MIN_MS: '50', RETRY_MAX_MS: '200' });

  it('forwards warning and critical events once each, in order, and skips info', async () => {
    bridge = await startBridge(env(), logs);
    const events = [serverDown(1), serverUp(1), diskFailed(2)];
    for (const e of events) await publisher.publish(e);
    await until('two events at the webhook', () => webhook.received.length >= 2);
    await new Promise((r) => setTimeout(r, 500)); // anything more would arrive now
    assert.deepEqual(webhook.accepted().map((e) => e.id), [events[0]?.id, events[2]?.id]);
    assert.deepEqual(webhook.accepted(), [events[0], events[2]], 'the event JSON as published');
    assert.deepEqual(webhook.received.map((r) => r.id), [events[0]?.id, events[2]?.id], 'X-Ecguard-Event-Id');
    assert.ok(webhook.received.every((r) => r.contentType === 'application/json'));
  });

  it('applies the subject filter and severities, and the text format', async () => {
    bridge = await startBridge({ ...env(), ECGUARD_FILTER: 'ecguard.prod.disk.>', ECGUARD_SEVERITIES: 'critical', ECGUARD_DURABLE: 'disks', WEBHOOK_FORMAT: 'text' }, logs);
    const failed = diskFailed(4);
    for (const e of [serverDown(4), failed, makeEvent('other', 'disk.failed', { serverId: 'x1', diskId: 'x1:/d' }, 'other cluster.', { path: '/d', previousState: 'online', error: 'EIO', archives: 1 })]) await publisher.publish(e);
    await until('one event', () => webhook.received.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(webhook.received.map((r) => [r.id, r.event]), [[failed.id, { text: `critical disk.failed (prod): ${failed.reason}` }]]);
  });

  it('retries a failing webhook without acking, keeps the order, and resumes after a restart', async () => {
    bridge = await startBridge(env(), logs);
    const first = [diskFailed(1), serverDown(2)];
    webhook.failNext = 3;
    for (const e of first) await publisher.publish(e);
    await until('both events accepted', () => webhook.accepted().length >= 2);
    assert.deepEqual(webhook.received.map((r) => [r.id, r.status]), [
      [first[0]?.id, 503],
      [first[0]?.id, 503],
      [first[0]?.id, 503],
      [first[0]?.id, 204],
      [first[1]?.id, 204],
    ]);

    // Stopped bridge: events wait in the stream for the durable consumer.
    await stopChild(bridge);
    const second = [serverUp(3), serverDown(3), diskFailed(3)];
    for (const e of second) await publisher.publish(e);
    bridge = await startBridge(env(), logs);
    await until('the new events', () => webhook.accepted().length >= 4);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(webhook.accepted().map((e) => e.id), [first[0]?.id, first[1]?.id, second[1]?.id, second[2]?.id]);
  });
});
