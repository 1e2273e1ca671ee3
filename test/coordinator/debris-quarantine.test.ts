// The coordinator's side of a quarantine (DESIGN.md §8.1): decided only on complete evidence,
// each archive re-classified from the catalog as it is at that moment, and acted on by the real
// agent code (quarantineArchive on real files; only the gRPC hop is left out).
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setAttributeSync } from 'fs-xattr';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quarantineArchive } from '../../agent/debris/quarantine-move.js';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { DebrisQuarantine } from '../../coordinator/debris/debris-quarantine.js';
import { Reclassifier, type DebrisFound } from '../../coordinator/health/reclassifier.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { QuarantineOrder, QuarantineResult } from '../../shared/domain/debris-order.js';
import type { EcguardError } from '../../shared/errors.js';
import { makeArchiveTemplate, writeArchive } from '../helpers/archive-factory.js';
import { LFN, P21, V0, V1, seedRecord } from '../helpers/catalog-seed.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

describe('coordinator: debris quarantine decisions', () => {
  let dir: string;
  let store: CatalogStore;
  let cluster: ClusterState;
  let site: FakeSite;
  let old: string;
  let safeMode: string | undefined;
  let orders: QuarantineOrder[];
  let answer: 'agent' | 'never';
  let d4State: string;
  let dq: DebrisQuarantine;
  const tpl = makeArchiveTemplate(3000, V0);

  const rec = (s: number, o: Partial<ArchiveRecord> = {}): ArchiveRecord => seedRecord(s, { filesize: 3000, nblocks: 2, nentries: 2, ...o });
  const classify = async (): Promise<DebrisFound[]> => {
    const rc = new Reclassifier(store, cluster, () => P21, { flushMs: 1 });
    const found: DebrisFound[] = [];
    rc.on('debris', (d: DebrisFound[]) => found.push(...d));
    rc.mark([LFN]);
    await rc.flush();
    return found;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-dq-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
    site = makeFakeSite({ serverId: 's4', disks: 1 });
    // s4 holds a real data file of the old version: what the agent re-checks is real
    old = site.store(LFN, 0, (p) => writeArchive(p, tpl));
    const st = lstatSync(old);
    const d4 = site.disks[0];
    assert.ok(d4);
    for (const s of [1, 2, 3, 4]) {
      await store.putServer({ serverId: `s${s}`, state: 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'i', inventoried: true });
      const diskId = s === 4 ? d4.diskId : `s${s}:/d`;
      await store.putDisk({ diskId, serverId: `s${s}`, path: s === 4 ? d4.path : '/d', space: 'public', state: 'online', since: 0, evidence: [] });
      const r = s === 4
        ? rec(4, { diskId, dataPath: old.slice(d4.path.length + 1), strpver: V0, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs, pfn: `${site.localroot}${LFN}`, nsPath: `${site.localroot}${LFN}` })
        : rec(s);
      await store.applyArchiveChanges(`s${s}`, [r], []);
    }
    cluster = new ClusterState(store);
    await cluster.load();
    await classify();
    safeMode = undefined;
    orders = [];
    answer = 'agent';
    d4State = 'online';
    dq = new DebrisQuarantine({
      store, cluster, profileFor: () => P21, gate: () => (safeMode !== undefined ? `safe mode: ${safeMode}` : undefined),
      session: (id) => ({
        sendQuarantine: (o) => {
          orders.push(o);
          if (answer === 'never') return;
          const r: QuarantineResult = quarantineArchive(o, { disk: (x) => (x === d4.diskId ? { path: d4.path, state: d4State } : undefined), namespaceRootOf: () => site.nsRoot, now: Date.now, retentionMs: 1000 });
          setImmediate(() => dq.onResult(id, r));
        },
      }),
    }, 200);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    site.cleanup();
  });

  it('moves an older version aside once the latest is healthy; the latest stays untouched', async () => {
    assert.deepEqual((await store.listArchiveRoles(['debris'], 10)).map((r) => r.serverId), ['s4']);
    const dry = await dq.run({ limit: 10, dryRun: true });
    assert.deepEqual(dry.map((a) => a.outcome), ['planned']);
    assert.equal(orders.length, 0, 'a dry run orders nothing');
    const r = await dq.run({ limit: 10, dryRun: false });
    assert.deepEqual(r.map((a) => [a.serverId, a.outcome]), [['s4', 'quarantined']], JSON.stringify(r));
    assert.equal(existsSync(old), false);
    assert.ok(existsSync(r[0]?.quarantinePath ?? ''));
    assert.equal(orders[0]?.inode, lstatSync(r[0]?.quarantinePath ?? '').ino, 'the order named the inode the catalog knew');
  });

  it('a damaged archive the scrub found, on its downgraded disk, is debris once the file is healthy without it, and is moved aside', async () => {
    // s4's archive is of the latest version now, found damaged by the scrub; s1..s3 hold every stripe
    setAttributeSync(old, 'user.U.xrdec.strpver', Buffer.from(String(V1)));
    const st = lstatSync(old);
    const d4 = site.disks[0];
    assert.ok(d4);
    await store.applyArchiveChanges('s4', [rec(4, {
      diskId: d4.diskId, dataPath: old.slice(d4.path.length + 1), strpver: V1, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs, pfn: `${site.localroot}${LFN}`, nsPath: `${site.localroot}${LFN}`,
      parseStatus: 'unreadable', parseError: 'scrub: 1 corrupt or unreadable stripe entry (obj.0.1)', nblocks: 0, nentries: 0, regular: false,
    })], []);
    await cluster.putDisk({ diskId: d4.diskId, serverId: 's4', path: d4.path, space: 'public', state: 'downgraded', since: 1, evidence: ['scrub'] });
    d4State = 'downgraded';
    // first s3's archive is missing too: the file is degraded, the damaged archive kept (corrupt)
    await store.applyArchiveChanges('s3', [], [{ diskId: 's3:/d', dataPath: 'public/00/f3%' }]);
    assert.deepEqual(await classify(), []);
    assert.deepEqual((await store.listArchiveRoles(['corrupt'], 10)).map((x) => x.serverId), ['s4']);
    assert.equal((await dq.run({ limit: 10, dryRun: true })).length, 0, 'nothing to move');
    // then the rebuild's archive arrives: whole without s4's, which becomes debris
    await store.applyArchiveChanges('s3', [rec(3)], []);
    const found = await classify();
    assert.deepEqual(found.map((d) => [d.serverId, d.kind]), [['s4', 'damaged']]);
    assert.match(found[0]?.reason ?? '', /damaged \(scrub: .*not needed/);
    const r = await dq.run({ limit: 10, dryRun: false });
    assert.deepEqual(r.map((a) => [a.serverId, a.outcome]), [['s4', 'quarantined']], JSON.stringify(r));
    assert.equal(existsSync(old), false);
    assert.ok(existsSync(r[0]?.quarantinePath ?? ''));
  });

  it('a stale debris role is re-checked: with the latest version no longer healthy, nothing is ordered', async () => {
    // s2's archive of the latest version is gone from the catalog; the roles are not rewritten yet
    await store.applyArchiveChanges('s2', [], [{ diskId: 's2:/d', dataPath: 'public/00/f2%' }]);
    const r = await dq.run({ limit: 10, dryRun: false });
    assert.equal(r[0]?.outcome, 'skipped');
    assert.match(r[0]?.reason ?? '', /no longer debris: superseded/);
    assert.equal(orders.length, 0);
    assert.ok(existsSync(old));
  });

  it('refuses as a whole in safe mode, and while a server is down or has not sent a full inventory', async () => {
    const refused = async (why: RegExp): Promise<void> => {
      await assert.rejects(dq.run({ limit: 10, dryRun: false }), (e: EcguardError) => e.code === 'EVIDENCE_INCOMPLETE' && why.test(e.message) && /nothing was moved/.test(e.message));
      assert.equal(orders.length, 0);
      assert.ok(existsSync(old));
    };
    safeMode = 'coordinator started 3 s ago';
    await refused(/safe mode: coordinator started/);
    safeMode = undefined;
    await cluster.updateServer('s3', { state: 'down' });
    await refused(/s3 is down/);
    await cluster.updateServer('s3', { state: 'up', inventoried: false });
    await refused(/s3 has not sent a full inventory/);
    await cluster.updateServer('s3', { state: 'lost', inventoried: false });
    // a server declared lost holds nothing that counts: its absence is no missing evidence (the
    // gate lets the run through), but the latest version is degraded without it, so s4's old
    // archive is superseded again, not debris: nothing to move
    await classify();
    assert.deepEqual(await dq.run({ limit: 10, dryRun: true }), []);
    assert.deepEqual((await store.listArchiveRoles(['superseded'], 10)).map((r) => r.serverId), ['s4']);
  });

  it('the holder\'s own re-check wins: a changed data file is refused and stays; no answer is a failure, not a success', async () => {
    writeFileSync(old, 'rewritten in place', { flag: 'a' });
    const r = await dq.run({ limit: 10, dryRun: false });
    assert.deepEqual([r[0]?.outcome, r[0]?.code], ['refused', 'ARCHIVE_CHANGED']);
    assert.ok(existsSync(old));
    answer = 'never';
    const n = await dq.run({ limit: 10, dryRun: false });
    assert.deepEqual([n[0]?.outcome, n[0]?.code], ['failed', 'NO_ANSWER']);
  });

  it('a file recorded as deleted whose archives left could still read it is never moved (a tombstone is an inference)', async () => {
    // a partition longer than server.downAfter while one stripe was unlinked looks like a delete
    await store.addTombstones([{ lfn: LFN, strpver: V1, at: Date.now(), reason: 'deleted on every up server while 2 archive(s) were on down servers' }]);
    await classify();
    assert.equal(await store.getFile(LFN), undefined, 'the catalog calls it deleted');
    const r = await dq.run({ limit: 10, dryRun: false });
    const by = new Map(r.map((a) => [a.serverId, a]));
    for (const s of ['s1', 's2', 's3']) {
      assert.equal(by.get(s)?.outcome, 'skipped', s);
      assert.match(by.get(s)?.reason ?? '', /enough to read it: not moved/);
    }
    // s4's old version is a different matter: one archive of strpver V0 cannot be read
    assert.equal(by.get('s4')?.outcome, 'quarantined', JSON.stringify(r));
    assert.deepEqual(orders.map((o) => o.diskId), [site.disks[0]?.diskId]);
  });
});
