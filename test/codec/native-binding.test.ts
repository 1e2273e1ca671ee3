// How the addon binds ISA-L. Node's executable exports OpenSSL's `gf_mul`, which a plainly
// linked libisal.so would call instead of its own from gf_invert_matrix and from the scalar
// path of short encodes: these tests fail (or crash) if that regression comes back.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { nativeCodec, randomChunks, rng, tsCodec } from './helpers.js';

describe('native ISA-L binding', () => {
  it('reports the library and how it was bound', () => {
    const info = nativeCodec().isalInfo();
    assert.match(info.headerVersion, /^2\.\d+\.\d+$/);
    assert.match(info.library, /libisal\.so/);
    assert.equal(info.binding, 'dlopen RTLD_DEEPBIND');
    assert.equal(typeof info.cpu.avx2, 'boolean');
  });

  it('short encodes (ISA-L scalar path, which calls gf_mul) match the TypeScript codec', () => {
    const next = rng(31);
    for (let len = 1; len < 70; len++) {
      const data = randomChunks(next, 4, len);
      const expected = tsCodec.encode(4, 2, data, len);
      nativeCodec().encode(4, 2, data, len).forEach((p, r) => assert.ok(p.equals(expected[r]!), `len ${len}`));
    }
  });

  it('loads and encodes inside a worker thread as well', async () => {
    const codecUrl = new URL('../../shared/codec/native-codec.js', import.meta.url).href;
    const source = `
      import { parentPort } from 'node:worker_threads';
      const { NativeCodec } = await import(${JSON.stringify(codecUrl)});
      const data = [Buffer.from([1]), Buffer.from([0])];
      parentPort.postMessage(Array.from(new NativeCodec().encode(2, 1, data, 1)[0]));
    `;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
    const result = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(result, [0x8e]);
  });
});
