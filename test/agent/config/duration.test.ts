// Config durations: every unit, compound forms, and refusal of bare numbers and junk.
import assert from 'node:assert/strict';
import { parseDuration, tryParseDuration } from '../../../shared/config/duration.js';
import { UsageError } from '../../../shared/errors.js';

describe('parseDuration', () => {
  it('reads ms, s, m, h, d and compounds', () => {
    const cases: [string, number][] = [
      ['250ms', 250],
      ['30s', 30_000],
      ['10m', 600_000],
      ['6h', 21_600_000],
      ['1d', 86_400_000],
      ['1h30m', 5_400_000],
      ['1.5s', 1500],
      [' 2m ', 120_000],
      ['0s', 0],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('refuses bare numbers, unknown units, signs and junk with a UsageError', () => {
    for (const bad of ['6', '', 'soon', '6 h', '-1s', '1w', 'h', '1hh', '1.s', '1e3s']) {
      assert.equal(tryParseDuration(bad), undefined, bad);
      assert.throws(() => parseDuration(bad), (e: unknown) => e instanceof UsageError && e.message === `expected a duration like 30s, 10m or 6h, got ${JSON.stringify(bad)}`);
    }
  });
});
