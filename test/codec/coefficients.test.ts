// The generator coefficients published in XRDEC-FORMAT.md §C, checked by encoding unit vectors.
import assert from 'node:assert/strict';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { cauchy1Generator } from '../../shared/codec/gf256.js';
import { nativeCodec, tsCodec } from './helpers.js';

const KNOWN: ReadonlyArray<{ k: number; m: number; rows: number[][] }> = [
  { k: 2, m: 1, rows: [[0x8e, 0xf4]] },
  { k: 4, m: 2, rows: [[0x47, 0xa7, 0x7a, 0xba], [0xa7, 0x47, 0xba, 0x7a]] },
  {
    k: 8,
    m: 2,
    rows: [
      [0xad, 0x9d, 0xdd, 0x98, 0x3d, 0xaa, 0x5d, 0x96],
      [0x9d, 0xad, 0x98, 0xdd, 0xaa, 0x3d, 0x96, 0x5d],
    ],
  },
  { k: 1, m: 1, rows: [[0x01]] },
];

/** Parity of unit vector e_j (one byte) is column j of the parity rows. */
function encodedColumns(codec: ErasureCodec, k: number, m: number): number[][] {
  const rows = Array.from({ length: m }, () => new Array<number>(k).fill(0));
  for (let j = 0; j < k; j++) {
    const data = Array.from({ length: k }, (_, i) => Buffer.from([i === j ? 1 : 0]));
    codec.encode(k, m, data, 1).forEach((p, r) => (rows[r]![j] = p[0]!));
  }
  return rows;
}

describe('XrdEc generator coefficients (XRDEC-FORMAT.md §C)', () => {
  for (const { k, m, rows } of KNOWN) {
    it(`${k}+${m}: ${rows.map((r) => r.map((c) => c.toString(16).padStart(2, '0')).join(' ')).join(' / ')}`, () => {
      const g = cauchy1Generator(k, m);
      assert.deepEqual(Array.from(g.subarray(k * k)), rows.flat(), 'gf256 generator');
      assert.deepEqual(encodedColumns(tsCodec, k, m), rows, 'typescript codec');
      assert.deepEqual(encodedColumns(nativeCodec(), k, m), rows, 'native codec');
    });
  }

  it('2+1 parity is not plain XOR', () => {
    const [p] = tsCodec.encode(2, 1, [Buffer.from([1]), Buffer.from([1])], 1);
    assert.equal(p![0], 0x8e ^ 0xf4);
    assert.notEqual(p![0], 0);
  });
});
