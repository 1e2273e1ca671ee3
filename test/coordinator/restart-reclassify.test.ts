// A coordinator killed between a disk's (or server's) state change and the reclassification it
// triggers: after a restart the state no longer changes, so nothing reclassified those files and
// they stayed healthy on a failed disk, never repaired (found by review, reproduced with SIGKILL).
// The state change writes a reclassify marker with the new state; start classifies again the
// files of marked disks and servers only, and clears the marker when done. A clean restart
// (nothing marked) classifies nothing again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultyCatalogStore } from '../../coordinator/catalog/faulty-store.js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { archive, disk, file, server } from './catalog/catalog-fixtures.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };

async function until(cond: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('coordinator start after a crash mid disk failure', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-rrc-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Seven servers; disk s0:0 failed and server s5 down (marked as `marks` says); /d/a on s0, /d/b on s5, /d/c on neither; all stored healthy. */
  async function seed(path: string, marks: { disk?: number; server?: number }): Promise<void> {
    const store = openCatalogStore(path);
    const servers = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];
    for (const s of servers) {
      await store.putServer(server(s, { state: s === 's5' ? 'down' : 'up', since: 1, lastSeen: Date.now(), inventoried: true, ...(s === 's5' && marks.server ? { reclassifyPending: marks.server } : {}) }));
      await store.putDisk(disk(s, 0, { state: s === 's0' ? 'failed' : 'online', ...(s === 's0' && marks.disk ? { reclassifyPending: marks.disk } : {}) }));
    }
    const on: Record<string, string[]> = { '/d/a': ['s0', 's1', 's2', 's3', 's4', 's6'], '/d/b': ['s1', 's2', 's3', 's4', 's5', 's6'], '/d/c': ['s1', 's2', 's3', 's4', 's6'] };
    for (const s of servers) await store.applyArchiveChanges(s, Object.keys(on).filter((l) => on[l]?.includes(s)).map((l) => archive(s, 0, l)), []);
    await store.putFiles(['/d/a', '/d/b', '/d/c'].map((l) => file(l, { state: 'healthy', redundancy: 2, latestStrpver: 1_700_000_000, createdAt: 1 })));
    await store.setMeta('profile', JSON.stringify(P42));
    await store.close();
  }

  const statesOf = async (c: Coordinator): Promise<Record<string, string>> => Object.fromEntries([...(await c.store.filesOf(['/d/a', '/d/b', '/d/c']))].map(([l, f]) => [l, f.state]));

  it('files of a marked disk or server (a crash before their reclassification) are classified again, and the markers cleared', async () => {
    const path = join(dir, 'catalog.db');
    await seed(path, { disk: 5, server: 6 });
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(path), insecure: true, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      await coord.reclassifier.flush();
      assert.deepEqual(await statesOf(coord), { '/d/a': 'degraded', '/d/b': 'degraded', '/d/c': 'healthy' });
      await until(async () => (await coord.store.getDisk('s0:/data/disk0'))?.reclassifyPending === undefined && (await coord.store.getServer('s5'))?.reclassifyPending === undefined, 'the markers to be cleared');
    } finally {
      await coord.stop();
    }
  });

  it('a clean restart (nothing marked) classifies nothing again, though a disk is failed and a server down', async () => {
    const path = join(dir, 'catalog.db');
    await seed(path, {});
    const store = new FaultyCatalogStore(openCatalogStore(path));
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      await coord.reclassifier.flush();
      assert.equal(store.calls('lfnsOnDisk') + store.calls('lfnsOnServer') + store.calls('archiveStatesOf'), 0, 'no file read for reclassification');
      assert.deepEqual(await statesOf(coord), { '/d/a': 'healthy', '/d/b': 'healthy', '/d/c': 'healthy' }, 'as stored');
    } finally {
      await coord.stop();
    }
  });

  it('a disk failure reclassifies at once; if the marker was never cleared (a crash) the next start does it again, else not', async () => {
    const path = join(dir, 'catalog.db');
    await seed(path, {});
    const diskOnline = { diskId: 's1:/data/disk0', path: '/data/disk0', space: 'public', state: 'online' as const, evidence: [] };
    // First run: s1's disk fails; the reclassification runs, but clearing its marker "crashes".
    let store = new FaultyCatalogStore(openCatalogStore(path)).failAlways('clearReclassifyPending');
    let coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      await coord.diskReport('s1', { ...diskOnline, state: 'failed', evidence: ['EIO'] }, undefined);
      await coord.reclassifier.flush();
      // s0's failed disk and s5 being down count too: one more loss each
      assert.deepEqual(await statesOf(coord), { '/d/a': 'critical', '/d/b': 'critical', '/d/c': 'critical' });
      await until(async () => store.calls('clearReclassifyPending') > 0, 'a clear attempt');
      assert.ok((await store.getDisk('s1:/data/disk0'))?.reclassifyPending !== undefined, 'the marker was written with the failed state');
    } finally {
      await coord.stop();
    }
    // Second run: the marker makes start classify s1's disk again (its files were put back as
    // they were before the failure, as a crash before the reclassification would have left them).
    store = new FaultyCatalogStore(openCatalogStore(path));
    await store.putFiles(['/d/a', '/d/b', '/d/c'].map((l) => file(l, { state: 'healthy', redundancy: 2, latestStrpver: 1_700_000_000, createdAt: 1 })));
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      await coord.reclassifier.flush();
      assert.equal(store.calls('lfnsOnDisk'), 1, 'only the marked disk is read');
      assert.equal(store.calls('lfnsOnServer'), 0, 'the down server was never marked: left alone');
      assert.equal((await statesOf(coord))['/d/c'], 'critical');
      await until(async () => (await store.getDisk('s1:/data/disk0'))?.reclassifyPending === undefined, 'the marker to be cleared');
    } finally {
      await coord.stop();
    }
    // Third run: clean; nothing is classified again.
    store = new FaultyCatalogStore(openCatalogStore(path));
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      await coord.reclassifier.flush();
      assert.equal(store.calls('lfnsOnDisk') + store.calls('lfnsOnServer'), 0);
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
