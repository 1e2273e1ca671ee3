import assert from 'node:assert/strict';
import { EXP, LOG, cauchy1Generator, gfInv, gfMul, gfMulTable, invertMatrix } from '../../shared/codec/gf256.js';
import { subsets } from './helpers.js';

describe('gf256', () => {
  it('log/exp tables cover every non-zero element once', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 255; i++) seen.add(EXP[i]!);
    assert.equal(seen.size, 255);
    for (let x = 1; x < 256; x++) assert.equal(EXP[LOG[x]!], x);
  });

  it('mul matches carry-less multiplication mod 0x11D; inv is the inverse', () => {
    const slow = (a: number, b: number): number => {
      let r = 0;
      for (; b; b >>= 1) {
        if (b & 1) r ^= a;
        a <<= 1;
        if (a & 0x100) a ^= 0x11d;
      }
      return r;
    };
    const table = gfMulTable();
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        assert.equal(gfMul(a, b), slow(a, b));
        assert.equal(table[(a << 8) | b], slow(a, b));
      }
      if (a > 0) assert.equal(gfMul(a, gfInv(a)), 1);
    }
    assert.throws(() => gfInv(0), RangeError);
  });

  it('inverts every k×k submatrix of the generator for 4+2', () => {
    const k = 4;
    const g = cauchy1Generator(k, 2);
    for (const rows of [...subsets(6, 4)].filter((s) => s.length === k)) {
      const sub = new Uint8Array(k * k);
      rows.forEach((r, i) => sub.set(g.subarray(r * k, r * k + k), i * k));
      const inv = invertMatrix(sub, k);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let acc = 0;
          for (let t = 0; t < k; t++) acc ^= gfMul(sub[i * k + t]!, inv[t * k + j]!);
          assert.equal(acc, i === j ? 1 : 0, `rows [${rows}]`);
        }
      }
    }
    assert.throws(() => invertMatrix(new Uint8Array([1, 1, 1, 1]), 2), /singular/);
  });
});
