// A server down for longer than server.lostAfter is declared lost by the coordinator itself
// (docs/events.md server.lost, by: timeout): before, only an operator could, and no event said
// when the grace ended and its archives stopped counting.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { server } from './catalog/catalog-fixtures.js';

describe('server.lostAfter', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-lost-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a server down past the grace becomes lost (not during safe mode, the grace counted from the coordinator\'s start at the earliest), with a server.lost event by timeout; one within it stays down', async () => {
    const path = join(dir, 'catalog.db');
    const store = openCatalogStore(path);
    const now = Date.now();
    // 'old' was down long before the coordinator (re)started: its grace still counts from the start
    await store.putServer(server('old', { state: 'down', since: now - 3_600_000, lastSeen: now - 3_600_000 }));
    await store.putServer(server('new', { state: 'down', since: now + 60_000, lastSeen: now - 1_000 }));
    await store.close();
    const eventLog = new EventLog(path);
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(path), insecure: true, eventLog, downAfterMs: 400, repair: { lostAfterMs: 3_000 } });
    await coord.start();
    try {
      // just started, in safe mode: a server down before may be reconnecting, none is declared lost
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(coord.cluster.server('old')?.state, 'down');
      coord.safeMode.leave('operator');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(coord.cluster.server('old')?.state, 'down', 'the coordinator\'s own downtime is no silence: the grace runs from its start');
      const deadline = Date.now() + 5_000;
      while (coord.cluster.server('old')?.state !== 'lost' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(coord.cluster.server('old')?.state, 'lost');
      assert.equal(coord.cluster.server('new')?.state, 'down');
      const lost = eventLog.query({ limit: 10, types: ['server.lost'] }).map((x) => x.event);
      assert.deepEqual(lost.map((e) => [e.subject.serverId, (e.data as { by: string }).by]), [['old', 'timeout']]);
    } finally {
      await coord.stop();
      eventLog.close();
    }
  });
});
