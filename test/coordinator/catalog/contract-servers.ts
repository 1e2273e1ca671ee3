// Contract: servers and disks round-trip, update in place, and list in id order; a reclassify
// marker is written with its row, kept by writes without one, and cleared only by its own token.
import assert from 'node:assert/strict';
import type { ContractContext } from './contract-context.js';
import { archive, disk, server } from './catalog-fixtures.js';

export function serversContract(c: ContractContext): void {
  it('servers round-trip, update in place and list in id order', async () => {
    const s = c.store();
    assert.equal(await s.getServer('srv01'), undefined);
    const b = server('srv02', { state: 'down', appliedSeq: 42, inventoried: true });
    await s.putServer(b);
    await s.putServer(server('srv01'));
    assert.deepEqual(await s.getServer('srv02'), b);
    const b2 = { ...b, state: 'lost' as const, since: 9, lastSeen: 10, appliedSeq: 43, instanceId: 'other', inventoried: false };
    await s.putServer(b2);
    assert.deepEqual(await s.getServer('srv02'), b2);
    assert.deepEqual((await s.listServers()).map((x) => x.serverId), ['srv01', 'srv02']);
  });

  it('updating a server keeps its archives', async () => {
    const s = c.store();
    await s.putServer(server('srv01'));
    await s.applyArchiveChanges('srv01', [archive('srv01', 0, '/a')], []);
    await s.putServer(server('srv01', { state: 'down' }));
    assert.equal(await s.archiveCount(), 1);
  });

  it('disks round-trip with and without uuid and evidence, and list by server', async () => {
    const s = c.store();
    assert.equal(await s.getDisk('nope'), undefined);
    // an agent's Hello reports its disks before the server row is written
    const d0 = disk('srv01', 0, { uuid: '0b7d6a53-7f7e-4a4e-9d55-0c8b1a4d7a11', evidence: ['marker ok', 'st_dev 2049'] });
    const d1 = disk('srv01', 1, { state: 'downgraded' });
    const other = disk('srv02', 0, { state: 'failed', evidence: ['EIO on read'] });
    for (const d of [other, d1, d0]) await s.putDisk(d);
    assert.deepEqual(await s.getDisk(d0.diskId), d0);
    assert.deepEqual(await s.getDisk(d1.diskId), d1);
    assert.equal('uuid' in (await s.getDisk(d1.diskId))!, false);
    assert.deepEqual(await s.listDisks('srv01'), [d0, d1]);
    assert.deepEqual((await s.listDisks()).map((d) => d.diskId), [d0.diskId, d1.diskId, other.diskId]);
    assert.deepEqual(await s.listDisks('srv09'), []);
    const d0b = { ...d0, state: 'missing' as const, since: 99, evidence: ['path gone'] };
    await s.putDisk(d0b);
    assert.deepEqual(await s.getDisk(d0.diskId), d0b);
  });

  it('reclassify markers: written with the row, kept by a write without one, cleared only with their token', async () => {
    const s = c.store();
    const d = disk('srv01', 0, { state: 'failed', reclassifyPending: 11 });
    await s.putServer(server('srv01', { state: 'down', reclassifyPending: 12 }));
    await s.putDisk(d);
    assert.equal((await s.getServer('srv01'))?.reclassifyPending, 12);
    assert.deepEqual(await s.getDisk(d.diskId), d);
    // a later write that does not know the marker (a heartbeat, an evidence update) keeps it
    await s.putServer(server('srv01', { state: 'down', lastSeen: 99 }));
    await s.putDisk(disk('srv01', 0, { state: 'failed', evidence: ['EIO again'] }));
    assert.equal((await s.getServer('srv01'))?.reclassifyPending, 12);
    assert.equal((await s.getDisk(d.diskId))?.reclassifyPending, 11);
    // a newer change replaces it; the older token no longer clears
    await s.putDisk(disk('srv01', 0, { state: 'online', reclassifyPending: 13 }));
    assert.equal(await s.clearReclassifyPending('disk', d.diskId, 11), false);
    assert.equal((await s.getDisk(d.diskId))?.reclassifyPending, 13);
    assert.equal(await s.clearReclassifyPending('disk', d.diskId, 13), true);
    assert.equal(await s.clearReclassifyPending('server', 'srv01', 12), true);
    assert.equal('reclassifyPending' in ((await s.getDisk(d.diskId)) ?? {}), false);
    assert.equal('reclassifyPending' in ((await s.getServer('srv01')) ?? {}), false);
    assert.equal(await s.clearReclassifyPending('server', 'nope', 12), false);
  });

  it('forgetDisk drops the disk row and its archives (and their count) only; forgetServer its server, disks and archives', async () => {
    const s = c.store();
    for (const id of ['srv01', 'srv02']) await s.putServer(server(id));
    for (const d of [disk('srv01', 0), disk('srv01', 1), disk('srv02', 0)]) await s.putDisk(d);
    await s.applyArchiveChanges('srv01', [archive('srv01', 0, '/a'), archive('srv01', 0, '/b'), archive('srv01', 1, '/a'), archive('srv01', 1, '/c')], []);
    await s.applyArchiveChanges('srv02', [archive('srv02', 0, '/a')], []);
    assert.deepEqual(await s.forgetDisk(disk('srv01', 0).diskId), ['/a', '/b']);
    assert.equal(await s.getDisk(disk('srv01', 0).diskId), undefined);
    assert.deepEqual((await s.listDisks('srv01')).map((d) => d.diskId), [disk('srv01', 1).diskId]);
    assert.deepEqual(Object.fromEntries([...(await s.archiveCountsByDisk())].sort()), { [disk('srv01', 1).diskId]: 2, [disk('srv02', 0).diskId]: 1 });
    assert.equal(await s.archiveCount(), 3);
    assert.deepEqual((await s.archivesOf(['/a'])).get('/a')?.map((a) => a.diskId).sort(), [disk('srv01', 1).diskId, disk('srv02', 0).diskId]);
    assert.deepEqual(await s.forgetDisk('nope'), [], 'an unknown disk: nothing');

    assert.deepEqual(await s.forgetServer('srv01'), ['/a', '/c']);
    assert.equal(await s.getServer('srv01'), undefined);
    assert.deepEqual(await s.listDisks('srv01'), []);
    assert.deepEqual(Object.fromEntries(await s.archiveCountsByDisk()), { [disk('srv02', 0).diskId]: 1 });
    assert.equal(await s.archiveCount(), 1);
    assert.deepEqual((await s.listServers()).map((x) => x.serverId), ['srv02'], 'the other server untouched');
  });
}
