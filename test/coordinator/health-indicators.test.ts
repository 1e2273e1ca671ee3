// Health indicators: raised once after the condition held, kept while it persists (no repeat),
// cleared once after it was gone long enough (no flapping), and carried across a restart
// without being announced again.
import assert from 'node:assert/strict';
import { HealthIndicators, type IndicatorInputs } from '../../coordinator/health/health-indicators.js';

const calm: IndicatorInputs = { placeableServers: 12, widestProfile: 10, unavailableFiles: 0, failingDisks: [], criticalFiles: 0 };

describe('health indicators', () => {
  it('each of the four is raised after its condition held, once, and cleared once', () => {
    const cases: [string, Partial<IndicatorInputs>][] = [
      ['insufficient-storage', { placeableServers: 9 }],
      ['last-copy-offline', { unavailableFiles: 3 }],
      ['disk-failing', { failingDisks: ['srv01:/disk/sdb'] }],
      ['low-durability', { criticalFiles: 7 }],
    ];
    for (const [name, bad] of cases) {
      const h = new HealthIndicators({ raiseAfterMs: 1000, clearAfterMs: 5000 });
      assert.deepEqual(h.evaluate(0, calm), []);
      assert.deepEqual(h.evaluate(100, { ...calm, ...bad }), [], `${name}: not before raiseAfterMs`);
      const raised = h.evaluate(1200, { ...calm, ...bad });
      assert.deepEqual(raised.map((c) => [c.indicator, c.active]), [[name, true]]);
      for (let t = 1300; t < 20_000; t += 700) assert.deepEqual(h.evaluate(t, { ...calm, ...bad }), [], `${name}: no repeat while it persists`);
      assert.equal(h.states()[name as keyof ReturnType<typeof h.states>].active, true);
      assert.deepEqual(h.evaluate(21_000, calm), []);
      assert.deepEqual(h.evaluate(23_000, { ...calm, ...bad }), [], 'a brief return does not re-raise (still active)');
      assert.deepEqual(h.evaluate(24_000, calm), [], 'clearing waits for clearAfterMs of calm');
      const cleared = h.evaluate(29_500, calm);
      assert.deepEqual(cleared.map((c) => [c.indicator, c.active]), [[name, false]]);
    }
  });

  it('a condition that flickers shorter than raiseAfterMs never raises', () => {
    const h = new HealthIndicators({ raiseAfterMs: 1000, clearAfterMs: 1000 });
    for (let t = 0; t < 10_000; t += 500) assert.deepEqual(h.evaluate(t, (t / 500) % 2 ? { ...calm, criticalFiles: 1 } : calm), []);
  });

  it('a restart keeps raised indicators without announcing them again', () => {
    const h = new HealthIndicators({ raiseAfterMs: 0, clearAfterMs: 0 });
    assert.equal(h.evaluate(0, { ...calm, criticalFiles: 2 }).length, 1);
    const saved = JSON.parse(JSON.stringify(h.states()));
    const after = new HealthIndicators({ raiseAfterMs: 0, clearAfterMs: 0 }, saved);
    assert.deepEqual(after.evaluate(10, { ...calm, criticalFiles: 2 }), []);
    assert.equal(after.states()['low-durability'].active, true);
    assert.deepEqual(after.evaluate(20, calm).map((c) => c.active), [false]);
  });
});
