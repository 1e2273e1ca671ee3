// A record an inventory sends but the coordinator refuses (here: blocks that do not fit the
// profile configured for its prefix) keeps its old catalog row. Swept at the inventory's end, it
// would have counted as a delete (the review of the sweep-as-unlink change): the file gone, its
// surviving archives debris. Real coordinator, real gRPC, synthetic agents doing a digest resync.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { Reclassifier } from '../../coordinator/health/reclassifier.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { SimAgent } from '../../cli/simulate/sim-agent.js';
import { SimPopulation, simDiskId, simDiskPath, simServerId } from '../../cli/simulate/sim-population.js';

const P21 = { nbData: 2, nbParity: 1, chunkSize: 65536 };

describe('coordinator: refused inventory records are not deletes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-refused-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Three synthetic agents resync by digest against a catalog holding their archives a millisecond
   * older (every bucket differs); file 4's records are refused (its prefix is configured 4+2).
   * `ghost`: the catalog also holds an archive no agent has any more (a delete its journal lost).
   */
  async function resync(o: { maxRejectedKeys?: number; ghost?: boolean }, check: (c: { store: ReturnType<typeof openCatalogStore>; eventLog: EventLog; pop: SimPopulation; victim: string }) => Promise<void>): Promise<void> {
    const pop = new SimPopulation({ servers: 3, disksPerServer: 1, profile: P21 });
    pop.hi = 12;
    // file 4 has 2 blocks of 2+1; under 4+2 (twice the block) it would have 1: its records are refused
    const victim = pop.lfn(4);
    assert.equal(pop.record(4, 0).nblocks, 2);
    const path = join(dir, 'catalog.db');
    const seed = openCatalogStore(path);
    for (let s = 0; s < 3; s++) {
      await seed.putServer({ serverId: simServerId(s), state: 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'before', inventoried: true });
      await seed.putDisk({ diskId: simDiskId(s, 0), serverId: simServerId(s), path: simDiskPath(0), space: 'public', state: 'online', since: 0, evidence: [] });
      // what the catalog held before: the same archives, a millisecond older (so every bucket differs)
      await seed.applyArchiveChanges(simServerId(s), [...pop.recordsOf(s)].map((r) => ({ ...r, mtimeMs: r.mtimeMs - 1 })), []);
    }
    if (o.ghost) await seed.applyArchiveChanges(simServerId(0), [{ ...pop.record(0, 0), dataPath: 'public/00/ghost%', lfn: '/sim/ghost' }], []);
    // and the file rows it had classified from them
    const cluster = new ClusterState(seed);
    await cluster.load();
    const recl = new Reclassifier(seed, cluster, () => P21, { writeSettleMs: 0 });
    recl.mark(Array.from({ length: 12 }, (_, f) => pop.lfn(f)));
    await recl.flush();
    assert.equal((await seed.getFile(victim))?.state, 'healthy');
    await seed.close();
    const eventLog = new EventLog(path);
    const store = openCatalogStore(path);
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, eventLog, heartbeatMs: 100, downAfterMs: 2000, safeModeTimeoutMs: 60_000, safeModeSettleMs: 200, writeSettleMs: 0,
      profile: P21, profilesByPrefix: [{ prefix: '/sim/run4/', profile: { nbData: 4, nbParity: 2, chunkSize: 65536 } }], ...(o.maxRejectedKeys !== undefined ? { maxRejectedKeys: o.maxRejectedKeys } : {}) });
    const port = await coord.start();
    const agents = [0, 1, 2].map((s) => new SimAgent(pop, s, { address: `127.0.0.1:${port}`, credentials: grpc.credentials.createInsecure(), batch: 100 }));
    try {
      for (const a of agents) a.restart(true); // journals lost: the coordinator asks for digests
      assert.deepEqual(await Promise.all(agents.map((a) => a.connect())), ['digest', 'digest', 'digest']);
      const end = Date.now() + 20_000;
      while ((await store.fileCounts()).healthy.count !== 12) {
        assert.ok(Date.now() < end, `every file healthy: ${JSON.stringify(await store.fileCounts())}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await coord.reclassifier.flush();
      assert.equal((await store.archivesOf([victim])).get(victim)?.length, 3, 'its three archives still counted (their old rows)');
      assert.equal((await store.getFile(victim))?.state, 'healthy');
      assert.deepEqual((await store.tombstonesFor([victim])).get(victim) ?? [], [], 'no tombstone');
      const deleted = eventLog.query({ types: ['file.deleted'] }).filter((e) => e.event.subject?.lfn === victim);
      assert.deepEqual(deleted, [], 'no file.deleted event');
      await check({ store, eventLog, pop, victim });
    } finally {
      for (const a of agents) a.close();
      await coord.stop();
      eventLog.close();
    }
  }

  it('a digest resync whose records of one file are all refused leaves that file as it was; a lost archive is swept', async function () {
    this.timeout(60_000);
    await resync({ ghost: true }, async ({ store, pop }) => {
      const mtimes = ((await store.archivesOf([pop.lfn(5)])).get(pop.lfn(5)) ?? []).map((a) => a.mtimeMs);
      assert.deepEqual(mtimes, [0, 1, 2].map(() => pop.record(5, 0).mtimeMs), 'the accepted records replaced the old rows');
      assert.equal((await store.archivesOf(['/sim/ghost'])).get('/sim/ghost')?.length, 0, 'the archive no agent holds is swept');
    });
  });

  it('more refusals than it keeps: that resync sweeps nothing at all', async function () {
    this.timeout(60_000);
    await resync({ ghost: true, maxRejectedKeys: 0 }, async ({ store }) => {
      assert.equal((await store.archivesOf(['/sim/ghost'])).get('/sim/ghost')?.length, 1, 'nothing swept: any absence may be a refusal');
    });
  });
});
