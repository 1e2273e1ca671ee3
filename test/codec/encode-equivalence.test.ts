import assert from 'node:assert/strict';
import { loadNativeAddon } from '../../shared/codec/native-codec.js';
import { PROFILES, nativeCodec, randomChunks, rng, testLengths, tsCodec } from './helpers.js';

describe('encode: native === typescript, byte for byte', () => {
  for (const [k, m] of PROFILES) {
    it(`${k}+${m} at lengths 0, 1, odd and vector-boundary sizes`, () => {
      const next = rng(k * 100 + m);
      for (const len of testLengths(next)) {
        const data = randomChunks(next, k, len);
        const viaNative = nativeCodec().encode(k, m, data, len);
        const viaTs = tsCodec.encode(k, m, data, len);
        assert.equal(viaNative.length, m);
        viaNative.forEach((p, r) => {
          assert.equal(p.length, len);
          assert.ok(p.equals(viaTs[r]!), `${k}+${m} len ${len} parity ${r} differs`);
        });
      }
    });
  }

  it('encodeInto writes only the first len bytes and accepts longer, offset Uint8Arrays', () => {
    const next = rng(5);
    const k = 4, m = 2, len = 77;
    const data = randomChunks(next, k, len + 9).map((b) => new Uint8Array(b.buffer, b.byteOffset + 3, len + 6));
    for (const codec of [nativeCodec(), tsCodec]) {
      const parity = [Buffer.alloc(len + 4, 0xee), Buffer.alloc(len + 4, 0xee)];
      codec.encodeInto(k, m, data, parity, len);
      const expected = tsCodec.encode(k, m, data, len);
      parity.forEach((p, r) => {
        assert.ok(p.subarray(0, len).equals(expected[r]!), `${codec.name} parity ${r}`);
        assert.ok(p.subarray(len).equals(Buffer.alloc(4, 0xee)), `${codec.name} wrote past len`);
      });
    }
  });

  it('1+1: parity is a copy of the data', () => {
    const data = randomChunks(rng(9), 1, 100);
    for (const codec of [nativeCodec(), tsCodec]) {
      assert.ok(codec.encode(1, 1, data, 100)[0]!.equals(data[0]!), codec.name);
    }
  });

  it('native allocChunk: 64-byte aligned chunks that encode like any other buffer', () => {
    const codec = nativeCodec();
    const len = 70_000;
    const data = [codec.allocChunk(len), codec.allocChunk(len)];
    data.forEach((d, i) => d.fill(i + 1));
    for (const d of data) {
      assert.equal(d.length, len);
      assert.equal(loadNativeAddon().alignOffset(d), 0);
    }
    assert.equal(codec.allocChunk(10).length, 10);
    const expected = tsCodec.encode(2, 1, data, len);
    assert.ok(codec.encode(2, 1, data, len)[0]!.equals(expected[0]!));
  });
});
