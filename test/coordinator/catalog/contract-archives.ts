// Contract: archive batches (touched LFNs, atomicity, checks) and the archive lookups.
import assert from 'node:assert/strict';
import type { ArchiveRecord } from '../../../shared/domain/archive-record.js';
import type { EcguardError } from '../../../shared/errors.js';
import type { ContractContext } from './contract-context.js';
import { archive, bareArchive, disk, file, fullArchive, server, sorted } from './catalog-fixtures.js';

const code = (expected: string) => (err: unknown) => (err as EcguardError).code === expected;

export function archiveContract(c: ContractContext): void {
  beforeEach(async () => {
    for (const id of ['srv01', 'srv02']) await c.store().putServer(server(id));
  });

  it('round-trips records with every optional field present and absent', async () => {
    const s = c.store();
    const full = fullArchive('srv01', 0, '/store/full');
    const regular = archive('srv02', 1, '/store/full', { strpver: 0, filesize: 0 });
    const bare = bareArchive('srv01', 1, 'public/FF/nolfn%');
    await s.applyArchiveChanges('srv01', [full, bare], []);
    await s.applyArchiveChanges('srv02', [regular], []);
    assert.deepEqual(await s.archivesOf(['/store/full']), new Map([['/store/full', [full, regular]]]));
    assert.deepEqual(await s.unattributedArchives(10), [bare]);
    assert.deepEqual(Object.keys((await s.unattributedArchives(10))[0]!).sort(), Object.keys(bare).sort());
    assert.deepEqual(await s.unattributedArchives(0), []);
    assert.equal(await s.archiveCount(), 3);
  });

  it('archive counts per disk follow inserts, re-sends, removals, inventory sweeps and a wipe (kept by the store, not counted on read)', async () => {
    const s = c.store();
    const byDisk = async (): Promise<Record<string, number>> => Object.fromEntries([...(await c.store().archiveCountsByDisk())].sort());
    const a = archive('srv01', 0, '/a');
    const b = archive('srv01', 0, '/b', { dataPath: 'public/0B/b%' });
    const x = archive('srv01', 1, '/x');
    const y = archive('srv02', 0, '/y');
    await s.applyArchiveChanges('srv01', [a, b, x], []);
    await s.applyArchiveChanges('srv02', [y], []);
    assert.deepEqual(await byDisk(), { [a.diskId]: 2, [x.diskId]: 1, [y.diskId]: 1 });
    await s.applyArchiveChanges('srv01', [a, { ...b, size: 1 }], []); // re-sent and changed: no new archive
    await s.applyArchiveChanges('srv01', [], [{ diskId: b.diskId, dataPath: b.dataPath }, { diskId: b.diskId, dataPath: 'public/00/never%' }]);
    assert.deepEqual(await byDisk(), { [a.diskId]: 1, [x.diskId]: 1, [y.diskId]: 1 });
    assert.equal(await s.archiveCount(), 3);
    // a full inventory of srv01 that no longer holds x (its disk emptied): swept, and the disk drops out
    await s.beginInventory('srv01', [a.diskId, x.diskId]);
    await s.inventoryBatch('srv01', [a]);
    await s.endInventory('srv01', 0);
    assert.deepEqual(await byDisk(), { [a.diskId]: 1, [y.diskId]: 1 });
    if (c.reopen) {
      await c.reopen();
      assert.deepEqual(await byDisk(), { [a.diskId]: 1, [y.diskId]: 1 }, 'kept across a reopen');
    }
    await c.store().clearAgentData();
    assert.deepEqual(Object.fromEntries(await c.store().archiveCountsByDisk()), {});
    assert.equal(await c.store().archiveCount(), 0);
    await c.store().applyArchiveChanges('srv02', [y], []);
    assert.deepEqual(Object.fromEntries(await c.store().archiveCountsByDisk()), { [y.diskId]: 1 }, 'counted again after the wipe');
  });

  it('returns the LFNs touched: new, changed, re-pointed, removed; unchanged and unknown touch none', async () => {
    const s = c.store();
    const a = archive('srv01', 0, '/a');
    const b = archive('srv01', 0, '/b', { dataPath: 'public/0B/b%' });
    assert.deepEqual(sorted(await s.applyArchiveChanges('srv01', [a, b], [])), ['/a', '/b']);
    assert.deepEqual(await s.applyArchiveChanges('srv01', [a], []), [], 'unchanged re-send');
    assert.deepEqual(await s.applyArchiveChanges('srv01', [{ ...a, size: 5000 }], []), ['/a'], 'changed');
    assert.deepEqual(sorted(await s.applyArchiveChanges('srv01', [{ ...a, size: 5000, lfn: '/a2' }], [])), ['/a', '/a2'], 're-pointed');
    assert.deepEqual(await s.archivesOf(['/a']), new Map([['/a', []]]));
    assert.deepEqual(await s.applyArchiveChanges('srv01', [], [{ diskId: b.diskId, dataPath: b.dataPath }]), ['/b'], 'removed');
    assert.deepEqual(await s.applyArchiveChanges('srv01', [], [{ diskId: b.diskId, dataPath: 'public/00/never%' }]), [], 'unknown removal');
    // an archive of srv01 cannot be removed through srv02
    assert.deepEqual(await s.applyArchiveChanges('srv02', [], [{ diskId: a.diskId, dataPath: a.dataPath }]), []);
    assert.equal(await s.archiveCount(), 1);
  });

  it('an archive gaining or losing its LFN touches only the LFN it has or had', async () => {
    const s = c.store();
    const bare = bareArchive('srv01', 0, 'public/01/x%');
    assert.deepEqual(await s.applyArchiveChanges('srv01', [bare], []), []);
    assert.deepEqual(await s.applyArchiveChanges('srv01', [{ ...bare, lfn: '/x' }], []), ['/x']);
    assert.deepEqual(await s.applyArchiveChanges('srv01', [bare], []), ['/x']);
    assert.deepEqual(await s.applyArchiveChanges('srv01', [], [{ diskId: bare.diskId, dataPath: bare.dataPath }]), []);
  });

  it('a key both upserted and removed in one batch ends removed: upserts apply first (the arrays carry no order)', async () => {
    const s = c.store();
    const a = archive('srv01', 0, '/a');
    assert.deepEqual(await s.applyArchiveChanges('srv01', [a], [{ diskId: a.diskId, dataPath: a.dataPath }]), ['/a']);
    assert.deepEqual((await s.archivesOf(['/a'])).get('/a'), [], 'new, then removed in the same batch');
    await s.applyArchiveChanges('srv01', [a], []);
    assert.deepEqual(await s.applyArchiveChanges('srv01', [{ ...a, strpver: 2 }], [{ diskId: a.diskId, dataPath: a.dataPath }]), ['/a']);
    assert.equal(await s.archiveCount(), 0);
  });

  it('records appliedSeq on the server only when given', async () => {
    const s = c.store();
    await s.applyArchiveChanges('srv01', [archive('srv01', 0, '/a')], [], 17);
    assert.equal((await s.getServer('srv01'))!.appliedSeq, 17);
    await s.applyArchiveChanges('srv01', [], []);
    assert.equal((await s.getServer('srv01'))!.appliedSeq, 17);
    await s.applyArchiveChanges('srv01', [], [], 18);
    assert.equal((await s.getServer('srv01'))!.appliedSeq, 18);
  });

  it('a batch failing in the middle (a constraint violation) leaves nothing applied', async () => {
    const s = c.store();
    const keep = archive('srv01', 0, '/keep');
    await s.applyArchiveChanges('srv01', [keep], [], 5);
    const bad = { ...archive('srv01', 0, '/bad', { dataPath: 'public/0C/bad%' }), parseStatus: 'bogus' } as unknown as ArchiveRecord;
    const batch = [archive('srv01', 1, '/first'), { ...keep, size: 1 }, bad, archive('srv01', 1, '/last', { dataPath: 'public/0D/last%' })];
    await assert.rejects(s.applyArchiveChanges('srv01', batch, [{ diskId: keep.diskId, dataPath: keep.dataPath }], 6), code('STORE_REJECTED'));
    const unbindable = { ...archive('srv01', 1, '/u'), size: undefined } as unknown as ArchiveRecord;
    await assert.rejects(s.applyArchiveChanges('srv01', [archive('srv01', 1, '/first'), unbindable], [], 6), code('STORE_REJECTED'));
    assert.deepEqual(await s.archivesOf(['/keep', '/first', '/bad', '/last', '/u']), new Map([['/keep', [keep]], ['/first', []], ['/bad', []], ['/last', []], ['/u', []]]));
    assert.equal((await s.getServer('srv01'))!.appliedSeq, 5);
    await s.beginInventory('srv01', [keep.diskId]);
    await assert.rejects(s.inventoryBatch('srv01', [archive('srv01', 0, '/inv', { dataPath: 'public/0E/inv%' }), { ...bad, size: -1 }]), code('STORE_REJECTED'));
    assert.deepEqual(await s.archivesOf(['/inv']), new Map([['/inv', []]]));
    assert.deepEqual(Object.fromEntries(await s.archiveCountsByDisk()), { [keep.diskId]: 1 }, 'the counts rolled back with the rows');
    // and the next good batch counts from there
    await s.applyArchiveChanges('srv01', [archive('srv01', 1, '/first')], [], 7);
    assert.deepEqual(Object.fromEntries([...(await s.archiveCountsByDisk())].sort()), { [keep.diskId]: 1, [archive('srv01', 1, '/first').diskId]: 1 });
  });

  it('rejects a batch naming another server, an unknown server, or another server\'s disk', async () => {
    const s = c.store();
    const mine = archive('srv01', 0, '/mine');
    await assert.rejects(s.applyArchiveChanges('srv01', [mine, archive('srv02', 0, '/theirs')], []), code('SERVER_MISMATCH'));
    await assert.rejects(s.applyArchiveChanges('srv03', [archive('srv03', 0, '/x')], []), code('UNKNOWN_SERVER'));
    await s.putDisk(disk('srv02', 0));
    await assert.rejects(s.applyArchiveChanges('srv01', [mine, { ...mine, diskId: disk('srv02', 0).diskId }], []), code('DISK_SERVER_MISMATCH'));
    await assert.rejects(s.beginInventory('srv03', ['d']), code('UNKNOWN_SERVER'));
    assert.equal(await s.archiveCount(), 0);
  });

  it('finds LFNs by disk, server, archive key and overall, distinct and in order', async () => {
    const s = c.store();
    await s.applyArchiveChanges('srv01', [
      archive('srv01', 0, '/z'),
      archive('srv01', 0, '/m'),
      archive('srv01', 0, '/m', { dataPath: 'public/1F/m-older%', strpver: 1 }), // two versions on one disk
      archive('srv01', 1, '/a'),
      bareArchive('srv01', 0, 'public/00/anon%'),
    ], []);
    await s.applyArchiveChanges('srv02', [archive('srv02', 0, '/m'), archive('srv02', 0, '/q')], []);
    await s.putFiles([file('/only-a-file')]);
    assert.deepEqual(await s.lfnsOnDisk('srv01:/data/disk0'), ['/m', '/z']);
    assert.deepEqual(await s.lfnsOnDisk('srv01:/data/disk1'), ['/a']);
    assert.deepEqual(await s.lfnsOnDisk('nope'), []);
    assert.deepEqual(await s.lfnsOnServer('srv01'), ['/a', '/m', '/z']);
    assert.deepEqual(await s.lfnsOnServer('srv02'), ['/m', '/q']);
    assert.deepEqual(await s.allLfns(), ['/a', '/m', '/only-a-file', '/q', '/z']);
    const m = archive('srv01', 0, '/m');
    const keys = [{ diskId: m.diskId, dataPath: m.dataPath }, { diskId: m.diskId, dataPath: 'public/1F/m-older%' }, { diskId: m.diskId, dataPath: 'public/00/anon%' }, { diskId: m.diskId, dataPath: 'gone%' }];
    assert.deepEqual(await s.lfnsOfArchives('srv01', keys), ['/m']);
    assert.deepEqual(await s.lfnsOfArchives('srv02', keys), []);
    const of = await s.archivesOf(['/m', '/q', '/none']);
    assert.deepEqual([...of.keys()], ['/m', '/q', '/none']);
    assert.deepEqual(of.get('/m')!.map((r) => `${r.serverId} ${r.dataPath}`).sort(), ['srv01 public/0A/_m%', 'srv01 public/1F/m-older%', 'srv02 public/0A/_m%']);
    assert.deepEqual(of.get('/none'), []);
    assert.equal(await s.archiveCount(), 7);
  });
}
