// Stripes a repair found corrupt in its sources become corruption.found events (detected by
// repair): they were only lines in the task's source problems.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../coordinator/events/event-log.js';
import { EventRecorder } from '../../coordinator/events/event-recorder.js';
import { corruptSources } from '../../coordinator/repair/corrupt-sources.js';
import type { RepairPlan } from '../../shared/domain/repair-task.js';

const plan: RepairPlan = {
  lfn: '/d/f', profile: { nbData: 4, nbParity: 2, chunkSize: 4096 }, strpver: 1, filesize: 1, xattrNamespace: 'user.U.', bytesRead: 1, bytesWritten: 1,
  sources: [
    { serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/x%' },
    { serverId: 's2', diskId: 's2:/d1', dataPath: 'public/0B/y%' },
    { serverId: 's3', diskId: 's3:/d0', dataPath: 'public/0C/z%' },
  ],
  targets: [{ slot: 0, serverId: 's3', diskId: 's3:/d1' }],
};

describe('repair: corrupt source stripes', () => {
  it('reads CRC mismatches per source from the task\'s problems (remote ids and the executor\'s own paths)', () => {
    const found = corruptSources(plan, 's3', [
      's1:s1:/d0/public/0A/x% obj.2.1: CRC mismatch (crc32c)',
      's1:s1:/d0/public/0A/x% obj.5.1: CRC mismatch (crc32c)',
      's1:s1:/d0/public/0A/x% obj.5.1: CRC mismatch (crc32c)',
      's2:s2:/d1/public/0B/y% obj.0.3: unreadable: EIO',
      '/srv/disk0/public/0C/z% obj.7.0: CRC mismatch (crc32)',
      'srv9: not reachable',
    ]);
    assert.deepEqual(found, [
      { serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/x%', entries: [{ block: 2, stripe: 1 }, { block: 5, stripe: 1 }] },
      { serverId: 's3', diskId: 's3:/d0', dataPath: 'public/0C/z%', entries: [{ block: 7, stripe: 0 }] },
    ]);
    assert.deepEqual(corruptSources(plan, 's1', ['/srv/disk0/public/0C/z% obj.7.0: CRC mismatch (crc32)']), [], 'a path only names the executor\'s own source');
  });

  it('the event validates and names disk, archive and stripes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecguard-corrupt-'));
    const log = new EventLog(join(dir, 'c.db'));
    try {
      new EventRecorder('t', log, () => undefined, () => false, () => undefined).corruptionFound('/d/f', corruptSources(plan, 's3', ['s1:s1:/d0/public/0A/x% obj.2.1: CRC mismatch (crc32c)']));
      const [e] = log.query({ limit: 5 }).map((x) => x.event);
      assert.equal(e?.type, 'corruption.found');
      assert.deepEqual(e?.subject, { lfn: '/d/f', serverId: 's1', diskId: 's1:/d0' });
      assert.deepEqual(e?.data, { dataPath: 'public/0A/x%', detectedBy: 'repair', entries: [{ block: 2, stripe: 1 }] });
    } finally {
      log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
