// OutboxRelay: strictly ordered, at-least-once out of the outbox, exactly once in the stream
// (dedupe by Nats-Msg-Id). With a real nats-server for the outage and crash cases, and a fake
// publisher for ordering and backoff details.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EventLog } from '../../coordinator/events/event-log.js';
import type { PubAck } from '@nats-io/jetstream';
import { JetStreamPublisher, STREAM_NAME } from '../../coordinator/events/jetstream-publisher.js';
import { OutboxRelay, type EventPublisher, type OutboxSource } from '../../coordinator/events/outbox-relay.js';
import { makeEvent, type EcguardEvent } from '../../shared/domain/event.js';
import { EcguardError } from '../../shared/errors.js';
import { setLogLevel } from '../../shared/logger.js';
import { readStream, startNatsServer, type NatsServer } from '../helpers/nats-server.js';

/** The catalog's events table, in memory. */
class MemoryOutbox implements OutboxSource {
  readonly events: EcguardEvent[] = [];
  readonly published = new Set<string>();
  /** markPublished throws once for this id (a crash between ack and mark). */
  failMarkOnce?: string;

  add(e: EcguardEvent): void {
    this.events.push(e);
  }

  async pending(limit: number): Promise<EcguardEvent[]> {
    return this.events.filter((e) => !this.published.has(e.id)).slice(0, limit);
  }

  async markPublished(ids: string[]): Promise<void> {
    if (this.failMarkOnce !== undefined && ids.includes(this.failMarkOnce)) {
      this.failMarkOnce = undefined;
      throw new Error('catalog write failed');
    }
    for (const id of ids) this.published.add(id);
  }

  readonly refused = new Map<string, string>();

  async markRefused(id: string, error: string): Promise<void> {
    this.refused.set(id, error);
    this.published.add(id); // out of pending(), as the log does it
  }

  async countPending(): Promise<number> {
    return this.events.length - this.published.size;
  }
}

let n = 0;
function fileCreated(): EcguardEvent {
  const i = ++n;
  return makeEvent('prod', 'file.created', { lfn: `/data/f${i}` }, `new file /data/f${i}`, {
    filesize: i,
    profile: { nbData: 4, nbParity: 2, chunkSize: 1048576 },
    servers: ['srv1', 'srv2'],
  });
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ack = (seq: number, duplicate = false): PubAck => ({ stream: STREAM_NAME, seq, duplicate });

describe('OutboxRelay', function () {
  this.timeout(60_000);
  const relays: OutboxRelay[] = [];
  const relay = (...args: ConstructorParameters<typeof OutboxRelay>): OutboxRelay => {
    const r = new OutboxRelay(...args);
    relays.push(r);
    r.start();
    return r;
  };
  before(() => setLogLevel('error'));
  after(() => setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info'));
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });

  describe('with a fake publisher', () => {
    it('publishes in order, stops at the first failure and resumes from the same event', async () => {
      const box = new MemoryOutbox();
      for (let i = 0; i < 10; i++) box.add(fileCreated());
      const sent: string[] = [];
      let calls = 0;
      const pub: EventPublisher = {
        async publish(e) {
          calls++;
          if (calls % 3 === 0) throw new EcguardError('NATS_UNAVAILABLE', 'flaky');
          sent.push(e.id);
          return ack(sent.length);
        },
      };
      const r = relay(box, pub, { minBackoffMs: 5, maxBackoffMs: 20 });
      await until(() => box.published.size === 10, 5000, 'all events');
      assert.deepEqual(
        sent,
        box.events.map((e) => e.id),
      );
      assert.equal(r.backlog(), 0);
      assert.equal(r.status().published, 10);
    });

    it('an event that can never go through is set aside after 3 tries; the ones after it go out; an outage never sets one aside', async () => {
      const box = new MemoryOutbox();
      for (let i = 0; i < 4; i++) box.add(fileCreated());
      const poison = (box.events[1] as EcguardEvent).id;
      const sent: string[] = [];
      let tries = 0;
      let outage = 5; // first: NATS away for 5 tries, which must not count as refusals
      const pub: EventPublisher = {
        async publish(e) {
          if (outage > 0) {
            outage--;
            throw new EcguardError('NATS_UNAVAILABLE', 'not connected');
          }
          if (e.id === poison) {
            tries++;
            throw new EcguardError('EVENT_REFUSED', `stream ECGUARD refuses event ${e.id} for good: message size exceeds maximum allowed`);
          }
          sent.push(e.id);
          return ack(sent.length);
        },
      };
      const r = relay(box, pub, { minBackoffMs: 5, maxBackoffMs: 20 });
      await until(() => box.published.size === 4, 5000, 'every event handled');
      assert.deepEqual(sent, box.events.filter((e) => e.id !== poison).map((e) => e.id));
      assert.equal(tries, 3);
      assert.match(box.refused.get(poison) ?? '', /message size exceeds maximum allowed/);
      assert.equal(r.status().refused, 1);
      assert.equal(r.status().consecutiveFailures, 0);
    });

    it('a stream refusing every event (storage full) sets none aside: they wait until it takes them again', async () => {
      const box = new MemoryOutbox();
      for (let i = 0; i < 5; i++) box.add(fileCreated());
      let full = true;
      let tries = 0;
      const pub: EventPublisher = {
        async publish() {
          if (full) {
            tries++;
            throw new EcguardError('NATS_PUBLISH_FAILED', 'stream ECGUARD refused event: insufficient resources');
          }
          return ack(1);
        },
      };
      const r = relay(box, pub, { minBackoffMs: 5, maxBackoffMs: 20 });
      await until(() => tries >= 12, 5000, 'many refusals');
      assert.equal(box.refused.size, 0, 'nothing set aside');
      full = false;
      await until(() => box.published.size === 5, 5000, 'all published once the stream takes them');
      assert.equal(box.refused.size, 0);
      assert.equal(r.status().refused, 0);
    });

    it('caps the backoff, counts failures, and kick() wakes an idle relay', async () => {
      const box = new MemoryOutbox();
      box.add(fileCreated());
      const times: number[] = [];
      let down = true;
      const pub: EventPublisher = {
        async publish() {
          times.push(Date.now());
          if (down) throw new EcguardError('NATS_UNAVAILABLE', 'down');
          return ack(1);
        },
      };
      const r = relay(box, pub, { minBackoffMs: 10, maxBackoffMs: 80, idlePollMs: 60_000 });
      await until(() => times.length >= 7, 5000, 'retries');
      const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
      assert.ok(Math.max(...gaps) < 80 + 250, `gaps ${gaps.join(',')}`);
      assert.ok(r.status().consecutiveFailures >= 6);
      assert.match(r.status().lastError ?? '', /down/);
      assert.equal(r.backlog(), 1);
      down = false;
      await until(() => box.published.size === 1, 2000, 'recovery');
      await until(() => r.status().consecutiveFailures === 0, 2000, 'reset');
      box.add(fileCreated()); // idle poll is a minute: only kick() can make this prompt
      const t0 = Date.now();
      r.kick();
      await until(() => box.published.size === 2, 1000, 'kicked publish');
      assert.ok(Date.now() - t0 < 500);
    });

    it('stop() returns promptly while backing off', async () => {
      const box = new MemoryOutbox();
      box.add(fileCreated());
      const pub: EventPublisher = { publish: () => Promise.reject(new EcguardError('NATS_UNAVAILABLE', 'down')) };
      const r = new OutboxRelay(box, pub, { minBackoffMs: 30_000 });
      r.start();
      await until(() => r.status().consecutiveFailures === 1, 2000, 'first failure');
      const t0 = Date.now();
      await r.stop();
      assert.ok(Date.now() - t0 < 500);
      assert.equal(r.status().running, false);
    });
  });

  describe('with a real nats-server', () => {
    let nats: NatsServer;
    let publisher: JetStreamPublisher;
    beforeEach(async () => {
      nats = await startNatsServer();
      publisher = new JetStreamPublisher({ servers: nats.url, publishTimeoutMs: 2000 });
      publisher.start();
      await publisher.waitReady();
    });
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
      await publisher.close();
      await nats.dispose();
    });

    it('NATS down while 50 events are written: after it is back, every event arrives once, in order', async () => {
      const box = new MemoryOutbox();
      const r = relay(box, publisher, { maxBackoffMs: 1000 });
      publisher.onReady(() => r.kick());
      for (let i = 0; i < 5; i++) box.add(fileCreated());
      r.kick();
      await until(() => box.published.size === 5, 10_000, 'the first events');

      await nats.stop();
      for (let i = 0; i < 50; i++) {
        box.add(fileCreated());
        r.kick();
        if (i % 10 === 0) await new Promise((res) => setTimeout(res, 20));
      }
      await until(() => r.status().consecutiveFailures > 0, 5000, 'a failed publish');
      await until(() => r.backlog() === 50, 5000, 'backlog() to count what waits'); // refreshed each retry
      assert.equal(box.published.size, 5);

      await nats.restart();
      await until(() => box.published.size === 55, 20_000, 'the backlog');
      const got = await readStream(nats.url, STREAM_NAME);
      assert.deepEqual(
        got.map((m) => m.msgId),
        box.events.map((e) => e.id),
      );
      assert.deepEqual(
        got.map((m) => m.seq),
        box.events.map((_, i) => i + 1),
      );
    });

    it('an event too large for the stream is set aside (kept in the log with its error); the others are published in order', async () => {
      // an operator capped the message size on the stream (ensureStream leaves it alone)
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(STREAM_NAME);
      await jsm.streams.update(STREAM_NAME, { ...info.config, max_msg_size: 2048 });
      await nc.close();
      const dir = mkdtempSync(join(tmpdir(), 'ecguard-poison-'));
      const log = new EventLog(join(dir, 'c.db'));
      try {
        log.beginPublishing();
        const big = makeEvent('prod', 'file.created', { lfn: `/data/${'b'.repeat(1800)}` }, 'a big one', { filesize: 1, profile: { nbData: 4, nbParity: 2, chunkSize: 1048576 }, servers: [] });
        const events = [fileCreated(), big, fileCreated(), fileCreated()];
        log.append(events);
        const r = relay({ pending: async (n) => log.pending(n), markPublished: async (ids) => log.markPublished(ids), countPending: async () => log.backlog(), markRefused: async (id, e) => log.markRefused(id, e) }, publisher, { minBackoffMs: 5, maxBackoffMs: 20 });
        await until(() => log.backlog() === 0, 10_000, 'the outbox drained');
        const got = await readStream(nats.url, STREAM_NAME);
        assert.deepEqual(got.map((m) => m.msgId), events.filter((e) => e !== big).map((e) => e.id));
        assert.equal(log.refusedCount(), 1);
        assert.equal(r.status().refused, 1);
      } finally {
        log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a relay stopped between publish and markPublished: the next one republishes, the stream keeps one copy', async () => {
      const box = new MemoryOutbox();
      for (let i = 0; i < 10; i++) box.add(fileCreated());
      box.failMarkOnce = box.events[3]?.id;
      const first = relay(box, publisher, { minBackoffMs: 30_000 }); // no retry before we stop it
      await until(() => first.status().consecutiveFailures === 1, 10_000, 'the failed mark');
      await first.stop();
      assert.equal(box.published.size, 3); // event 3 is in the stream but not marked

      const second = relay(box, publisher);
      await until(() => box.published.size === 10, 10_000, 'the rest');
      assert.equal(second.status().duplicates, 1);
      const got = await readStream(nats.url, STREAM_NAME);
      assert.deepEqual(
        got.map((m) => m.msgId),
        box.events.map((e) => e.id),
      );
    });
  });
});
