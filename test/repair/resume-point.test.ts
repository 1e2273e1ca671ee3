// What a retried task keeps of its targets' partial archives, when holders answer well, lie or
// fail: only an exact prefix (names and sizes as the task would send them now) is kept; garbage,
// a longer list or an error means starting that range over, never skipping a block.
import assert from 'node:assert/strict';
import { resumePoint } from '../../agent/repair/resume-point.js';
import type { KeptProgress } from '../../agent/stripes/placement-progress.js';
import type { StripeRebuild } from '../../shared/xrdec/rebuild/stripe-rebuild.js';

/** A rebuild of `blocks` blocks: target t gets obj.B.(8+t), 4096 bytes, in every block. */
function rebuild(blocks: number): StripeRebuild {
  return {
    blockCount: blocks,
    *expectedEntries(t: number) {
      for (let b = 0; b < blocks; b++) yield { name: `obj.${b}.${8 + t}`, block: b, size: 4096 };
    },
  } as unknown as StripeRebuild;
}
const have = (t: number, n: number, size = 4096): KeptProgress => ({ alreadyPlaced: false, entries: Array.from({ length: n }, (_, b) => ({ name: `obj.${b}.${8 + t}`, size })) });
const answer = (k: KeptProgress) => () => Promise.resolve(k);

describe('repair: resume point against what holders report', () => {
  it('keeps the shortest exact prefix over all targets', async () => {
    const problems: string[] = [];
    const r = await resumePoint(rebuild(20), [answer(have(0, 12)), answer(have(1, 7))], problems);
    assert.deepEqual(r, { fromBlock: 7, keep: [7, 7] });
    assert.deepEqual(problems, []);
  });

  it('garbage from a holder means starting over: wrong names, wrong sizes, absurd lists', async () => {
    const garbage: KeptProgress[] = [
      { alreadyPlaced: false, entries: [{ name: '../../etc/passwd', size: 4096 }, { name: 'obj.1.8', size: 4096 }] },
      have(0, 5, 1),
      { alreadyPlaced: false, entries: Array.from({ length: 100_000 }, () => ({ name: 'obj.0.8', size: 4096 })) },
      { alreadyPlaced: false, entries: [{ name: 'obj.0.8', size: -1 }] },
    ];
    for (const g of garbage) {
      const r = await resumePoint(rebuild(20), [answer(g), answer(have(1, 20))], []);
      assert.deepEqual(r, { fromBlock: g.entries.length === 100_000 ? 1 : 0, keep: g.entries.length === 100_000 ? [1, 1] : [0, 0] });
    }
  });

  it('a longer list than the task would send keeps no more than the task has', async () => {
    const r = await resumePoint(rebuild(5), [answer(have(0, 50))], []);
    assert.deepEqual(r, { fromBlock: 5, keep: [5] });
  });

  it('a holder that fails is a problem noted, and its range starts over', async () => {
    const problems: string[] = [];
    const r = await resumePoint(rebuild(10), [answer(have(0, 10)), () => Promise.reject(new Error('peer gone'))], problems);
    assert.deepEqual(r, { fromBlock: 0, keep: [0, 0] });
    assert.match(problems.join('; '), /target 1: cannot ask .*peer gone.*starting over/);
  });
});
