// Safe mode's rules (DESIGN.md §4) on its own clock: every known server reports, or the timeout
// with a quorum; a server that said hello is waited for even when the catalog did not know it
// (found by review: a fresh coordinator left safe mode after the first inventory while other
// connected servers were still sending theirs); losing many servers at once re-enters.
import assert from 'node:assert/strict';
import { SafeMode } from '../../coordinator/safe-mode.js';

const opts = { timeoutMs: 60_000, quorum: 0.5, reenterFraction: 0.5, settleMs: 1000 };
const later = (ms: number): number => Date.now() + ms;

describe('safe mode', () => {
  it('a fresh catalog: waits for every server that connected, not only the first to report', () => {
    const sm = new SafeMode(opts);
    sm.connected('a');
    sm.connected('b');
    sm.reportedBy('a');
    sm.evaluate(later(opts.settleMs + 10));
    assert.equal(sm.isActive, true);
    assert.deepEqual(sm.status().waitingFor, ['b']);
    sm.reportedBy('b');
    sm.evaluate(later(opts.settleMs + 10));
    assert.equal(sm.isActive, false);
    assert.match(sm.status().reason, /every known server has reported/);
  });

  it('says whether an operator left it (the census waits for every server then), until it is entered again', () => {
    const sm = new SafeMode(opts);
    sm.setKnown(['a', 'b']);
    assert.equal(sm.overridden, false);
    sm.leave('an operator');
    assert.equal(sm.overridden, true);
    assert.deepEqual(sm.waiting(), ['a', 'b']);
    sm.enter('catalog rebuilt');
    assert.equal(sm.overridden, false);
    sm.reportedBy('a');
    sm.reportedBy('b');
    sm.evaluate(later(opts.settleMs + 10));
    assert.equal(sm.isActive, false);
    assert.equal(sm.overridden, false, 'ended by itself');
  });

  it('known servers from the catalog: ends when all reported, after the settle time', () => {
    const sm = new SafeMode(opts);
    sm.setKnown(['a', 'b']);
    sm.reportedBy('a');
    sm.reportedBy('b');
    assert.equal(sm.isActive, true, 'a report resets nothing, but the settle time has not passed since start');
    sm.evaluate(later(opts.settleMs + 10));
    assert.equal(sm.isActive, false);
  });

  it('the timeout ends it with a quorum, and names who is missing', () => {
    const sm = new SafeMode(opts);
    sm.setKnown(['a', 'b', 'c']);
    sm.reportedBy('a');
    sm.evaluate(later(opts.timeoutMs + 10));
    assert.equal(sm.isActive, true, '1 of 3 is below the quorum');
    sm.reportedBy('b');
    sm.evaluate(later(opts.timeoutMs + 10));
    assert.equal(sm.isActive, false);
    assert.match(sm.status().reason, /still missing: c/);
  });

  it('losing contact with more than the fraction re-enters; leave() overrides', () => {
    const sm = new SafeMode(opts);
    sm.setKnown(['a', 'b', 'c', 'd']);
    for (const s of ['a', 'b', 'c', 'd']) sm.reportedBy(s);
    sm.evaluate(later(opts.settleMs + 10));
    assert.equal(sm.isActive, false);
    sm.contactLost(['a', 'b']);
    assert.equal(sm.isActive, false, 'half is not more than half');
    sm.contactLost(['a', 'b', 'c']);
    assert.equal(sm.isActive, true);
    assert.deepEqual(sm.status().waitingFor, ['a', 'b', 'c']);
    assert.match(sm.leave('operator'), /3 server\(s\) had not reported: a, b, c/);
    assert.equal(sm.isActive, false);
  });
});
