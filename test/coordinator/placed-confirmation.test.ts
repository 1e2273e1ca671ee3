// A verifying task is done only when the holders' inventories show every placed archive, and an
// archive that had to keep a directory (.mt objects) shows with that directory's digest.
import assert from 'node:assert/strict';
import type { ArchiveRow } from '../../coordinator/catalog/catalog-types.js';
import { confirmPlaced } from '../../coordinator/repair/placed-confirmation.js';
import { newTask } from '../../coordinator/repair/task-transitions.js';
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import { archive } from './catalog/catalog-fixtures.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };

function task(directoryDigest?: string): RepairTaskRow {
  const t = newTask({
    lfn: '/data/f', redundancy: 1, degradedSince: 0, now: 1,
    plan: { lfn: '/data/f', profile: P42, strpver: 1, filesize: 10, xattrNamespace: 'user.U.', sources: [], targets: [{ slot: 0, serverId: 's2', diskId: 's2:/d1', ...(directoryDigest ? { directoryDigest } : {}) }], bytesRead: 0, bytesWritten: 0 },
  });
  return { ...t, state: 'verifying', placed: [{ slot: 0, serverId: 's2', diskId: 's2:/d1', dataPath: 'public/0A/new%', size: 10, linked: true }] };
}
const row = (cdDigest: string): ArchiveRow => ({ ...archive('s2', 0, '/data/f', { cdDigest }), serverId: 's2', diskId: 's2:/d1', dataPath: 'public/0A/new%' });

describe('repair: confirming a placed archive from the inventory', () => {
  it('waits until the archive shows, then done', () => {
    assert.equal(confirmPlaced(task(), []).kind, 'waiting');
    assert.equal(confirmPlaced(task(), [row('aaaaaaaaaaaaaaaa')]).kind, 'done');
  });

  it('an archive that had to keep a directory counts only with that directory', () => {
    assert.equal(confirmPlaced(task('0123456789abcdef'), [row('0123456789abcdef')]).kind, 'done');
    const c = confirmPlaced(task('0123456789abcdef'), [row('fedcba9876543210')]);
    assert.equal(c.kind, 'mismatch');
    assert.match(c.kind === 'mismatch' ? c.reason : '', /s2 reports public\/0A\/new% with central directory fedcba9876543210, not 0123456789abcdef/);
  });

  it('a done report naming no archive, or one elsewhere than planned, is no evidence (found by review)', () => {
    const none = confirmPlaced({ ...task(), placed: [] }, [row('aaaaaaaaaaaaaaaa')]);
    assert.equal(none.kind, 'mismatch');
    assert.equal(none.kind === 'mismatch' ? none.code : '', 'PLACED_MISMATCH');
    const survivor = { ...archive('s3', 0, '/data/f'), serverId: 's3', diskId: 's3:/d0', dataPath: 'public/0B/old%' };
    const elsewhere = confirmPlaced({ ...task(), placed: [{ slot: 0, serverId: 's3', diskId: 's3:/d0', dataPath: 'public/0B/old%', size: 10, linked: true }] }, [survivor]);
    assert.equal(elsewhere.kind, 'mismatch');
    assert.match(elsewhere.kind === 'mismatch' ? elsewhere.reason : '', /slot 0 on s2 s2:\/d1 \(it named s3 s3:\/d0\)/);
  });
});
