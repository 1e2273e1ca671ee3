// The byte token bucket behind the repair and scrub rate limits: it makes readers wait, and a
// reader whose signal is aborted stops waiting at once and takes nothing.
import assert from 'node:assert/strict';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';

describe('token bucket', () => {
  it('holds a rate: past the first second\'s burst, bytes wait', async () => {
    const b = new TokenBucket(1000);
    const t0 = Date.now();
    await b.take(1000); // the burst
    await b.take(300);
    assert.ok(Date.now() - t0 >= 250, `waited ${Date.now() - t0} ms for 300 bytes at 1000 B/s`);
  });

  it('an aborted wait ends at once and takes nothing; an already aborted one does not wait at all', async () => {
    const b = new TokenBucket(10);
    await b.take(1000); // 99 s of debt
    const ac = new AbortController();
    const t0 = Date.now();
    const waiting = b.take(5, ac.signal);
    setTimeout(() => ac.abort(), 50);
    await waiting;
    assert.ok(Date.now() - t0 < 2000, `returned after ${Date.now() - t0} ms`);
    const t1 = Date.now();
    await b.take(5, ac.signal);
    assert.ok(Date.now() - t1 < 500);
  });
});
