// A coordinator that was down is not a silence of its agents (found by review): after a restart,
// tasks in flight get a full lease, and verifying ones a full inventory wait, from the start,
// instead of failing at the first tick (LEASE_EXPIRED, parked on a last attempt, NOT_IN_INVENTORY)
// before any agent could reconnect and say what it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import { ClusterState } from '../../coordinator/cluster-state.js';
import { RepairManager } from '../../coordinator/repair/repair-manager.js';
import { DEFAULT_REPAIR } from '../../coordinator/repair/repair-settings.js';
import { assigned, newTask, progressed } from '../../coordinator/repair/task-transitions.js';
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const diskId = (s: string): string => `${s}:/data/disk0`;
const plan = (lfn: string) => ({ lfn, profile: P42, strpver: 1_700_000_000, filesize: 8 * 4096, xattrNamespace: 'user.U.' as const, sources: [], targets: [{ slot: 0, serverId: 's2', diskId: diskId('s2') }], bytesRead: 1, bytesWritten: 1 });

describe('repair after a coordinator restart', () => {
  let dir: string;
  let store: CatalogStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-rrestart-'));
    store = openSqliteCatalog(join(dir, 'c.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tasks in flight survive the first ticks while no agent has reconnected yet', async () => {
    const now = Date.now();
    const died = now - 180_000; // the previous coordinator died 3 minutes ago, mid-repair
    const cluster = new ClusterState(store);
    for (const s of ['s1', 's2', 's3']) {
      await cluster.putServer({ serverId: s, state: 'up', since: 0, lastSeen: died, appliedSeq: 0, instanceId: `i-${s}`, inventoried: true });
      await store.putDisk({ diskId: diskId(s), serverId: s, path: '/data/disk0', space: 'public', state: 'online', since: 0, evidence: [] });
    }
    await cluster.load();
    const base = (lfn: string): RepairTaskRow => newTask({ lfn, plan: plan(lfn), redundancy: 1, degradedSince: 0, now: died - 10_000 });
    const running = progressed(assigned(base('/d/running'), { executor: 's2', plan: plan('/d/running'), redundancy: 1, now: died - 5_000, leaseMs: 60_000 }),
      { taskId: 'x', attempt: 1, phase: 'writing', blocksDone: 1, blocksTotal: 9, bytesRead: 1, bytesWritten: 1, placed: [], sourceProblems: [], badEntries: [], badEntriesOmitted: 0 }, died, 60_000);
    let last = base('/d/last');
    for (let i = 0; i < DEFAULT_REPAIR.maxAttempts; i++) last = assigned(last, { executor: 's2', plan: plan('/d/last'), redundancy: 1, now: died - 5_000, leaseMs: 60_000 });
    last = { ...last, state: 'running', leaseUntil: died + 60_000 };
    const { leaseUntil: _l, ...v } = assigned(base('/d/verifying'), { executor: 's2', plan: plan('/d/verifying'), redundancy: 1, now: died - 5_000, leaseMs: 60_000 });
    const verifying: RepairTaskRow = { ...v, state: 'verifying', updatedAt: died, placed: [{ slot: 0, serverId: 's2', diskId: diskId('s2'), dataPath: 'public/0A/new%', size: 1, linked: true }] };
    await store.putRepairTasks([running, last, verifying]);
    const failures: string[] = [];
    const m = new RepairManager({
      store, cluster, profileFor: () => P42, gate: () => 'safe mode: waiting for inventories', session: () => undefined, sessions: () => [],
      reclassify: () => undefined, flushReclassify: async () => undefined,
      events: { repaired: () => undefined, repairFailed: (t) => failures.push(`${t.lfn} ${t.state} ${t.errorCode ?? ''}`) },
    }, { ...DEFAULT_REPAIR, tickMs: 3_600_000 });
    await m.start();
    try {
      await m.tick();
      await m.tick();
    } finally {
      m.stop();
    }
    const states = Object.fromEntries((await store.listRepairTasks({})).map((t) => [t.lfn, `${t.state} ${t.errorCode ?? ''}`.trim()]));
    assert.deepEqual(states, { '/d/running': 'running', '/d/last': 'running', '/d/verifying': 'verifying' });
    assert.deepEqual(failures, []);
  });

  it('a verifying task whose holder is gone for good is retried; one whose holder is briefly away waits', async () => {
    const now = Date.now();
    const cluster = new ClusterState(store);
    await cluster.putServer({ serverId: 'gone', state: 'lost', since: now - 10_000, lastSeen: now - 20_000, appliedSeq: 0, instanceId: 'i-g', inventoried: true });
    await cluster.putServer({ serverId: 'away', state: 'down', since: now - 10_000, lastSeen: now - 20_000, appliedSeq: 0, instanceId: 'i-a', inventoried: true });
    await cluster.load();
    const verifyingOn = (lfn: string, holder: string): RepairTaskRow => {
      const p = { ...plan(lfn), targets: [{ slot: 0, serverId: holder, diskId: diskId(holder) }] };
      const { leaseUntil: _l, ...v } = assigned(newTask({ lfn, plan: p, redundancy: 1, degradedSince: 0, now: now - 60_000 }), { executor: holder, plan: p, redundancy: 1, now: now - 30_000, leaseMs: 60_000 });
      return { ...v, state: 'verifying', updatedAt: now - 30_000, placed: [{ slot: 0, serverId: holder, diskId: diskId(holder), dataPath: 'public/0A/new%', size: 1, linked: true }] };
    };
    await store.putRepairTasks([verifyingOn('/d/gone', 'gone'), verifyingOn('/d/away', 'away')]);
    const m = new RepairManager({
      store, cluster, profileFor: () => P42, gate: () => 'safe mode', session: () => undefined, sessions: () => [],
      reclassify: () => undefined, flushReclassify: async () => undefined,
    }, { ...DEFAULT_REPAIR, tickMs: 3_600_000 });
    await m.start();
    try {
      await m.tick();
    } finally {
      m.stop();
    }
    const rows = Object.fromEntries((await store.listRepairTasks({})).map((t) => [t.lfn, `${t.state} ${t.errorCode ?? ''}`.trim()]));
    assert.deepEqual(rows, { '/d/gone': 'failed HOLDER_LOST', '/d/away': 'verifying' });
  });
});
