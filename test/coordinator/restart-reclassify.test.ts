// A coordinator killed between a disk's (or server's) state change and the reclassification it
// triggers: after a restart the state no longer changes, so nothing reclassified those files and
// they stayed healthy on a failed disk, never repaired (found by review, reproduced with SIGKILL).
// Start now classifies again every file on a disk not online or a server not up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { archive, disk, file, server } from './catalog/catalog-fixtures.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };

describe('coordinator start after a crash mid disk failure', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-rrc-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('files on a failed disk or a down server are classified again, not left as they were', async () => {
    const path = join(dir, 'catalog.db');
    const store = openCatalogStore(path);
    const servers = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];
    for (const s of servers) {
      await store.putServer(server(s, { state: s === 's5' ? 'down' : 'up', since: 1, lastSeen: Date.now(), inventoried: true }));
      await store.putDisk(disk(s, 0, { state: s === 's0' ? 'failed' : 'online' }));
    }
    // /d/a has an archive on the failed disk (s0), /d/b one on the down server (s5), /d/c
    // neither (it has only 5 archives: not healthy in truth, but nothing makes it dirty)
    const on: Record<string, string[]> = { '/d/a': ['s0', 's1', 's2', 's3', 's4', 's6'], '/d/b': ['s1', 's2', 's3', 's4', 's5', 's6'], '/d/c': ['s1', 's2', 's3', 's4', 's6'] };
    for (const s of servers) await store.applyArchiveChanges(s, Object.keys(on).filter((l) => on[l]?.includes(s)).map((l) => archive(s, 0, l)), []);
    await store.putFiles(['/d/a', '/d/b', '/d/c'].map((l) => file(l, { state: 'healthy', redundancy: 2, latestStrpver: 1_700_000_000, createdAt: 1 })));
    await store.setMeta('profile', JSON.stringify(P42));
    await store.close();

    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(path), insecure: true, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      await coord.reclassifier.flush();
      const states = Object.fromEntries([...(await coord.store.filesOf(['/d/a', '/d/b', '/d/c']))].map(([l, f]) => [l, f.state]));
      assert.deepEqual(states, { '/d/a': 'degraded', '/d/b': 'degraded', '/d/c': 'healthy' });
    } finally {
      await coord.stop();
    }
  });

  it('a catalog rebuild keeps what was announced as the baseline of the events that follow', async () => {
    const path = join(dir, 'catalog.db');
    const store = openCatalogStore(path);
    await store.putFiles(Array.from({ length: 7 }, (_, i) => file(`/d/f${i}`, { createdAt: 1 })));
    await store.close();
    const eventLog = new EventLog(path);
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(path), insecure: true, eventLog });
    await coord.start();
    try {
      await coord.rebuildCatalog();
      assert.equal(eventLog.held.count(), 7);
      assert.equal((await coord.store.listFiles({ limit: 10 })).length, 0, 'the file rows are gone until the inventories are back');
    } finally {
      await coord.stop();
      eventLog.close();
    }
  });
});
