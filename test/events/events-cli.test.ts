// `ecguard events` against a real coordinator: without --since the newest events (a log reader
// wants the latest, not the first of a year); with --since pages past 1000 (a single reply of
// more was over gRPC's 4 MB limit); --type takes "a, b"; a cut listing says so.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { makeEvent, type EcguardEvent } from '../../shared/domain/event.js';
import { repoRoot, runCliAsync } from '../helpers/cli.js';

describe('ecguard events (CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  let coord: Coordinator;
  let addr: string;
  let log: EventLog;
  const made: EcguardEvent[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-evcli-'));
    log = new EventLog(join(dir, 'catalog.db'));
    for (let i = 0; i < 2500; i++) {
      made.push(i % 500 === 7
        ? makeEvent('t', 'disk.failed', { serverId: 's1', diskId: 's1:/d' }, `disk number ${i}`, { path: '/d', previousState: 'online', error: 'EIO', archives: 1 })
        : makeEvent('t', 'server.up', { serverId: `s${i}` }, `event number ${i}`, { downSince: '2026-01-01T00:00:00.000Z', previousState: 'down' }));
    }
    log.append(made);
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'catalog.db')), insecure: true, eventLog: log });
    addr = `127.0.0.1:${await coord.start()}`;
  });
  after(async () => {
    await coord.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const events = async (...args: string[]): Promise<{ events: EcguardEvent[]; more?: boolean; stderr: string }> => {
    const r = await runCliAsync(['events', '--coordinator', addr, '--insecure', '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return { ...(JSON.parse(r.stdout) as { events: EcguardEvent[]; more?: boolean }), stderr: r.stderr };
  };

  it('without --since: the newest, oldest first', async () => {
    const r = await events('--limit', '20');
    assert.deepEqual(r.events.map((e) => e.id), made.slice(-20).map((e) => e.id));
  });

  it('with --since: pages past 1000, in order, and says when more follow', async () => {
    const all = await events('--since', '0', '--limit', '2500');
    assert.equal(all.events.length, 2500);
    assert.deepEqual(all.events.map((e) => e.id), made.map((e) => e.id));
    assert.equal(all.more, undefined);
    const cut = await events('--since', '0', '--limit', '1200');
    assert.equal(cut.events.length, 1200);
    assert.equal(cut.more, true);
    assert.match(cut.stderr, /more events follow the 1200 shown/);
  });

  it('--type takes a list written with spaces', async () => {
    const r = await events('--since', '0', '--type', 'disk.failed, server.lost');
    assert.deepEqual(r.events.map((e) => e.reason), ['disk number 7', 'disk number 507', 'disk number 1007', 'disk number 1507', 'disk number 2007']);
  });

  it('--follow shows the newest --limit first, then each new event once, as it is recorded', async () => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin', 'ecguard.js'), 'events', '--coordinator', addr, '--insecure', '--json', '--follow', '--limit', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts.filter((x) => x !== ''));
    });
    const until = async (n: number): Promise<void> => {
      const end = Date.now() + 10_000;
      while (lines.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await until(2);
      const later = makeEvent('t', 'server.up', { serverId: 'late' }, 'recorded after the follow began', { downSince: '2026-01-01T00:00:00.000Z', previousState: 'down' });
      log.append([later]);
      await until(3);
      await new Promise((r) => setTimeout(r, 1500)); // another poll: nothing is printed twice
      const ids = lines.map((l) => (JSON.parse(l) as EcguardEvent).id);
      assert.deepEqual(ids, [...made.slice(-2).map((e) => e.id), later.id]);
    } finally {
      p.kill('SIGTERM');
    }
  });
});
