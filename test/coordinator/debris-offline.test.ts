// debris.found is for debris someone can act on: an archive that became debris on a disk that is
// not online (a duplicate left on a dead disk once repair rebuilt its stripes elsewhere, or an old
// version there) is announced when the disk is back, not while it is gone; never twice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { Reclassifier, type DebrisFound } from '../../coordinator/health/reclassifier.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';

const P21 = { nbData: 2, nbParity: 1, chunkSize: 1024 };
const V1 = 1_700_000_000;
const V0 = 1_600_000_000;
const LFN = '/data/f';

const rec = (s: number, o: Partial<ArchiveRecord> = {}): ArchiveRecord => ({
  serverId: `s${s}`, diskId: `s${s}:/d`, space: 'public', dataPath: `public/00/f${s}%`, lfn: LFN, size: 5000, mtimeMs: Date.now() - 3600_000, inode: s,
  strpver: V1, filesize: 3000, xattrNamespace: 'user.U.', nblocks: 2, nentries: 2, crcKind: 'crc32c', regular: true, parseStatus: 'ok', cdDigest: `d${s}`, ...o,
});

describe('reclassifier: debris on a disk that is not online is announced once it is back', () => {
  let dir: string;
  let store: CatalogStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-doff-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no debris.found while the disk is missing; one when it is online again; none on later passes', async () => {
    for (const s of [1, 2, 3, 4]) {
      await store.putServer({ serverId: `s${s}`, state: 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'i', inventoried: true });
      await store.putDisk({ diskId: `s${s}:/d`, serverId: `s${s}`, path: '/d', space: 'public', state: s === 4 ? 'missing' : 'online', since: 0, evidence: [] });
      await store.applyArchiveChanges(`s${s}`, [rec(s, s === 4 ? { strpver: V0 } : {})], []);
    }
    const cluster = new ClusterState(store);
    await cluster.load();
    const rc = new Reclassifier(store, cluster, () => P21, { flushMs: 1 });
    const found: DebrisFound[] = [];
    rc.on('debris', (d: DebrisFound[]) => found.push(...d));
    const pass = async (): Promise<void> => {
      rc.mark([LFN]);
      await rc.flush();
      await new Promise((r) => setImmediate(r));
    };
    await pass();
    assert.deepEqual((await store.listArchiveRoles(['debris'], 10)).map((r) => r.serverId), ['s4'], 'it is debris (listed)');
    assert.deepEqual(found, [], 'but not announced while its disk is missing');
    await pass();
    assert.deepEqual(found, []);
    await cluster.putDisk({ diskId: 's4:/d', serverId: 's4', path: '/d', space: 'public', state: 'online', since: 1, evidence: [] });
    await pass();
    assert.deepEqual((found as DebrisFound[]).map((d) => [d.serverId, d.kind]), [['s4', 'superseded']], 'announced once the disk is back');
    await pass();
    assert.equal(found.length, 1, 'and only once');
  });
});
