// Contract: file rows, every listFiles filter with keyset pagination, counts per state, and
// archive roles.
import assert from 'node:assert/strict';
import { FILE_STATES } from '../../../shared/domain/file-health.js';
import type { FileRow } from '../../../coordinator/catalog/catalog-types.js';
import type { EcguardError } from '../../../shared/errors.js';
import type { ContractContext } from './contract-context.js';
import { archive, bareFile, file, server } from './catalog-fixtures.js';

const lfnsOf = (rows: readonly FileRow[]): string[] => rows.map((r) => r.lfn);

export function filesContract(c: ContractContext): void {
  it('file rows round-trip with every optional field present and absent; put updates, delete removes', async () => {
    const s = c.store();
    const full = file('/f/full', { state: 'degraded', redundancy: 1 });
    const bare = bareFile('/f/bare');
    await s.putFiles([full, bare]);
    assert.deepEqual(await s.getFile('/f/full'), full);
    assert.deepEqual(await s.getFile('/f/bare'), bare);
    assert.equal(await s.getFile('/f/none'), undefined);
    assert.deepEqual(await s.filesOf(['/f/bare', '/f/none', '/f/full']), new Map([['/f/bare', bare], ['/f/full', full]]));
    const changed = bareFile('/f/full', { state: 'lost' }); // optional fields go away on update too
    await s.putFiles([changed]);
    assert.deepEqual(await s.getFile('/f/full'), changed);
    const bad = { ...file('/f/bad'), state: 'fine' } as unknown as FileRow;
    await assert.rejects(s.putFiles([file('/f/other'), bad]), (e: unknown) => (e as EcguardError).code === 'STORE_REJECTED');
    assert.equal(await s.getFile('/f/other'), undefined, 'a rejected batch of file rows applies nothing');
    await s.deleteFiles(['/f/bare', '/f/never']);
    assert.deepEqual(lfnsOf(await s.listFiles({})), ['/f/full']);
  });

  describe('listFiles', () => {
    beforeEach(async () => {
      const s = c.store();
      for (const id of ['srv01', 'srv02']) await s.putServer(server(id));
      await s.putFiles([
        file('/data/a', { state: 'healthy', createdAt: 100 }),
        file('/data/b', { state: 'degraded', createdAt: 200 }),
        file('/data/c', { state: 'critical', createdAt: 300 }),
        bareFile('/data/d'), // pending, no createdAt
        file('/dat', { state: 'degraded', createdAt: 400 }),
        file('/data/é%_', { state: 'lost', createdAt: 500 }),
        file('/datb/x', { state: 'healthy', createdAt: 600 }),
      ]);
      await s.applyArchiveChanges('srv01', [archive('srv01', 0, '/data/a'), archive('srv01', 1, '/data/b'), archive('srv01', 0, '/data/c')], []);
      await s.applyArchiveChanges('srv02', [archive('srv02', 0, '/data/b'), archive('srv02', 0, '/data/a')], []);
    });

    it('filters by state, prefix, creation time, server and disk, in LFN order', async () => {
      const s = c.store();
      assert.deepEqual(lfnsOf(await s.listFiles({})), ['/dat', '/data/a', '/data/b', '/data/c', '/data/d', '/data/é%_', '/datb/x']);
      assert.deepEqual(lfnsOf(await s.listFiles({ states: ['degraded'] })), ['/dat', '/data/b']);
      assert.deepEqual(lfnsOf(await s.listFiles({ states: ['critical', 'lost', 'degraded'] })), ['/dat', '/data/b', '/data/c', '/data/é%_']);
      assert.deepEqual(await s.listFiles({ states: [] }), []);
      assert.deepEqual(lfnsOf(await s.listFiles({ prefix: '/data/' })), ['/data/a', '/data/b', '/data/c', '/data/d', '/data/é%_']);
      assert.deepEqual(lfnsOf(await s.listFiles({ prefix: '/data/é%' })), ['/data/é%_'], 'LIKE wildcards are plain characters');
      assert.deepEqual(lfnsOf(await s.listFiles({ prefix: '/dat' })).length, 7);
      assert.deepEqual(lfnsOf(await s.listFiles({ prefix: '/data/\u{10FFFF}' })), []);
      assert.deepEqual(lfnsOf(await s.listFiles({ createdSince: 300 })), ['/dat', '/data/c', '/data/é%_', '/datb/x']);
      assert.deepEqual(lfnsOf(await s.listFiles({ serverId: 'srv02' })), ['/data/a', '/data/b']);
      assert.deepEqual(lfnsOf(await s.listFiles({ diskId: 'srv01:/data/disk0' })), ['/data/a', '/data/c']);
      assert.deepEqual(lfnsOf(await s.listFiles({ serverId: 'srv01', states: ['degraded', 'critical'] })), ['/data/b', '/data/c']);
      assert.deepEqual(lfnsOf(await s.listFiles({ diskId: 'srv01:/data/disk0', createdSince: 150, prefix: '/data/' })), ['/data/c']);
      assert.deepEqual(await s.listFiles({ serverId: 'srv09' }), []);
      assert.deepEqual((await s.listFiles({ prefix: '/data/b' }))[0], file('/data/b', { state: 'degraded', createdAt: 200 }));
    });

    it('pages with limit and after (keyset), with and without filters', async () => {
      const s = c.store();
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await s.listFiles({ limit: 3, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) break;
        pages.push(lfnsOf(page));
        after = page[page.length - 1]!.lfn;
      }
      assert.deepEqual(pages, [['/dat', '/data/a', '/data/b'], ['/data/c', '/data/d', '/data/é%_'], ['/datb/x']]);
      assert.deepEqual(lfnsOf(await s.listFiles({ states: ['degraded', 'healthy'], after: '/data/a', limit: 2 })), ['/data/b', '/datb/x']);
      assert.deepEqual(lfnsOf(await s.listFiles({ serverId: 'srv01', after: '/data/a', limit: 1 })), ['/data/b']);
      assert.deepEqual(await s.listFiles({ limit: 0 }), []);
    });
  });

  it('fileCounts has every state, zero when none, with bytes', async () => {
    const s = c.store();
    const zero = Object.fromEntries(FILE_STATES.map((st) => [st, { count: 0, bytes: 0 }]));
    assert.deepEqual(await s.fileCounts(), zero);
    await s.putFiles([file('/a', { bytes: 10 }), file('/b', { bytes: 5 }), file('/c', { state: 'lost', bytes: 7 }), bareFile('/d')]);
    assert.deepEqual(await s.fileCounts(), { ...zero, healthy: { count: 2, bytes: 15 }, lost: { count: 1, bytes: 7 }, pending: { count: 1, bytes: 0 } });
  });

  it('fileCounts follows state changes, re-puts, deletions, a reopen and a wipe (kept as rows are written, not counted on read)', async () => {
    const zero = Object.fromEntries(FILE_STATES.map((st) => [st, { count: 0, bytes: 0 }]));
    await c.store().putFiles([file('/a', { bytes: 10 }), file('/b', { bytes: 5 }), file('/c', { state: 'lost', bytes: 7 })]);
    // /a degraded and grown, /b put again unchanged, /c deleted, an unknown deletion
    await c.store().putFiles([file('/a', { state: 'degraded', bytes: 12 }), file('/b', { bytes: 5 })]);
    await c.store().deleteFiles(['/c', '/nosuch']);
    const want = { ...zero, healthy: { count: 1, bytes: 5 }, degraded: { count: 1, bytes: 12 } };
    assert.deepEqual(await c.store().fileCounts(), want);
    if (c.reopen) {
      await c.reopen();
      assert.deepEqual(await c.store().fileCounts(), want, 'kept across a reopen');
    }
    await c.store().clearAgentData();
    assert.deepEqual(await c.store().fileCounts(), zero);
    await c.store().putFiles([file('/e', { state: 'critical', bytes: 3 })]);
    assert.deepEqual(await c.store().fileCounts(), { ...zero, critical: { count: 1, bytes: 3 } }, 'counted again after the wipe');
  });

  it('archive roles: replaced per LFN, listed by role with a limit, kept by unchanged re-sends', async () => {
    const s = c.store();
    for (const id of ['srv01', 'srv02']) await s.putServer(server(id));
    const a1 = archive('srv01', 0, '/a');
    const a2 = archive('srv02', 0, '/a');
    const old = archive('srv02', 1, '/a', { dataPath: 'public/0F/old%', strpver: 1 });
    const b1 = archive('srv01', 0, '/b');
    await s.applyArchiveChanges('srv01', [a1, b1], []);
    await s.applyArchiveChanges('srv02', [a2, old], []);
    const role = (r: typeof a1, lfn: string, rl: 'current' | 'debris' | 'orphan' | 'corrupt', reason: string = rl) => ({ serverId: r.serverId, diskId: r.diskId, dataPath: r.dataPath, lfn, role: rl, reason });
    await s.putArchiveRoles(['/a', '/b'], [role(a1, '/a', 'current'), role(a2, '/a', 'current'), role(old, '/a', 'debris', 'older strpver, latest healthy'), role(b1, '/b', 'orphan')]);
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan'], 10), [role(old, '/a', 'debris', 'older strpver, latest healthy'), role(b1, '/b', 'orphan')]);
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan'], 1), [role(old, '/a', 'debris', 'older strpver, latest healthy')]);
    assert.equal((await s.listArchiveRoles(['current'], 10)).length, 2);
    assert.deepEqual(await s.listArchiveRoles([], 10), []);
    // narrowed in the query, before the limit: a server's or a prefix's rows past the first N of all
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan'], 1, { serverId: 'srv01' }), [role(b1, '/b', 'orphan')]);
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan'], 1, { lfnPrefix: '/b' }), [role(b1, '/b', 'orphan')]);
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan'], 10, { serverId: 'srv02', lfnPrefix: '/b' }), []);
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan'], 10, { lfnPrefix: '%' }), [], 'a prefix is text, not a pattern');
    assert.equal((await s.listArchiveRoles(['current'], 10, { serverId: 'srv01' })).length, 1);
    await s.applyArchiveChanges('srv02', [old], []);
    assert.equal((await s.listArchiveRoles(['debris'], 10)).length, 1, 'an unchanged re-send keeps the role');
    // replacing /a's roles without `old` clears its role; /b keeps its own
    await s.putArchiveRoles(['/a'], [role(a1, '/a', 'corrupt', 'bad CRC'), role(a2, '/a', 'current')]);
    assert.deepEqual(await s.listArchiveRoles(['debris', 'orphan', 'corrupt'], 10), [role(a1, '/a', 'corrupt', 'bad CRC'), role(b1, '/b', 'orphan')]);
    const current = (await s.listArchiveRoles(['current'], 10)).sort((x, y) => x.dataPath.localeCompare(y.dataPath) || x.serverId.localeCompare(y.serverId));
    assert.deepEqual(current, [{ ...role(a2, '/a', 'current'), reason: `strpver ${a2.strpver}` }, { ...role(old, '/a', 'current'), reason: 'strpver 1' }], 'current is the default of an archive without another role');
  });

  it('lfnsCountedOnDisk: files with an archive on the disk that counts (current or unclassified)', async () => {
    const s = c.store();
    await s.putServer(server('srv01'));
    const a = archive('srv01', 0, '/a');
    const b = archive('srv01', 0, '/b');
    const bOld = archive('srv01', 0, '/b', { dataPath: 'public/0F/b-old%', strpver: 1 });
    const d = archive('srv01', 0, '/d');
    const other = archive('srv01', 1, '/e');
    await s.applyArchiveChanges('srv01', [a, b, bOld, d, other], []);
    const role = (r: typeof a, rl: 'current' | 'debris' | 'superseded') => ({ serverId: r.serverId, diskId: r.diskId, dataPath: r.dataPath, lfn: r.lfn ?? '', role: rl, reason: rl });
    assert.deepEqual(await s.lfnsCountedOnDisk(a.diskId), ['/a', '/b', '/d'], 'unclassified archives count');
    await s.putArchiveRoles(['/a', '/b', '/d'], [role(a, 'current'), role(b, 'current'), role(bOld, 'superseded'), role(d, 'debris')]);
    assert.deepEqual(await s.lfnsCountedOnDisk(a.diskId), ['/a', '/b'], '/d only has debris there');
    assert.deepEqual(await s.lfnsOnDisk(a.diskId), ['/a', '/b', '/d']);
    assert.deepEqual(await s.lfnsCountedOnDisk('nowhere'), []);
    assert.deepEqual(await s.lfnsCountedOnDisk(a.diskId, { limit: 1 }), ['/a'], 'a page');
    assert.deepEqual(await s.lfnsCountedOnDisk(a.diskId, { after: '/a', limit: 1 }), ['/b'], 'the next page starts after the last LFN');
    assert.deepEqual(await s.lfnsCountedOnDisk(a.diskId, { after: '/b', limit: 5 }), [], 'past the end: empty');
  });
}
