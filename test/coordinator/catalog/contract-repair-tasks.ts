// Contract: repair tasks (queue order, filters, counts, pruning, persistence, rejection).
import assert from 'node:assert/strict';
import type { RepairTaskRow } from '../../../shared/domain/repair-task.js';
import type { CatalogStore } from '../../../coordinator/catalog/catalog-store.js';
import type { ContractContext } from './contract-context.js';

export function repairTask(id: string, o: Partial<RepairTaskRow> = {}): RepairTaskRow {
  return {
    taskId: id, lfn: `/f/${id}`, state: 'queued', redundancy: 1, degradedSince: 1000, createdAt: 2000, updatedAt: 2000, attempt: 0, placed: [],
    plan: {
      lfn: `/f/${id}`, profile: { nbData: 4, nbParity: 2, chunkSize: 4096 }, strpver: 1700000000, filesize: 5000, crcKind: 'crc32c', xattrNamespace: 'user.U.',
      sources: [{ serverId: 's1', diskId: 's1-d0', dataPath: 'public/0A/x%' }], targets: [{ slot: 0, serverId: 's2', diskId: 's2-d1' }], bytesRead: 4096, bytesWritten: 1024,
    },
    ...o,
  };
}

export function repairTaskContract(c: ContractContext): void {
  it('lists in queue order: lowest redundancy, then longest degraded, then oldest', async () => {
    const s = c.store();
    await s.putRepairTasks([
      repairTask('a', { redundancy: 1, degradedSince: 10 }),
      repairTask('b', { redundancy: 0, degradedSince: 50 }),
      repairTask('c', { redundancy: 1, degradedSince: 5 }),
      repairTask('d', { redundancy: 0, degradedSince: 50, createdAt: 1 }),
    ]);
    assert.deepEqual((await s.listRepairTasks({})).map((t) => t.taskId), ['d', 'b', 'c', 'a']);
    assert.deepEqual((await s.listRepairTasks({ limit: 2 })).map((t) => t.taskId), ['d', 'b']);
  });

  it('round-trips a whole task and replaces it on put', async () => {
    const s = c.store();
    const t = repairTask('x', { progress: { phase: 'writing', blocksDone: 2, blocksTotal: 9, bytesRead: 10, bytesWritten: 5 }, executor: 's2', leaseUntil: 99, lastAttemptTargets: [{ slot: 3, serverId: 's4', diskId: 's4-d0' }] });
    await s.putRepairTasks([t]);
    assert.deepEqual(await s.getRepairTask('x'), t);
    const done = { ...t, state: 'done' as const, placed: [{ slot: 0, serverId: 's2', diskId: 's2-d1', dataPath: 'public/0B/y%', size: 1234, linked: true }] };
    await s.putRepairTasks([done]);
    assert.deepEqual(await s.getRepairTask('x'), done);
    assert.equal(await s.getRepairTask('nope'), undefined);
  });

  it('filters by state and LFN; counts by state', async () => {
    const s = c.store();
    await s.putRepairTasks([repairTask('a'), repairTask('b', { state: 'running' }), repairTask('c', { state: 'parked', lfn: '/f/a' })]);
    assert.deepEqual((await s.listRepairTasks({ states: ['running', 'parked'] })).map((t) => t.taskId).sort(), ['b', 'c']);
    assert.deepEqual((await s.listRepairTasks({ lfn: '/f/a' })).map((t) => t.taskId).sort(), ['a', 'c']);
    const counts = await s.repairTaskCounts();
    assert.equal(counts.queued, 1);
    assert.equal(counts.running, 1);
    assert.equal(counts.parked, 1);
    assert.equal(counts.done, 0);
  });

  it('prunes only finished tasks older than the cut', async () => {
    const s = c.store();
    await s.putRepairTasks([repairTask('old', { state: 'done', updatedAt: 10 }), repairTask('new', { state: 'done', updatedAt: 5000 }), repairTask('live', { state: 'queued', updatedAt: 1 })]);
    assert.equal(await s.pruneRepairTasks(100), 1);
    assert.deepEqual((await s.listRepairTasks({})).map((t) => t.taskId).sort(), ['live', 'new']);
  });

  it('replaced archives: per LFN in time order, added twice kept once, kept by clearAgentData', async () => {
    const s = c.store();
    const r1 = { lfn: '/a', serverId: 's8', diskId: 's8:/d0', dataPath: 'public/0A/x%', strpver: 7, taskId: 't1', at: 20 };
    const r0 = { lfn: '/a', serverId: 's9', diskId: 's9:/d1', dataPath: 'public/0B/y%', strpver: 7, taskId: 't1', at: 10 };
    await s.addReplacedArchives([r1, r0]);
    await s.addReplacedArchives([r1]);
    await s.clearAgentData();
    assert.deepEqual(await s.replacedFor(['/a', '/b']), new Map([['/a', [r0, r1]], ['/b', []]]));
  });

  it('rejects a task with an unknown state and applies nothing of the batch', async () => {
    const s = c.store();
    await assert.rejects(s.putRepairTasks([repairTask('ok'), repairTask('bad', { state: 'exploded' as never })]), (e: Error & { code?: string }) => e.code === 'STORE_REJECTED');
    assert.deepEqual(await s.listRepairTasks({}), []);
  });

  if (c.persistent) it('keeps tasks across reopening', async () => {
    await c.store().putRepairTasks([repairTask('p', { state: 'running', executor: 's9' })]);
    const s = await (c.reopen as () => Promise<CatalogStore>)();
    assert.equal((await s.getRepairTask('p'))?.executor, 's9');
  });
}
