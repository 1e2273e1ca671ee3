// Task transitions as pure functions: an operator's retry never reuses an attempt number (it
// names the run to the agents), and parking counts the attempts since that retry (found by review).
import assert from 'node:assert/strict';
import { DEFAULT_REPAIR } from '../../coordinator/repair/repair-settings.js';
import { assigned, failed, newTask, requeued } from '../../coordinator/repair/task-transitions.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const plan = { lfn: '/d/f', profile: P42, strpver: 1, filesize: 10, xattrNamespace: 'user.U.' as const, sources: [], targets: [{ slot: 0, serverId: 's7', diskId: 's7:/d' }], bytesRead: 0, bytesWritten: 0 };

describe('repair task transitions', () => {
  it('a retry after parking keeps counting attempt numbers up, and parks again only after maxAttempts more', () => {
    const settings = { ...DEFAULT_REPAIR, maxAttempts: 2 };
    let t = newTask({ lfn: '/d/f', plan, redundancy: 1, degradedSince: 0, now: 1 });
    const sent: number[] = [];
    for (let i = 0; i < 2; i++) {
      t = assigned(requeued(t, 10 + i), { executor: 's7', plan, redundancy: 1, now: 20 + i, leaseMs: 60_000 });
      sent.push(t.attempt);
      t = failed(t, { code: 'LEASE_EXPIRED', error: 'x', now: 30 + i, settings });
    }
    assert.equal(t.state, 'parked');
    t = requeued(t, 100, true); // `ecguard repair retry`
    t = assigned(t, { executor: 's7', plan, redundancy: 1, now: 110, leaseMs: 60_000 });
    sent.push(t.attempt);
    assert.deepEqual(sent, [1, 2, 3], 'attempt numbers never repeat');
    t = failed(t, { code: 'LEASE_EXPIRED', error: 'x', now: 120, settings });
    assert.equal(t.state, 'failed', 'one attempt since the retry: not parked yet');
    t = assigned(requeued(t, 130), { executor: 's7', plan, redundancy: 1, now: 140, leaseMs: 60_000 });
    t = failed(t, { code: 'LEASE_EXPIRED', error: 'x', now: 150, settings });
    assert.equal(t.state, 'parked');
  });
});
