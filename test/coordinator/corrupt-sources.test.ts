// Stripes a repair found corrupt in its sources become corruption.found events (detected by
// repair), from the structured bad entries of the agent's report: data paths with spaces stay
// whole and the CRCs reach the event.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../coordinator/events/event-log.js';
import { EventRecorder } from '../../coordinator/events/event-recorder.js';
import { corruptSources } from '../../coordinator/repair/corrupt-sources.js';
import type { BadSourceEntry } from '../../shared/domain/bad-source-entry.js';
import type { RepairPlan } from '../../shared/domain/repair-task.js';

const plan: RepairPlan = {
  lfn: '/d/f', profile: { nbData: 4, nbParity: 2, chunkSize: 4096 }, strpver: 1, filesize: 1, xattrNamespace: 'user.U.', bytesRead: 1, bytesWritten: 1,
  sources: [
    { serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/x%' },
    { serverId: 's2', diskId: 's2:/d1', dataPath: 'public/0B/y%' },
    { serverId: 's3', diskId: 's3:/d0', dataPath: 'public/0C/my file z%' },
  ],
  targets: [{ slot: 0, serverId: 's3', diskId: 's3:/d1' }],
};

describe('repair: corrupt source stripes', () => {
  const crcBad = (i: number, block: number, stripe: number, extra: Partial<BadSourceEntry> = {}): BadSourceEntry => {
    const src = plan.sources[i] as RepairPlan['sources'][number];
    return { serverId: src.serverId, diskId: src.diskId, dataPath: src.dataPath, block, stripe, kind: 'crc-mismatch', expectedCrc: 0x8d3f2a10, foundCrc: 0x1234, ...extra };
  };

  it('takes the CRC mismatches of the task\'s own sources, once per stripe, paths with spaces whole', () => {
    const found = corruptSources(plan, [
      crcBad(0, 2, 1), crcBad(0, 5, 1, { expectedCrc: 7, foundCrc: 8 }), crcBad(0, 5, 1),
      crcBad(1, 0, 3, { kind: 'unreadable', expectedCrc: undefined, foundCrc: undefined }),
      crcBad(2, 7, 0, { expectedCrc: undefined, foundCrc: undefined }),
      crcBad(2, 8, 0, { dataPath: 'public/0C/my%' }), // not a source of this task
      crcBad(1, 1, 1, { diskId: 's2:/d9' }),
    ]);
    assert.deepEqual(found, [
      { serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/x%', entries: [{ block: 2, stripe: 1, expectedCrc: 0x8d3f2a10, foundCrc: 0x1234 }, { block: 5, stripe: 1, expectedCrc: 7, foundCrc: 8 }] },
      { serverId: 's3', diskId: 's3:/d0', dataPath: 'public/0C/my file z%', entries: [{ block: 7, stripe: 0 }] },
    ]);
    assert.deepEqual(corruptSources(plan, []), []);
  });

  it('the event validates and names disk, archive and stripes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecguard-corrupt-'));
    const log = new EventLog(join(dir, 'c.db'));
    try {
      new EventRecorder('t', log, () => undefined, () => false, () => undefined).corruptionFound('/d/f', corruptSources(plan, [crcBad(2, 2, 1), crcBad(2, 3, 0, { foundCrc: undefined })]));
      const [e] = log.query({ limit: 5 }).map((x) => x.event);
      assert.equal(e?.type, 'corruption.found');
      assert.deepEqual(e?.subject, { lfn: '/d/f', serverId: 's3', diskId: 's3:/d0' });
      assert.deepEqual(e?.data, { dataPath: 'public/0C/my file z%', detectedBy: 'repair', entries: [{ block: 2, stripe: 1, expectedCrc: '8d3f2a10', actualCrc: '00001234' }, { block: 3, stripe: 0, expectedCrc: '8d3f2a10' }] });
    } finally {
      log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
