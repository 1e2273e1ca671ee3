// A queued task's plan is refreshed when its file changes; that used to replace the targets its
// last attempt wrote to, so the retry could pick other targets and leave the partial archive
// behind on the old one, untold. The row now keeps the last attempt's targets: the retry goes
// back to them when it can, and a target it cannot use is told to drop its partial archive.
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
import { discardPartialsOf } from '../../coordinator/repair/partial-discard.js';
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import { archive, disk, file, server } from './catalog/catalog-fixtures.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const SERVERS = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];

describe('repair: a retry and the targets of the last attempt', () => {
  let dir: string;
  let store: CatalogStore;
  let cluster: ClusterState;
  let m: RepairManager;
  const connected = new Set<string>();
  const sent: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-rlast-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
    cluster = new ClusterState(store);
    for (const s of SERVERS) {
      await cluster.putServer(server(s, { state: 'up', lastSeen: Date.now(), inventoried: true }));
      await cluster.putDisk(disk(s, 0));
    }
    // 4+2 file with 5 archives on s0..s4: one target needed; s5 and s6 could take it.
    for (const s of SERVERS.slice(0, 5)) await store.applyArchiveChanges(s, [archive(s, 0, '/d/f')], []);
    await store.putFiles([file('/d/f', { state: 'degraded', redundancy: 1 })]);
    connected.clear();
    for (const s of SERVERS.slice(0, 6)) connected.add(s); // s6 not connected yet: s5 is the target
    sent.length = 0;
    const session = (serverId: string): RepairSession | undefined => connected.has(serverId)
      ? {
        serverId, stripesAddress: `127.0.0.1:1${serverId.slice(1)}`, sendTask: (t) => void sent.push(`${serverId} ${t.taskId}`),
        cancelTask: (id, _why, slots) => void sent.push(`${serverId} cancel ${id} [${(slots ?? []).join(',')}]`), sendThrottles: () => undefined, requestRescan: () => undefined,
      }
      : undefined;
    m = new RepairManager({
      store, cluster, profileFor: () => P42, gate: () => undefined, session, sessions: () => [...connected].map((s) => session(s) as RepairSession),
      reclassify: () => undefined, flushReclassify: async () => undefined,
    }, { ...DEFAULT_REPAIR, tickMs: 3_600_000, backoffMs: 1 });
  });
  afterEach(async () => {
    m.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const task = async (): Promise<RepairTaskRow> => (await store.listRepairTasks({ lfn: '/d/f' }))[0] as RepairTaskRow;
  /** Ticks until `cond` holds for the task (a kicked tick may be running: tick() then returns at once). */
  async function ticksUntil(cond: (t: RepairTaskRow) => boolean, what: string): Promise<RepairTaskRow> {
    for (let i = 0; i < 200; i++) {
      await m.tick();
      const t = await task();
      if (cond(t)) return t;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await task())}`);
  }

  /** Attempt 1 on s5 fails; the task is queued again with repair paused, and the file changes while s5 cannot take it: the refresh moves the plan to s6. */
  async function failThenRefreshAway(s5Unusable: () => Promise<void>): Promise<RepairTaskRow> {
    await m.run({ lfn: '/d/f' });
    const first = await ticksUntil((t) => t.state === 'assigned', 'attempt 1');
    assert.deepEqual(first.plan.targets.map((x) => x.serverId), ['s5']);
    assert.deepEqual(first.lastAttemptTargets, first.plan.targets, 'the row keeps the attempt\'s targets');
    await m.progress('s5', { taskId: first.taskId, attempt: first.attempt, phase: 'failed', blocksDone: 1, blocksTotal: 2, bytesRead: 0, bytesWritten: 10, placed: [], sourceProblems: [], badEntries: [], badEntriesOmitted: 0, errorCode: 'IO', error: 'EIO' });
    await m.setPaused(true);
    await ticksUntil((t) => t.state === 'queued', 'the requeue after the backoff');
    await s5Unusable();
    connected.add('s6');
    m.fileChanges([{ lfn: '/d/f', prev: file('/d/f', { state: 'degraded' }), next: file('/d/f', { state: 'degraded', reason: 'changed' }), anomalies: [] }]);
    // the planner refreshes the queued task (paused: nothing starts)
    const refreshed = await ticksUntil((t) => t.plan.targets[0]?.serverId !== 's5', 'the refresh');
    assert.deepEqual(refreshed.plan.targets.map((x) => x.serverId), ['s6'], 'the refresh moved the plan');
    assert.deepEqual(refreshed.lastAttemptTargets, first.plan.targets, 'the last attempt\'s targets stay');
    sent.length = 0;
    return first;
  }

  it('the retry goes back to the last attempt\'s target when it is usable again (and resumes there)', async () => {
    const first = await failThenRefreshAway(async () => void connected.delete('s5'));
    connected.add('s5');
    await m.setPaused(false);
    const second = await ticksUntil((t) => t.state === 'assigned', 'attempt 2');
    assert.equal(second.attempt, first.attempt + 1);
    assert.deepEqual(second.plan.targets, first.plan.targets, 'same server, disk and slot as attempt 1');
    assert.ok(!sent.some((x) => x.includes('cancel')), sent.join('; '));
  });

  it('a retry that cannot use the last attempt\'s target tells it to drop its partial archive', async () => {
    const first = await failThenRefreshAway(async () => {
      await cluster.putDisk({ ...(cluster.disk('s5:/data/disk0') as NonNullable<ReturnType<ClusterState['disk']>>), state: 'downgraded' });
    });
    await m.setPaused(false);
    const second = await ticksUntil((t) => t.state === 'assigned', 'attempt 2');
    assert.deepEqual(second.plan.targets.map((x) => x.serverId), ['s6']);
    assert.ok(sent.includes(`s5 cancel ${first.taskId} [${first.plan.targets[0]?.slot}]`), sent.join('; '));
    assert.deepEqual(second.lastAttemptTargets, second.plan.targets);
  });

  it('a task given up tells the last attempt\'s targets to drop their partials too, not only the refreshed plan\'s', async () => {
    const first = await failThenRefreshAway(async () => void connected.delete('s5'));
    connected.add('s5');
    discardPartialsOf([{ ...(await task()), state: 'parked' }], (id) => (connected.has(id) ? {
      serverId: id, stripesAddress: 'x:1', sendTask: () => undefined, sendThrottles: () => undefined, requestRescan: () => undefined,
      cancelTask: (tid, _why, slots) => void sent.push(`${id} cancel ${tid} [${(slots ?? []).join(',')}]`),
    } : undefined));
    assert.ok(sent.includes(`s5 cancel ${first.taskId} [${first.plan.targets[0]?.slot}]`), sent.join('; '));
  });
});
