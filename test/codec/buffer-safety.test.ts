// The addon's buffer arguments against callers that move memory under it (found by review; the
// old addon crashed or computed wrong parity on each): outputs overlapping inputs, an array
// index getter that detaches a buffer whose pointer was taken, resizable ArrayBuffers in async
// calls, and NativeCodec pinning its async inputs against a transfer.
import assert from 'node:assert/strict';
import { loadNativeAddon } from '../../shared/codec/native-codec.js';
import { nativeCodec, randomChunks, rng, tsCodec } from './helpers.js';

describe('native codec: buffers that alias, detach or resize', () => {
  const addon = loadNativeAddon();

  it('refuses an output that overlaps an input (ISA-L would compute wrong parity), sync and async', async () => {
    const next = rng(5);
    const data = randomChunks(next, 4, 100);
    const parity: Uint8Array[] = Array.from({ length: 8 }, () => Buffer.alloc(100));
    parity[7] = data[0] as Uint8Array;
    assert.throws(() => addon.ecEncode(4, 8, data, parity, 100), /parity\[7\] overlaps data\[0\]/);
    await assert.rejects(addon.ecEncodeAsync(4, 8, data, parity, 100), /parity\[7\] overlaps data\[0\]/);
    // a partial overlap (a view into the same memory, shifted) is refused too
    const big = Buffer.alloc(300);
    const src = [big.subarray(0, 100), big.subarray(100, 200)];
    const out = [big.subarray(150, 250)];
    assert.throws(() => addon.ecDecode(2, 1, [0, 1], src, [2], out, 100), /out\[0\] overlaps src\[1\]/);
    // and the data is what it was
    assert.ok(data.every((d, i) => d.equals(randomChunks(rng(5), 4, 100)[i] as Buffer)));
  });

  it('reads every array element before taking any pointer: a getter that detaches an earlier buffer is caught', () => {
    const len = 4096;
    const data = [Buffer.alloc(len, 1), Buffer.alloc(len, 2)];
    const p0 = Buffer.alloc(len);
    const parity: (Buffer | null)[] = [p0, null];
    Object.defineProperty(parity, 1, {
      get() {
        structuredClone(p0.buffer, { transfer: [p0.buffer as ArrayBuffer] }); // p0 is now detached (0 bytes)
        return Buffer.alloc(len);
      },
    });
    assert.throws(() => addon.ecEncode(2, 2, data, parity as Buffer[], len), /parity\[0\] holds 0 bytes/);
  });

  it('async calls refuse views over a resizable ArrayBuffer', async () => {
    const len = 1024;
    const data = [Buffer.alloc(len, 1), Buffer.alloc(len, 2)];
    // resizable ArrayBuffers (ES2024) are newer than the lib this project compiles against
    const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(len, { maxByteLength: len * 2 });
    const parity = [Buffer.alloc(len), new Uint8Array(ab)];
    await assert.rejects(addon.ecEncodeAsync(2, 2, data, parity, len), /resizable ArrayBuffer/);
    // the sync call finishes before JS runs again: allowed, and right
    addon.ecEncode(2, 2, data, parity, len);
    assert.ok(Buffer.from(parity[1] as Uint8Array).equals(tsCodec.encode(2, 2, data, len)[1] as Buffer));
  });

  it('NativeCodec pins its async inputs: a transfer while the job runs cannot free them', async () => {
    const len = 1 << 20;
    const next = rng(9);
    const data = randomChunks(next, 4, len).map((b) => Buffer.from(b)); // own ArrayBuffers, not the pool
    const expected = tsCodec.encode(4, 2, data, len);
    const job = nativeCodec().encodeAsync(4, 2, data, len);
    try {
      structuredClone((data[0] as Buffer).buffer, { transfer: [(data[0] as Buffer).buffer as ArrayBuffer] });
    } catch {
      // newer Node throws for an untransferable buffer; Node 20 copies instead
    }
    assert.equal((data[0] as Buffer).byteLength, len, 'still attached');
    const parity = await job;
    parity.forEach((p, r) => assert.ok(p.equals(expected[r] as Buffer), `parity ${r}`));
  });
});
