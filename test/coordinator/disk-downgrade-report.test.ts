// A disk turning downgraded (the scrub's findings, or an operator) and back: the disk.downgraded
// event says who, and neither change reclassifies the disk's files (both states are read, so no
// file's state can change; at a million archives a reclassification took 40 s).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultyCatalogStore } from '../../coordinator/catalog/faulty-store.js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { archive, disk, server } from './catalog/catalog-fixtures.js';

describe('coordinator: a disk downgraded and cleared', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-ddr-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('disk.downgraded carries who (operator or corruption); no reclassification either way; failed still reclassifies', async () => {
    const path = join(dir, 'catalog.db');
    const seed = openCatalogStore(path);
    await seed.putServer(server('s1', { state: 'up', since: 1, lastSeen: Date.now(), inventoried: true }));
    await seed.putDisk(disk('s1', 0));
    await seed.applyArchiveChanges('s1', [archive('s1', 0, '/d/a')], []);
    await seed.close();
    const eventLog = new EventLog(path);
    const store = new FaultyCatalogStore(openCatalogStore(path));
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, eventLog, safeModeTimeoutMs: 60_000 });
    await coord.start();
    try {
      const d = { diskId: disk('s1', 0).diskId, path: disk('s1', 0).path, space: 'public', evidence: [] as string[] };
      const downgraded = (): { by: string }[] => eventLog.query({ types: ['disk.downgraded'] }).map((e) => e.event.data as { by: string });
      await coord.diskReport('s1', { ...d, state: 'downgraded', evidence: ['operator: SMART reallocated sectors'], downgradedBy: 'operator' }, undefined);
      assert.deepEqual(downgraded().map((x) => x.by), ['operator']);
      assert.equal((await store.getDisk(d.diskId))?.state, 'downgraded');
      await coord.diskReport('s1', { ...d, state: 'online', evidence: ['cleared'] }, undefined);
      await coord.diskReport('s1', { ...d, state: 'downgraded', evidence: ['scrub: 1 corrupt'], downgradedBy: 'corruption' }, undefined);
      assert.deepEqual(downgraded().map((x) => x.by), ['operator', 'corruption']);
      assert.equal(store.calls('lfnsOnDisk') + store.calls('lfnsCountedOnDisk'), 0, 'no file of the disk read for reclassification');
      await coord.diskReport('s1', { ...d, state: 'failed', evidence: ['EIO'] }, undefined);
      assert.ok(store.calls('lfnsOnDisk') > 0, 'a failed disk still reclassifies its files');
    } finally {
      await coord.stop();
      eventLog.close();
    }
  });
});
