// Every erasure pattern of up to m lost stripes (a sample for the widest profile) is rebuilt by
// both codecs from the surviving stripes, data and parity alike.
import assert from 'node:assert/strict';
import type { IndexedChunk } from '../../shared/codec/codec.js';
import { PROFILES, nativeCodec, randomChunks, rng, subsets, tsCodec } from './helpers.js';

const EXHAUSTIVE_MAX_STRIPES = 10;
const SAMPLED_PATTERNS = 60;

function stripes(k: number, m: number, len: number, seed: number): Buffer[] {
  const data = randomChunks(rng(seed), k, len);
  return [...data, ...tsCodec.encode(k, m, data, len)];
}

function patterns(k: number, m: number, next: () => number): number[][] {
  const n = k + m;
  const all = [...subsets(n, m)];
  if (n <= EXHAUSTIVE_MAX_STRIPES) return all;
  // Wide profile: every 1- and 2-loss pattern, then a random sample of the larger ones.
  const small = all.filter((p) => p.length <= 2);
  const large = all.filter((p) => p.length > 2);
  const sample = Array.from({ length: SAMPLED_PATTERNS }, () => large[Math.floor(next() * large.length)]!);
  return [...small, ...sample];
}

function survivors(all: readonly Buffer[], lost: readonly number[]): IndexedChunk[] {
  return all.map((data, index) => ({ index, data })).filter((c) => !lost.includes(c.index));
}

describe('decode: every erasure pattern of ≤ m lost stripes', () => {
  for (const [k, m] of PROFILES) {
    it(`${k}+${m}`, () => {
      const next = rng(1000 + k * 16 + m);
      for (const len of [0, 1, 33, 257, 1 + 2 * Math.floor(next() * 3000)]) {
        const all = stripes(k, m, len, len + k);
        for (const lost of patterns(k, m, next)) {
          const available = survivors(all, lost);
          for (const codec of [nativeCodec(), tsCodec]) {
            const rebuilt = codec.decode(k, m, available, lost, len);
            assert.equal(rebuilt.length, lost.length);
            lost.forEach((idx, i) => {
              assert.ok(rebuilt[i]!.equals(all[idx]!), `${codec.name} ${k}+${m} len ${len} lost [${lost}] stripe ${idx}`);
            });
          }
        }
      }
    });
  }

  it('uses the k lowest indices whatever order, duplicates or extras are given', () => {
    const k = 4, m = 2, len = 129;
    const all = stripes(k, m, len, 42);
    const shuffled: IndexedChunk[] = [5, 3, 1, 4, 3, 2].map((index) => ({ index, data: all[index]! }));
    const want = [0, 1, 2, 3, 4, 5];
    for (const codec of [nativeCodec(), tsCodec]) {
      const rebuilt = codec.decode(k, m, shuffled, want, len);
      want.forEach((w, i) => assert.ok(rebuilt[i]!.equals(all[w]!), `${codec.name} stripe ${w}`));
    }
  });

  it('decodeInto writes into caller buffers', () => {
    const k = 8, m = 2, len = 1000;
    const all = stripes(k, m, len, 3);
    for (const codec of [nativeCodec(), tsCodec]) {
      const out = [Buffer.alloc(len + 1, 0xaa), Buffer.alloc(len)];
      codec.decodeInto(k, m, survivors(all, [0, 9]), [0, 9], out, len);
      assert.ok(out[0]!.subarray(0, len).equals(all[0]!) && out[0]![len] === 0xaa, codec.name);
      assert.ok(out[1]!.equals(all[9]!), codec.name);
    }
  });
});

describe('native decode cache', () => {
  it('counts a hit when the same pattern repeats', () => {
    const k = 3, m = 3, len = 64;
    const all = stripes(k, m, len, 77);
    const available = survivors(all, [0, 2]);
    nativeCodec().decode(k, m, available, [0, 2], len);
    const before = nativeCodec().decodeCacheStats();
    nativeCodec().decode(k, m, available, [0, 2], len);
    const after = nativeCodec().decodeCacheStats();
    assert.equal(after.hits, before.hits + 1);
    assert.equal(after.misses, before.misses);
    assert.ok(after.size >= 1 && after.size <= 256);
  });

  it('stays bounded at 256 patterns', () => {
    const k = 10, m = 4, len = 8;
    const all = stripes(k, m, len, 78);
    for (const lost of [...subsets(k + m, 3)].slice(0, 300)) nativeCodec().decode(k, m, survivors(all, lost), lost, len);
    assert.ok(nativeCodec().decodeCacheStats().size <= 256);
  });
});
