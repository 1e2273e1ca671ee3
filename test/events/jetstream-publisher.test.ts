// JetStreamPublisher against a real nats-server 2.9: the stream is created and kept in line with
// the configured limits, events land in order on their subjects with the event id as
// Nats-Msg-Id, a republish is a duplicate, and NATS being down gives a quick typed error.
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { DEFAULT_STREAM_LIMITS, JetStreamPublisher, STREAM_NAME, type JetStreamPublisherOptions } from '../../coordinator/events/jetstream-publisher.js';
import { eventSubject, makeEvent, type EcguardEvent } from '../../shared/domain/event.js';
import { EcguardError } from '../../shared/errors.js';
import { setLogLevel } from '../../shared/logger.js';
import { readStream, startNatsServer, type NatsServer } from '../helpers/nats-server.js';

const HOUR = 3_600_000;

function serverUp(i: number, cluster = 'prod'): EcguardEvent {
  return makeEvent(cluster, 'server.up', { serverId: `srv${i}` }, `server srv${i} is back`, { downSince: new Date().toISOString(), previousState: 'down' });
}

function diskFailed(i: number): EcguardEvent {
  return makeEvent('prod', 'disk.failed', { serverId: `srv${i}`, diskId: `srv${i}:/disk/sdb` }, 'disk gave EIO', { path: '/disk/sdb', previousState: 'online', error: 'EIO', archives: i });
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<number> {
  const t0 = Date.now();
  await assert.rejects(p, (e: unknown) => e instanceof EcguardError && e.code === code);
  return Date.now() - t0;
}

describe('JetStreamPublisher (real nats-server)', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  const publishers: JetStreamPublisher[] = [];
  const open = (o: Partial<JetStreamPublisherOptions> = {}): JetStreamPublisher => {
    const p = new JetStreamPublisher({ servers: nats.url, ...o });
    publishers.push(p);
    p.start();
    return p;
  };

  before(() => setLogLevel('error'));
  after(() => setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info'));
  beforeEach(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close()));
    await nats.dispose();
  });

  it('creates the stream with file storage, ecguard.> and the limits, and updates it when they change', async () => {
    const p1 = open();
    await p1.waitReady();
    assert.equal(await p1.ensureStream(), 'unchanged'); // waitReady created it

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      let cfg = (await jsm.streams.info(STREAM_NAME)).config;
      assert.deepEqual(cfg.subjects, ['ecguard.>']);
      assert.equal(cfg.storage, StorageType.File);
      assert.equal(cfg.retention, RetentionPolicy.Limits);
      assert.equal(cfg.max_age, DEFAULT_STREAM_LIMITS.maxAgeMs * 1e6);
      assert.equal(cfg.max_bytes, DEFAULT_STREAM_LIMITS.maxBytes);
      assert.equal(cfg.duplicate_window, HOUR * 1e6);

      const p2 = open({ stream: { maxAgeMs: 7 * 24 * HOUR, maxBytes: 10 * 1024 ** 2, duplicateWindowMs: 2 * HOUR } });
      await p2.waitReady();
      cfg = (await jsm.streams.info(STREAM_NAME)).config;
      assert.equal(cfg.max_age, 7 * 24 * HOUR * 1e6);
      assert.equal(cfg.max_bytes, 10 * 1024 ** 2);
      assert.equal(cfg.duplicate_window, 2 * HOUR * 1e6);
      assert.equal(await p2.ensureStream(), 'unchanged');
      assert.equal(await p1.ensureStream(), 'updated'); // p1's limits again
    } finally {
      await nc.close();
    }
  });

  it('refuses a duplicate window longer than the max age', () => {
    assert.throws(() => new JetStreamPublisher({ servers: nats.url, stream: { maxAgeMs: HOUR, duplicateWindowMs: 2 * HOUR } }), /duplicate window/);
  });

  it('refuses to adopt a stream ECGUARD with memory storage', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: STREAM_NAME, subjects: ['ecguard.>'], storage: StorageType.Memory });
    } finally {
      await nc.close();
    }
    const p = open();
    await assert.rejects(p.waitReady(3000), /memory storage/);
    await rejectsWith(p.ensureStream(), 'NATS_STREAM_MISMATCH');
  });

  it('publishes in order on ecguard.<cluster>.<type>; a consumer created afterwards replays them', async () => {
    const p = open();
    await p.waitReady();
    const events = [serverUp(1), diskFailed(2), serverUp(3, 'cern.ch'), diskFailed(4), serverUp(5)];
    let seq = 0;
    for (const e of events) {
      const ack = await p.publish(e);
      assert.equal(ack.stream, STREAM_NAME);
      assert.equal(ack.duplicate, false);
      assert.equal(ack.seq, ++seq);
    }
    const got = await readStream(nats.url, STREAM_NAME);
    assert.deepEqual(
      got.map((m) => m.subject),
      events.map((e) => eventSubject(e.cluster, e.type)),
    );
    assert.equal(got[2]?.subject, 'ecguard.cern_ch.server.up');
    assert.deepEqual(
      got.map((m) => m.msgId),
      events.map((e) => e.id),
    );
    assert.deepEqual(
      got.map((m) => m.data),
      events.map((e) => JSON.parse(JSON.stringify(e)) as unknown),
    );
  });

  it('publishing the same event twice stores it once and acks the second as a duplicate', async () => {
    const p = open();
    await p.waitReady();
    const e = serverUp(1);
    const first = await p.publish(e);
    const second = await p.publish(e);
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.seq, first.seq);
    const got = await readStream(nats.url, STREAM_NAME);
    assert.equal(got.length, 1);
  });

  it('refuses a malformed event before sending it', async () => {
    const p = open();
    await p.waitReady();
    const bad = { ...serverUp(1), subject: {} } as EcguardEvent;
    await rejectsWith(p.publish(bad), 'BAD_EVENT');
  });

  it('fails fast with NATS_UNAVAILABLE while NATS is down, and publishes again once it is back', async () => {
    const p = open();
    await p.waitReady();
    await p.publish(serverUp(1));
    await nats.stop();
    const t0 = Date.now();
    while (p.isConnected && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(p.isConnected, false);
    const took = await rejectsWith(p.publish(serverUp(2)), 'NATS_UNAVAILABLE');
    assert.ok(took < 200, `publish took ${took} ms while disconnected`);

    let ready = 0;
    p.onReady(() => ready++);
    await nats.restart(); // same port and store
    await p.waitReady(15_000);
    const ack = await p.publish(serverUp(3));
    assert.equal(ack.seq, 2); // the store survived the restart
    assert.ok(ready >= 1);
  });

  it('starts while NATS is down and connects when it comes up', async () => {
    await nats.stop();
    const p = open({ retryConnectMs: 100 });
    await rejectsWith(p.publish(serverUp(1)), 'NATS_UNAVAILABLE');
    await rejectsWith(p.waitReady(300), 'NATS_UNAVAILABLE');
    await nats.restart();
    await p.waitReady(10_000);
    assert.equal((await p.publish(serverUp(2))).duplicate, false);
  });

  it('close() returns promptly when NATS was never reachable', async () => {
    await nats.stop();
    const p = new JetStreamPublisher({ servers: nats.url, retryConnectMs: 5000 });
    p.start();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await p.close();
    assert.ok(Date.now() - t0 < 1000);
    await rejectsWith(p.publish(serverUp(1)), 'NATS_UNAVAILABLE');
  });
});
