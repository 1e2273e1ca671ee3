// The journal after an overflow (found by review): a full inventory as of seq S covers every
// entry up to S, so a change made while it streams is kept and replayable after S, instead of
// being dropped into a gap that forces the next full inventory, and the next, forever.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentDb } from '../../agent/state/agent-db.js';
import { DeltaJournal, type NewDelta } from '../../agent/state/delta-journal.js';

const rec = (i: number): NewDelta => ({ kind: 'remove', diskId: 'd', dataPath: `public/0A/f${i}%`, cause: 'rescan' });

describe('delta journal: overflow and the snapshot that covers it', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a change during the full inventory is kept and replays after the snapshot, with no gap', () => {
    const j = new DeltaJournal(openAgentDb(dir), 3);
    j.append([1, 2, 3, 4, 5].map(rec));
    const stats = j.stats();
    assert.notEqual(stats.overflowSince, undefined, 'overflowed');
    const asOf = stats.lastSeq;
    assert.equal(j.replay(asOf - 5).gap, true, 'what was dropped cannot be replayed');
    j.coveredBySnapshot(asOf); // the full inventory as of asOf is being sent
    j.append([rec(6)]);
    const rep = j.replay(asOf);
    assert.equal(rep.gap, false);
    assert.deepEqual(rep.deltas.map((d) => d.seq), [asOf + 1]);
  });
});
