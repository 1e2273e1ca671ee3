// A local archive source, once closed, never reopens its file: a read still in flight when a
// rebuild gave up (read-ahead) fails instead of leaking a descriptor.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { getCodec } from '../../shared/codec/index.js';
import { localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { encodeRandomObject } from '../repair/repair-harness.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('local archive source', () => {
  it('reads after close fail with SOURCE_CLOSED and open no descriptor', async () => {
    const obj = encodeRandomObject({ profile: { nbData: 2, nbParity: 1, chunkSize: 4096 }, size: 30_000, crcKind: 'crc32c', seed: 3, codec: getCodec() });
    try {
      const src = localArchiveSource(obj.archives[0] as string);
      const [first] = (await src.directory()).entries;
      assert.ok(first);
      assert.equal((await src.readEntry(first)).length, first.size);
      await src.close();
      const before = openFds();
      await assert.rejects(src.readEntry(first), (e: Error & { code?: string }) => e.code === 'SOURCE_CLOSED');
      assert.equal(openFds(), before, 'no descriptor opened after close');
      await src.close(); // twice is harmless
    } finally {
      obj.cleanup();
    }
  });
});
