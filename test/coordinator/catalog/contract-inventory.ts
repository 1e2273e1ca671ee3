// Contract: full inventories drop what was not re-sent since beginInventory on the inventoried
// disks of that server only, keep what deltas wrote meanwhile, and close the server's gap.
import type { CatalogStore } from '../../../coordinator/catalog/catalog-store.js';
import assert from 'node:assert/strict';
import type { EcguardError } from '../../../shared/errors.js';
import type { ContractContext } from './contract-context.js';
import { archive, diskId, server, sorted } from './catalog-fixtures.js';

const code = (expected: string) => (err: unknown) => (err as EcguardError).code === expected;

export function inventoryContract(c: ContractContext): void {
  const d0 = diskId('srv01', 0);
  const d1 = diskId('srv01', 1);
  const a0 = archive('srv01', 0, '/a0');
  const b0 = archive('srv01', 0, '/b0');
  const c0 = archive('srv01', 0, '/c0');
  const x1 = archive('srv01', 1, '/x1');
  const other = archive('srv02', 0, '/b0');

  beforeEach(async () => {
    const s = c.store();
    for (const id of ['srv01', 'srv02']) await s.putServer(server(id, { appliedSeq: 3 }));
    await s.applyArchiveChanges('srv01', [a0, b0, c0, x1], []);
    await s.applyArchiveChanges('srv02', [other], []);
  });

  it('drops unsent archives of the inventoried disks only; re-sent ones survive untouched', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0]);
    const n0 = archive('srv01', 0, '/n0');
    assert.deepEqual(await s.inventoryBatch('srv01', [a0, n0]), ['/n0'], 'only the new archive is a change');
    assert.deepEqual(await s.inventoryBatch('srv01', [{ ...c0, size: 1 }]), ['/c0']);
    assert.deepEqual(await s.endInventory('srv01', 99), ['/b0']);
    assert.deepEqual(await s.lfnsOnDisk(d0), ['/a0', '/c0', '/n0']);
    assert.deepEqual(await s.lfnsOnDisk(d1), ['/x1'], 'a disk not inventoried is untouched');
    assert.deepEqual(await s.lfnsOnServer('srv02'), ['/b0'], 'other servers are untouched');
    const row = (await s.getServer('srv01'))!;
    assert.equal(row.appliedSeq, 99);
    assert.equal(row.inventoried, true);
    assert.equal((await s.getServer('srv02'))!.inventoried, false);
  });

  it('keeps what deltas wrote during the inventory and honours their removals', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0, d1]);
    await s.applyArchiveChanges('srv01', [{ ...b0, size: 7 }], [{ diskId: d1, dataPath: x1.dataPath }], 50);
    await s.inventoryBatch('srv01', [a0]);
    assert.deepEqual(await s.endInventory('srv01', 51), ['/c0']);
    assert.deepEqual(await s.lfnsOnServer('srv01'), ['/a0', '/b0']);
  });

  it('archives in `keep` (records the coordinator refused) are not dropped, in a full inventory or a scoped one', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0]);
    await s.inventoryBatch('srv01', [a0]);
    assert.deepEqual(await s.endInventory('srv01', 20, undefined, [{ diskId: d0, dataPath: b0.dataPath }]), ['/c0']);
    assert.deepEqual(await s.lfnsOnDisk(d0), ['/a0', '/b0']);
    await s.beginInventory('srv01', [d0]);
    const keys = [a0, b0].map((a) => ({ diskId: d0, dataPath: a.dataPath }));
    assert.deepEqual(await s.endInventory('srv01', 21, keys, [{ diskId: d0, dataPath: b0.dataPath }]), ['/a0']);
    assert.deepEqual(await s.lfnsOnDisk(d0), ['/b0']);
  });

  it('an inventory re-sending everything drops nothing; an empty one drops the disks\' archives', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0, d1]);
    assert.deepEqual(await s.inventoryBatch('srv01', [a0, b0, c0, x1]), []);
    assert.deepEqual(await s.endInventory('srv01', 10), []);
    assert.equal(await s.archiveCount(), 5);
    await s.beginInventory('srv01', [d1]);
    assert.deepEqual(await s.endInventory('srv01', 11), ['/x1']);
    assert.equal(await s.archiveCount(), 4);
  });

  it('interleaved inventories of two servers do not disturb each other', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0]);
    await s.beginInventory('srv02', [diskId('srv02', 0)]);
    await s.inventoryBatch('srv02', [other]);
    await s.inventoryBatch('srv01', [a0]);
    assert.deepEqual(await s.endInventory('srv02', 7), []);
    assert.deepEqual(sorted(await s.endInventory('srv01', 8)), ['/b0', '/c0']);
    assert.deepEqual(await s.lfnsOnServer('srv02'), ['/b0']);
  });

  it('a restarted inventory of the same server supersedes the first', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0]);
    await s.inventoryBatch('srv01', [a0, b0]);
    await s.beginInventory('srv01', [d0]);
    await s.inventoryBatch('srv01', [a0]);
    assert.deepEqual(sorted(await s.endInventory('srv01', 9)), ['/b0', '/c0']);
  });

  it('inventoryBatch and endInventory without beginInventory are errors', async () => {
    const s = c.store();
    await assert.rejects(s.inventoryBatch('srv01', [a0]), code('NO_INVENTORY'));
    await assert.rejects(s.endInventory('srv01', 1), code('NO_INVENTORY'));
    await s.beginInventory('srv01', [d0]);
    await s.endInventory('srv01', 2);
    await assert.rejects(s.endInventory('srv01', 3), code('NO_INVENTORY'));
    await assert.rejects(s.endInventory('srv09', 3), code('UNKNOWN_SERVER'));
    assert.equal((await s.getServer('srv01'))!.appliedSeq, 2);
  });

  if (c.persistent) it('an inventory in progress survives reopening the store', async function () {
    await c.store().beginInventory('srv01', [d0]);
    await c.store().inventoryBatch('srv01', [c0]);
    const s = await (c.reopen as () => Promise<CatalogStore>)();
    await s.inventoryBatch('srv01', [a0]);
    assert.deepEqual(await s.endInventory('srv01', 4), ['/b0']);
    // the generation goes on from where it was: a new inventory still sweeps correctly
    await s.beginInventory('srv01', [d0]);
    await s.inventoryBatch('srv01', [c0]);
    assert.deepEqual(await s.endInventory('srv01', 5), ['/a0']);
  });

  it('a scoped end (digest resync) drops only the named archives that were not re-sent, and counts them', async () => {
    const s = c.store();
    await s.beginInventory('srv01', [d0, d1]);
    await s.inventoryBatch('srv01', [a0]);
    // /b0 and /x1 were not re-sent: only /b0 is in scope
    assert.deepEqual(await s.endInventory('srv01', 77, [{ diskId: d0, dataPath: b0.dataPath }, { diskId: d0, dataPath: a0.dataPath }, { diskId: d0, dataPath: 'public/0A/none%' }]), ['/b0'], '/a0 was re-sent; an unknown key is nothing');
    assert.deepEqual(await s.lfnsOnDisk(d0), ['/a0', '/c0'], '/c0 not re-sent but out of scope: kept');
    assert.deepEqual(await s.lfnsOnDisk(d1), ['/x1']);
    assert.deepEqual(Object.fromEntries([...(await s.archiveCountsByDisk())].filter(([d]) => d.startsWith('srv01')).sort()), { [d0]: 2, [d1]: 1 });
    assert.equal((await s.getServer('srv01'))!.appliedSeq, 77);
  });

  it('archivesOnDisk pages one disk of one server in data path order', async () => {
    const s = c.store();
    const all = await s.archivesOnDisk('srv01', d0, '', 10);
    assert.deepEqual(all.map((a) => a.lfn), ['/a0', '/b0', '/c0']);
    assert.deepEqual(all[0], { ...a0, serverId: 'srv01' }, 'whole records');
    assert.deepEqual((await s.archivesOnDisk('srv01', d0, '', 2)).map((a) => a.lfn), ['/a0', '/b0']);
    assert.deepEqual((await s.archivesOnDisk('srv01', d0, b0.dataPath, 2)).map((a) => a.lfn), ['/c0']);
    assert.deepEqual(await s.archivesOnDisk('srv02', d0, '', 10), [], 'another server\'s archives are not on this server\'s disk');
    assert.deepEqual(await s.archivePathsOnDisk('srv01', d0, a0.dataPath, 10), [b0.dataPath, c0.dataPath], 'paths only, same order');
  });
}
