// `ecguard repair status` says why a queued task does not start: sources unreachable, no
// target server able to execute it. Before, the dispatcher skipped such tasks silently and the
// operator saw them queued with no reason.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import type { RepairSession } from '../../coordinator/repair/repair-host.js';
import { RepairManager } from '../../coordinator/repair/repair-manager.js';
import { DEFAULT_REPAIR } from '../../coordinator/repair/repair-settings.js';
import { archive, disk, file, server } from './catalog/catalog-fixtures.js';
import { taskInfo } from '../../coordinator/admin/admin-repair.js';
import { repairStatusText } from '../../cli/commands/repair.js';
import { REPAIR_TASK_STATES } from '../../shared/domain/repair-task.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const SERVERS = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];

describe('repair: why a queued task is held', () => {
  let dir: string;
  let store: CatalogStore;
  const managers: RepairManager[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-rheld-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) m.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function manager(connected: Set<string>, sent: string[], lfns = ['/d/f']): Promise<RepairManager> {
    const cluster = new ClusterState(store);
    clusterOf = cluster;
    for (const s of SERVERS) {
      await cluster.putServer(server(s, { state: 'up', lastSeen: Date.now(), inventoried: true }));
      await store.putDisk(disk(s, 0));
    }
    await cluster.load();
    // 4+2 file with 5 archives on s0..s4: one lost, degraded.
    for (const s of SERVERS.slice(0, 5)) await store.applyArchiveChanges(s, lfns.map((l) => archive(s, 0, l)), []);
    await store.putFiles(lfns.map((l) => file(l, { state: 'degraded', redundancy: 1 })));
    const session = (serverId: string): RepairSession | undefined => connected.has(serverId)
      ? {
        serverId, stripesAddress: `127.0.0.1:1${serverId.slice(1)}`, sendTask: (t) => void sent.push(`${serverId} ${t.taskId}`),
        cancelTask: (id, _why, slots) => void sent.push(`${serverId} cancel ${id} [${(slots ?? []).join(',')}]`), sendThrottles: () => undefined, requestRescan: () => undefined,
      }
      : undefined;
    const m = new RepairManager({
      store, cluster, profileFor: () => P42, gate: () => undefined, session, sessions: () => [...connected].map((s) => session(s) as RepairSession),
      reclassify: () => undefined, flushReclassify: async () => undefined,
    }, { ...DEFAULT_REPAIR, tickMs: 3_600_000, auto: false });
    managers.push(m);
    return m;
  }

  /** The tick run() kicked off has dispatched: `done` holds (the manager ticks one at a time). */
  async function settled(m: RepairManager, done: (s: Awaited<ReturnType<RepairManager['status']>>) => boolean): Promise<Awaited<ReturnType<RepairManager['status']>>> {
    for (let i = 0; i < 200; i++) {
      await m.tick();
      const s = await m.status(10, false);
      if (done(s)) return s;
      await new Promise((r) => setTimeout(r, 10));
    }
    return m.status(10, false);
  }
  let clusterOf: ClusterState | undefined;

  it('names the unreachable sources, then starts the task once they are back', async () => {
    const connected = new Set(['s0', 's5', 's6']); // s1..s4 hold sources but are not connected
    const sent: string[] = [];
    const m = await manager(connected, sent);
    const plans = await m.run({ lfn: '/d/f' });
    assert.deepEqual(plans.map((p) => p.decision.kind), ['plan']);
    let s = await settled(m, (x) => x.held.size > 0);
    const [t] = s.tasks;
    assert.equal(t?.state, 'queued');
    const why = s.held.get(t?.taskId ?? '') ?? '';
    assert.match(why, /only 1 of the 4 sources needed are reachable \(s1, s2, s3, s4 not connected/);
    assert.deepEqual(sent, []);
    // what the operator sees
    const info = taskInfo(t as NonNullable<typeof t>, why);
    assert.equal(info.held, why);
    const text = repairStatusText({ paused: false, gate: '', tasksByState: REPAIR_TASK_STATES.map((st) => ({ state: st, count: 0, bytes: 0 })), tasks: [info], bytesPerS: 0, bytesRebuilt: 0, tasksDone: 0, waiting: 0, waitingExamples: [] });
    assert.match(text, /held because/);
    assert.match(text, /only 1 of the 4 sources/);

    for (const x of ['s1', 's2', 's3', 's4']) connected.add(x);
    s = await settled(m, (x) => x.tasks[0]?.state !== 'queued');
    assert.equal(s.tasks[0]?.state, 'assigned');
    assert.equal(s.held.size, 0, 'no reason left once it runs');
    assert.equal(sent.length, 1);
  });

  it('names the target server whose task slots are full', async () => {
    const connected = new Set(['s0', 's1', 's2', 's3', 's4', 's5']); // one spare: s5
    const sent: string[] = [];
    const m = await manager(connected, sent, ['/d/f', '/d/g']);
    await m.setThrottles({ perAgentTasks: 1 });
    await m.run({ lfn: '/d/f' });
    await m.run({ lfn: '/d/g' });
    const s = await settled(m, (x) => x.held.size > 0);
    const queued = s.tasks.filter((t) => t.state === 'queued');
    assert.equal(queued.length, 1);
    assert.equal(sent.length, 1);
    assert.match(s.held.get(queued[0]?.taskId ?? '') ?? '', /no target server can execute it: s5 already run\(s\) 1 task\(s\) \(per-agent limit\)/);
  });

  it('a target an earlier attempt had and this one has not is told to drop its partial archive', async () => {
    const connected = new Set(['s0', 's1', 's2', 's3', 's4', 's5']); // one spare: s5
    const sent: string[] = [];
    const m = await manager(connected, sent);
    await m.run({ lfn: '/d/f' });
    let s = await settled(m, (x) => x.tasks[0]?.state === 'assigned');
    const first = s.tasks[0];
    assert.deepEqual(first?.plan.targets.map((x) => x.serverId), ['s5']);
    // the attempt fails; meanwhile s5's disk fails and s6 comes: the next attempt writes to s6
    await clusterOf?.putDisk({ ...(clusterOf.disk('s5:/data/disk0') as NonNullable<ReturnType<ClusterState['disk']>>), state: 'failed' });
    connected.add('s6');
    await m.progress('s5', { taskId: first?.taskId ?? '', attempt: first?.attempt ?? 0, phase: 'failed', blocksDone: 0, blocksTotal: 2, bytesRead: 0, bytesWritten: 10, placed: [], sourceProblems: [], badEntries: [], badEntriesOmitted: 0, errorCode: 'IO', error: 'EIO' });
    sent.length = 0;
    s = await settled(m, (x) => x.tasks[0]?.state === 'assigned' && x.tasks[0]?.attempt !== first?.attempt);
    assert.deepEqual(s.tasks[0]?.plan.targets.map((x) => x.serverId), ['s6']);
    assert.ok(sent.includes(`s5 cancel ${first?.taskId} [${first?.plan.targets[0]?.slot}]`), sent.join('; '));
    assert.ok(sent.some((x) => x.startsWith('s6 ') && !x.includes('cancel')), 'the new attempt goes to s6');
  });
});
