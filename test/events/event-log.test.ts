// The events table as the outbox: nothing is pending (no backlog to alert on) until a publisher
// begins; events logged before NATS was first configured are never published; a refused event
// leaves the outbox but stays in the log; new ids sort after every stored one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EventLog } from '../../coordinator/events/event-log.js';
import { EventIdGenerator, makeEvent, type EcguardEvent } from '../../shared/domain/event.js';

const up = (s: string): EcguardEvent => makeEvent('t', 'server.up', { serverId: s }, `${s} up`, { downSince: '2026-01-01T00:00:00.000Z', previousState: 'down' });

describe('EventLog (outbox)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-evlog-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes only what is logged after publishing was first configured; no backlog without a publisher', () => {
    const path = join(dir, 'c.db');
    let log = new EventLog(path);
    log.append([up('a'), up('b')]);
    assert.equal(log.backlog(), 0, 'nothing publishes: nothing is late');
    assert.deepEqual(log.pending(10), []);
    log.close();
    log = new EventLog(path);
    assert.equal(log.beginPublishing(), 2, 'the two older events are left out');
    const c = up('c');
    log.append([c]);
    assert.deepEqual(log.pending(10).map((e) => e.id), [c.id]);
    assert.equal(log.backlog(), 1);
    log.close();
    // a later start keeps the same boundary: an unpublished event of a previous run still goes out
    log = new EventLog(path);
    assert.equal(log.beginPublishing(), 0);
    assert.deepEqual(log.pending(10).map((e) => e.id), [c.id]);
    log.markRefused(c.id, 'message size exceeds maximum allowed');
    assert.deepEqual(log.pending(10), []);
    assert.equal(log.backlog(), 0);
    assert.equal(log.refusedCount(), 1);
    assert.equal(log.query({ limit: 10 }).length, 3, 'still in the log');
    log.close();
  });

  it('a log published from before the marker existed (an upgrade) keeps its unpublished backlog', () => {
    const path = join(dir, 'c.db');
    const log = new EventLog(path);
    const [a, b, c] = [up('a'), up('b'), up('c')];
    log.append([a, b, c]);
    log.markPublished([a.id]);
    assert.equal(log.beginPublishing(), 0);
    assert.deepEqual(log.pending(10).map((e) => e.id), [b.id, c.id]);
    log.close();
  });

  it('new ids sort after the newest stored one, even when it came from a clock ahead', () => {
    const path = join(dir, 'c.db');
    const log = new EventLog(path);
    log.close();
    const future = { ...up('z'), id: new EventIdGenerator().next(Date.now() + 2_000) }; // (the process's generator then runs 2 s ahead: other tests check ids against the clock)
    const db = new Database(path);
    db.prepare('INSERT INTO events (id, time_ms, type, body) VALUES (?, ?, ?, ?)').run(future.id, Date.now(), future.type, JSON.stringify(future));
    db.close();
    const again = new EventLog(path);
    assert.ok(up('y').id > future.id);
    again.close();
  });

  it('opens a log made before publish refusals were recorded', () => {
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, time_ms INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, published_at INTEGER)');
    const e = up('old');
    db.prepare('INSERT INTO events (id, time_ms, type, body) VALUES (?, ?, ?, ?)').run(e.id, 1, e.type, JSON.stringify(e));
    db.close();
    const log = new EventLog(path);
    log.beginPublishing();
    log.append([up('new')]);
    assert.equal(log.pending(10).length, 1);
    log.close();
  });
});
