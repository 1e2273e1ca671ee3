import assert from 'node:assert/strict';
import { nativeCodec, randomChunks, rng, tsCodec } from './helpers.js';

describe('async variants equal sync', () => {
  for (const codec of [() => nativeCodec(), () => tsCodec]) {
    it(`${codec().name}: encodeAsync and decodeAsync`, async () => {
      const k = 8, m = 2, len = 100_001;
      const data = randomChunks(rng(21), k, len);
      const parity = codec().encode(k, m, data, len);
      const asyncParity = await codec().encodeAsync(k, m, data, len);
      parity.forEach((p, r) => assert.ok(p.equals(asyncParity[r]!)));

      const available = [...data, ...parity].map((d, index) => ({ index, data: d })).filter((c) => c.index !== 1 && c.index !== 4);
      const sync = codec().decode(k, m, available, [1, 4], len);
      const viaAsync = await codec().decodeAsync(k, m, available, [1, 4], len);
      assert.ok(sync[0]!.equals(data[1]!) && sync[1]!.equals(data[4]!));
      sync.forEach((b, i) => assert.ok(b.equals(viaAsync[i]!)));
    });
  }

  it('native: many concurrent jobs on the thread pool all finish correctly', async () => {
    const k = 4, m = 2, len = 65_536;
    const jobs = Array.from({ length: 16 }, (_, i) => randomChunks(rng(100 + i), k, len));
    const results = await Promise.all(jobs.map((data) => nativeCodec().encodeAsync(k, m, data, len)));
    results.forEach((parity, i) => {
      const expected = tsCodec.encode(k, m, jobs[i]!, len);
      parity.forEach((p, r) => assert.ok(p.equals(expected[r]!), `job ${i} parity ${r}`));
    });
  });

  it('native: async bad arguments reject (no synchronous throw)', async () => {
    const p = nativeCodec().encodeAsync(2, 1, [Buffer.alloc(4)], 4);
    assert.ok(p instanceof Promise);
    await assert.rejects(p, /data must hold 2 buffers/);
    await assert.rejects(nativeCodec().decodeAsync(2, 1, [{ index: 0, data: Buffer.alloc(4) }], [1], 4), /needs k = 2 distinct/);
  });
});
