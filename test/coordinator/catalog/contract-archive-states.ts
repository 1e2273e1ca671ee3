// Contract: what the reclassifier reads of archives (archiveStatesOf: the classification fields
// and the stored role) and its role writes (updateArchiveRoles: only the archives named).
import assert from 'node:assert/strict';
import type { ArchiveRecord } from '../../../shared/domain/archive-record.js';
import type { ArchiveRoleRow } from '../../../coordinator/catalog/catalog-types.js';
import type { ContractContext } from './contract-context.js';
import { archive, fullArchive, server } from './catalog-fixtures.js';

/** The fields archiveStatesOf returns for `r`, without a role. */
function stateOf(r: ArchiveRecord): Record<string, unknown> {
  const { serverId, diskId, dataPath, lfn, mtimeMs, strpver, filesize, nblocks, regular, stripeMap, parseStatus, parseError, cdDigest } = r;
  const all: Record<string, unknown> = { serverId, diskId, dataPath, lfn, mtimeMs, strpver, filesize, nblocks, regular, stripeMap, parseStatus, parseError, cdDigest };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

const role = (r: ArchiveRecord, rl: ArchiveRoleRow['role'], reason: string = rl): ArchiveRoleRow => ({ serverId: r.serverId, diskId: r.diskId, dataPath: r.dataPath, lfn: r.lfn ?? '', role: rl, reason });

export function archiveStatesContract(c: ContractContext): void {
  it('archiveStatesOf: the classification fields of every archive, in key order, an entry for every LFN asked', async () => {
    const s = c.store();
    for (const id of ['srv01', 'srv02']) await s.putServer(server(id));
    const a2 = archive('srv02', 0, '/a');
    const a1 = fullArchive('srv01', 1, '/a');
    const a0 = archive('srv01', 0, '/a', { strpver: undefined, filesize: undefined });
    const b = archive('srv01', 0, '/b', { parseStatus: 'bad-cd', parseError: 'odd: "q" \\ \n\t\u0001 é 𝄞 \u0000 end' });
    await s.applyArchiveChanges('srv02', [a2], []);
    await s.applyArchiveChanges('srv01', [a1, b, a0], []);
    const got = await s.archiveStatesOf(['/a', '/none', '/a']);
    assert.deepEqual([...got.keys()].sort(), ['/a', '/none']);
    assert.deepEqual(got.get('/none'), []);
    assert.deepEqual(got.get('/a'), [stateOf(a0), stateOf(a1), stateOf(a2)]);
    assert.deepEqual((await s.archiveStatesOf(['/b'])).get('/b'), [stateOf(b)], 'any text comes back exactly');
    // the same archives, in the same order, as archivesOf
    const full = (await s.archivesOf(['/a'])).get('/a') ?? [];
    assert.deepEqual(full.map((x) => x.dataPath + x.serverId + x.diskId), (got.get('/a') ?? []).map((x) => x.dataPath + x.serverId + x.diskId));
  });

  it('archiveStatesOf reads stored roles; updateArchiveRoles writes only the archives named, current as no role', async () => {
    const s = c.store();
    await s.putServer(server('srv01'));
    const a = archive('srv01', 0, '/a');
    const old = archive('srv01', 1, '/a', { strpver: 1 });
    const b = archive('srv01', 0, '/b');
    await s.applyArchiveChanges('srv01', [a, old, b], []);
    await s.putArchiveRoles(['/b'], [role(b, 'orphan', 'alone')]);
    await s.updateArchiveRoles([role(old, 'superseded', 'kept'), role(a, 'current', 'strpver 1700000000')]);
    let got = await s.archiveStatesOf(['/a', '/b']);
    assert.deepEqual(got.get('/a')?.map((x) => [x.role, x.roleReason]), [[undefined, undefined], ['superseded', 'kept']]);
    assert.deepEqual(got.get('/b')?.map((x) => [x.role, x.roleReason]), [['orphan', 'alone']], 'not named: kept');
    await s.updateArchiveRoles([role(old, 'current')]);
    await s.updateArchiveRoles([]);
    got = await s.archiveStatesOf(['/a']);
    assert.deepEqual(got.get('/a')?.map((x) => x.role), [undefined, undefined]);
    assert.deepEqual((await s.listArchiveRoles(['superseded', 'orphan'], 10)).map((r) => r.lfn), ['/b']);
    assert.equal((await s.listArchiveRoles(['current'], 10)).length, 2);
    const ghost = { ...role(a, 'debris'), dataPath: 'public/00/nowhere%' };
    await s.updateArchiveRoles([ghost]); // an archive gone meanwhile: nothing to write
    assert.deepEqual((await s.listArchiveRoles(['debris'], 10)), []);
  });
}
