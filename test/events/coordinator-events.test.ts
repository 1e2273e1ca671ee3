// Events end to end: a coordinator with agents over real gRPC, its event log as the outbox,
// and a real nats-server -js. A disk failure gives exactly the expected events on the expected
// subjects, in order, each once; a consumer created afterwards replays them; NATS down during
// a failure loses nothing and duplicates nothing once it is back.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import { CoordinatorLink } from '../../agent/session/coordinator-link.js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { JetStreamPublisher } from '../../coordinator/events/jetstream-publisher.js';
import { OutboxRelay } from '../../coordinator/events/outbox-relay.js';
import { makeEvent, type EcguardEvent } from '../../shared/domain/event.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { placeObject, type PlacedObject } from '../helpers/ec-cluster-data.js';
import { readStream, startNatsServer, type NatsServer } from '../helpers/nats-server.js';

const PROFILE = { nbData: 4, nbParity: 2, chunkSize: 1024 };

async function until(ok: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('events: coordinator → event log → NATS JetStream', function () {
  this.timeout(90_000);
  let dir: string;
  let nats: NatsServer;
  let sites: FakeSite[];
  let objects: PlacedObject[];
  let coord: Coordinator;
  let log: EventLog;
  let relay: OutboxRelay;
  let publisher: JetStreamPublisher;
  const agents: { runtime: AgentRuntime; link: CoordinatorLink }[] = [];
  const all = (): EcguardEvent[] => log.query({ limit: 100_000 }).map((r) => r.event);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-ev-'));
    nats = await startNatsServer();
    sites = Array.from({ length: 6 }, (_, i) => makeFakeSite({ serverId: `srv${i}` }));
    objects = Array.from({ length: 12 }, (_, i) => placeObject(sites, `/data/e${i}`, 3000 + i, PROFILE, { disk: () => i % 2 }));
    log = new EventLog(join(dir, 'catalog.db'));
    log.beginPublishing();
    publisher = new JetStreamPublisher({ servers: [nats.url] });
    relay = new OutboxRelay({ pending: async (n) => log.pending(n), markPublished: async (ids) => log.markPublished(ids), countPending: async () => log.backlog() }, publisher, { maxBackoffMs: 500 });
    publisher.onReady(() => relay.kick());
    publisher.start();
    relay.start();
    coord = new Coordinator({ cluster: 'test-site', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'catalog.db')), insecure: true, eventLog: log, onEvents: () => relay.kick(), heartbeatMs: 100, downAfterMs: 1000, safeModeSettleMs: 1000, indicatorRaiseMs: 300, indicatorClearMs: 800 });
    const port = await coord.start();
    for (const site of sites) {
      const state = join(dir, `state-${site.serverId}`);
      const runtime = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: true, workers: 0, diskCheckIntervalMs: 100 });
      await runtime.start();
      const link = new CoordinatorLink(runtime, { address: `127.0.0.1:${port}`, insecure: true, profile: PROFILE, stateDir: state });
      link.start();
      agents.push({ runtime, link });
    }
    await until(async () => !coord.safeMode.isActive && (await coord.store.fileCounts()).healthy.count === objects.length, 20_000, 'healthy cluster');
    // a new catalog: its first census is one event, not a file.created per file found
    await until(() => log.backlog() === 0 && all().some((e) => e.type === 'census.completed'), 10_000, 'census.completed published');
    assert.equal((all().find((e) => e.type === 'census.completed')?.data as { files: number }).files, objects.length);
    assert.equal(all().filter((e) => e.type === 'file.created').length, 0);
  });
  after(async () => {
    for (const a of agents) {
      a.link.stop();
      await a.runtime.stop();
    }
    await coord.stop();
    await relay.stop();
    await publisher.close();
    log.close();
    await nats.dispose();
    for (const s of sites) s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a disk failure: disk.failed then file.degraded for exactly its files, on their subjects, each once; a late consumer replays them', async () => {
    const start = all().length;
    const disk = sites[3]?.disks[1];
    assert.ok(disk);
    const hit = objects.filter((o) => o.disks[3] === 1).map((o) => o.lfn).sort();
    renameSync(disk.path, disk.path + '.gone');
    await until(() => all().filter((e) => e.type === 'file.degraded').length === hit.length, 10_000, 'file.degraded events');
    await until(() => log.backlog() === 0, 10_000, 'published');
    const fresh = all().slice(start);
    assert.equal(fresh[0]?.type, 'disk.failed', 'the disk event comes first');
    assert.equal(fresh[0]?.subject.diskId, disk.diskId);
    assert.deepEqual(fresh.slice(1).map((e) => e.type), hit.map(() => 'file.degraded'));
    assert.deepEqual(fresh.slice(1).map((e) => e.subject.lfn).sort(), hit);
    const stream = await readStream(nats.url, 'ECGUARD');
    const ids = stream.map((m) => m.msgId);
    assert.equal(new Set(ids).size, ids.length, 'each event once');
    assert.deepEqual(stream.map((m) => m.msgId), all().map((e) => e.id), 'the stream holds the log, in order');
    for (const m of stream) assert.equal(m.subject, `ecguard.test-site.${(m.data as EcguardEvent).type}`);
    renameSync(disk.path + '.gone', disk.path);
    await until(async () => (await coord.store.fileCounts()).healthy.count === objects.length, 10_000, 'healthy again');
  });

  it('files at redundancy 0: low-durability raised once while it lasts, cleared once after', async () => {
    const gone = [sites[3]?.disks[1], sites[4]?.disks[1]];
    for (const d of gone) renameSync(d?.path as string, `${d?.path}.gone`);
    await until(() => all().some((e) => e.type === 'health.changed' && e.subject.indicator === 'low-durability'), 10_000, 'low-durability raised');
    await new Promise((r) => setTimeout(r, 1500)); // it persists: no second raise
    for (const d of gone) renameSync(`${d?.path}.gone`, d?.path as string);
    await until(() => all().filter((e) => e.type === 'health.changed' && e.subject.indicator === 'low-durability').length === 2, 10_000, 'low-durability cleared');
    const changes = all().filter((e) => e.type === 'health.changed' && e.subject.indicator === 'low-durability').map((e) => (e.data as { active: boolean }).active);
    assert.deepEqual(changes, [true, false]);
    assert.equal(coord.indicators.states()['low-durability'].active, false);
    await until(async () => (await coord.store.fileCounts()).healthy.count === objects.length, 10_000, 'healthy again');
  });

  it('NATS down during a failure: events wait in the outbox and arrive afterwards, once, in order', async () => {
    await until(() => log.backlog() === 0, 10_000, 'published');
    await nats.stop();
    const start = all().length;
    const a = agents[2];
    a?.link.stop();
    await until(() => all().some((e, i) => i >= start && e.type === 'server.down'), 10_000, 'server.down recorded');
    assert.ok(log.backlog() > 0, 'the event waits in the outbox');
    await nats.restart();
    await until(() => log.backlog() === 0, 20_000, 'outbox drained');
    const stream = await readStream(nats.url, 'ECGUARD');
    assert.deepEqual(stream.map((m) => m.msgId), all().map((e) => e.id), 'every event arrived, in order, once');
  });

  it('killed between writing an event and publishing it: published exactly once after the restart', async () => {
    await until(() => log.backlog() === 0, 10_000, 'published');
    // A second process's view of the same log: an event written, then the process dies (no relay ran).
    const other = new EventLog(join(dir, 'catalog.db'));
    const e = makeEvent('test-site', 'server.lost', { serverId: 'srv9' }, 'declared lost by an operator', { by: 'operator', archives: 0 });
    other.append([e]);
    other.close();
    // the restarted coordinator's relay finds it in the outbox
    relay.kick();
    await until(() => log.backlog() === 0, 10_000, 'outbox drained');
    // and a relay that published but died before marking it publishes it again: JetStream dedupes
    const ack = await publisher.publish(e);
    assert.equal(ack.duplicate, true);
    const stream = await readStream(nats.url, 'ECGUARD');
    assert.equal(stream.filter((m) => m.msgId === e.id).length, 1);
  });
});
