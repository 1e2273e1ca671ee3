// Bad arguments throw TypeError/RangeError naming the problem, from both codecs and the raw
// addon, instead of crashing inside ISA-L or silently producing garbage.
import assert from 'node:assert/strict';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { loadNativeAddon } from '../../shared/codec/native-codec.js';
import { nativeCodec, tsCodec } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- deliberately wrong types */
const b = (n: number): Buffer => Buffer.alloc(n);
const CASES: ReadonlyArray<[string, (c: ErasureCodec) => unknown, typeof TypeError | typeof RangeError, RegExp]> = [
  ['k = 0', (c) => c.encode(0, 1, [], 1), RangeError, /k must be in \[1, 254\], got 0/],
  ['m = 0', (c) => c.encode(2, 0, [b(1), b(1)], 1), RangeError, /m must be in \[1, 254\], got 0/],
  ['k + m > 255', (c) => c.encode(200, 100, [], 1), RangeError, /k \+ m must be at most 255, got 300/],
  ['fractional k', (c) => c.encode(2.5, 1, [], 1), TypeError, /k must be an integer, got 2.5/],
  ['string k', (c) => c.encode('2' as any, 1, [], 1), TypeError, /k must be a number/],
  ['negative len', (c) => c.encode(2, 1, [b(1), b(1)], -1), RangeError, /len must be in \[0, 2147483647\], got -1/],
  ['too few data chunks', (c) => c.encode(2, 1, [b(4)], 4), RangeError, /data must hold 2 buffers, got 1/],
  ['short data chunk', (c) => c.encode(2, 1, [b(4), b(2)], 4), RangeError, /data\[1\] holds 2 bytes, fewer than len 4/],
  ['non-buffer data chunk', (c) => c.encode(2, 1, [b(4), 'abcd' as any], 4), TypeError, /data\[1\] must be a Buffer or Uint8Array/],
  ['data not an array', (c) => c.encode(2, 1, b(4) as any, 4), TypeError, /data must be an array of Buffers/],
  ['short parity', (c) => c.encodeInto(2, 1, [b(4), b(4)], [b(3)], 4), RangeError, /parity\[0\] holds 3 bytes, fewer than len 4/],
  ['too few available', (c) => c.decode(4, 2, [0, 1, 5].map((index) => ({ index, data: b(4) })), [2], 4), RangeError, /needs k = 4 distinct available stripes, got 3/],
  ['duplicate available only', (c) => c.decode(2, 1, [0, 0].map((index) => ({ index, data: b(4) })), [1], 4), RangeError, /needs k = 2 distinct available stripes, got 1/],
  ['want out of range', (c) => c.decode(4, 2, [0, 1, 2, 3].map((index) => ({ index, data: b(4) })), [6], 4), RangeError, /want\[0\] must be an integer stripe index in \[0, 5\], got 6/],
  ['available index out of range', (c) => c.decode(2, 1, [{ index: 3, data: b(4) }], [0], 4), RangeError, /available\[0\]\.index must be an integer stripe index in \[0, 2\], got 3/],
  ['short available chunk', (c) => c.decode(2, 1, [{ index: 0, data: b(4) }, { index: 1, data: b(1) }], [2], 4), RangeError, /available\[1\]\.data holds 1 bytes/],
  ['crc of a string', (c) => c.crc32c('abc' as any), TypeError, /buf must be a Buffer or Uint8Array/],
  ['negative prev', (c) => c.crc32(b(1), -1), RangeError, /prev must be in \[0, 4294967295\], got -1/],
  ['prev ≥ 2^32', (c) => c.crc32c(b(1), 2 ** 32), RangeError, /prev must be in/],
];

describe('bad arguments', () => {
  for (const codec of [() => nativeCodec(), () => tsCodec]) {
    describe(`${codec().name} codec`, () => {
      for (const [what, call, type, message] of CASES) {
        it(what, () => assert.throws(() => call(codec()), (err: unknown) => err instanceof type && message.test((err as Error).message)));
      }
    });
  }

  describe('raw addon', () => {
    const addon = (): ReturnType<typeof loadNativeAddon> => (nativeCodec(), loadNativeAddon());
    const src = [b(4), b(4)];
    it('missing arguments', () => {
      assert.throws(() => (addon().ecEncode as any)(), /ecEncode: expects 5 arguments \(k, m, data, parity, len\), got 0/);
    });
    it('srcIdx of the wrong size', () => {
      assert.throws(() => addon().ecDecode(2, 1, [0], [b(4)], [2], [b(4)], 4), /ecDecode: srcIdx must hold exactly k = 2 indices, got 1/);
    });
    it('repeated srcIdx', () => {
      assert.throws(() => addon().ecDecode(2, 1, [1, 1], src, [0], [b(4)], 4), /srcIdx repeats stripe index 1/);
    });
    it('out buffers not matching wantIdx', () => {
      assert.throws(() => addon().ecDecode(2, 1, [0, 1], src, [2, 2], [b(4)], 4), /out must hold 2 buffers, got 1/);
    });
    it('Uint8ClampedArray is refused', () => {
      assert.throws(() => addon().crc32c(new Uint8ClampedArray(4) as any), TypeError);
    });
  });
});
