// The liveness monitor: silence over downAfterMs marks a server, and the coordinator's own
// stalls (a late check) are not counted against the agents.
import assert from 'node:assert/strict';
import { LivenessMonitor } from '../../coordinator/liveness-monitor.js';

describe('liveness monitor', () => {
  const make = (): { m: LivenessMonitor; clock: { t: number } } => {
    const clock = { t: 1_000_000 };
    return { m: new LivenessMonitor({ downAfterMs: 4000, intervalMs: 1000, now: () => clock.t }), clock };
  };

  it('a server silent longer than downAfterMs is reported, one heard from is not', () => {
    const { m, clock } = make();
    m.seen('a');
    m.seen('b');
    for (let i = 0; i < 5; i++) {
      clock.t += 1000;
      m.seen('b');
      assert.deepEqual(m.silent(['a', 'b']), i < 4 ? [] : [{ serverId: 'a', silentMs: 5000 }]);
    }
  });

  it('a server never heard from counts as silent since forever; graceAll gives everyone a full period', () => {
    const { m, clock } = make();
    assert.equal(m.silent(['x'])[0]?.serverId, 'x');
    m.graceAll(['x']);
    clock.t += 3999;
    assert.deepEqual(m.silent(['x']), []);
  });

  it('a start grace longer than one period: nobody silent before it ends, a server heard from is judged as usual, one never heard from is silent after', () => {
    const { m, clock } = make();
    m.graceAll(['x', 'y'], 40_000); // an agent may be waiting out its longest retry
    const tick = (ms: number): string[] => {
      let out: string[] = [];
      for (let i = 0; i < ms / 1000; i++) {
        clock.t += 1000; // checks every period, as the coordinator runs them (no stall)
        out = m.silent(['x', 'y']).map((s) => s.serverId);
      }
      return out;
    };
    assert.deepEqual(tick(30_000), [], 'past one period, still within the grace');
    m.seen('y');
    assert.deepEqual(tick(5000), ['y'], 'heard from: the usual period from then');
    assert.deepEqual(tick(5000), ['x', 'y'], 'never heard from: silent once the grace is over');
  });

  it('a coordinator stall is forgiven: checks resuming after 10 s of pause do not mark anyone down', () => {
    const { m, clock } = make();
    m.seen('a');
    clock.t += 1000;
    assert.deepEqual(m.silent(['a']), []);
    clock.t += 10_000; // the event loop was blocked: the agent's heartbeats wait unread
    assert.deepEqual(m.silent(['a']), [], 'the stall is not the agent\'s silence');
    assert.equal(m.forgivenMs, 9000);
    // ... but real silence after the stall still counts (2 s of it so far)
    for (let i = 0; i < 2; i++) {
      clock.t += 1000;
      assert.deepEqual(m.silent(['a']), []);
    }
    clock.t += 1000;
    assert.equal(m.silent(['a'])[0]?.serverId, 'a');
  });

  it('a slightly late check (less than one interval) forgives nothing', () => {
    const { m, clock } = make();
    m.seen('a');
    m.silent(['a']);
    clock.t += 1900;
    m.silent(['a']);
    assert.equal(m.forgivenMs, 0);
  });

  it('a per-server limit: a syncing server gets longer than --down-after, the others do not', () => {
    let t = 0;
    const m = new LivenessMonitor({ downAfterMs: 1000, intervalMs: 250, now: () => t });
    m.seen('syncing');
    m.seen('live');
    const limit = (id: string): number => (id === 'syncing' ? 10_000 : 1000);
    for (; t <= 5000; t += 250) {
      const ids = m.silent(['syncing', 'live'], limit).map((x) => x.serverId);
      assert.deepEqual(ids, t > 1000 ? ['live'] : [], `at ${t} ms`);
    }
    for (; t <= 10_250; t += 250) m.silent(['syncing'], limit);
    assert.deepEqual(m.silent(['syncing'], limit).map((x) => x.serverId), ['syncing'], 'silent past its own limit: down');
  });
});
