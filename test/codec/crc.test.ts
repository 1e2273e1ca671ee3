import assert from 'node:assert/strict';
import { CRC_CHECK_VALUES, type ErasureCodec } from '../../shared/codec/codec.js';
import { nativeCodec, randomBuffer, rng, tsCodec } from './helpers.js';

const CHECK_INPUT = Buffer.from('123456789', 'ascii');

function crcSuite(label: string, codec: () => ErasureCodec): void {
  describe(`CRCs (${label})`, () => {
    it('gives the standard check values for "123456789"', () => {
      assert.equal(codec().crc32c(CHECK_INPUT), CRC_CHECK_VALUES.crc32c);
      assert.equal(codec().crc32(CHECK_INPUT), CRC_CHECK_VALUES.crc32);
    });

    it('returns 0 for empty input and passes prev through unchanged', () => {
      assert.equal(codec().crc32c(new Uint8Array(0)), 0);
      assert.equal(codec().crc32(new Uint8Array(0)), 0);
      assert.equal(codec().crc32c(new Uint8Array(0), 0xdeadbeef), 0xdeadbeef);
    });

    it('chains: crc(b, crc(a)) === crc(a ++ b) at every split point', () => {
      const next = rng(7);
      const all = randomBuffer(next, 300);
      for (const kind of ['crc32c', 'crc32'] as const) {
        const whole = codec()[kind](all);
        for (let cut = 0; cut <= all.length; cut += 13) {
          const chained = codec()[kind](all.subarray(cut), codec()[kind](all.subarray(0, cut)));
          assert.equal(chained, whole, `${kind} split at ${cut}`);
        }
      }
    });
  });
}

crcSuite('typescript', () => tsCodec);
crcSuite('native', nativeCodec);

describe('CRCs native vs typescript', () => {
  it('agree on random buffers of many lengths and offsets', () => {
    const next = rng(11);
    for (const len of [1, 3, 7, 8, 9, 64, 1023, 65537]) {
      const buf = randomBuffer(next, len + 5).subarray(3, 3 + len);
      const prev = Math.floor(next() * 2 ** 32);
      assert.equal(nativeCodec().crc32c(buf, prev), tsCodec.crc32c(buf, prev), `crc32c len ${len}`);
      assert.equal(nativeCodec().crc32(buf, prev), tsCodec.crc32(buf, prev), `crc32 len ${len}`);
    }
  });
});
