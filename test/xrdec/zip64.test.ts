// Real ZIP64 archives beyond 4 GiB, written sparse (headers and a little data; the rest is a
// hole), so the test costs no disk: offsets ≥ 4 GiB, an entry ≥ 4 GiB, ZIP64 EOCD + locator.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCodec } from '../../shared/codec/index.js';
import { readEntry, readZipDirectory } from '../../shared/xrdec/archive-io.js';
import { archiveLayout, localHeader } from '../../shared/xrdec/zip-layout.js';
import { open } from 'node:fs/promises';

describe('ZIP64 archives beyond 4 GiB (sparse files)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-zip64-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads offsets and sizes from ZIP64 extra fields and the ZIP64 EOCD', async () => {
    const codec = getCodec();
    const payload = Buffer.from('the last stripe, beyond 4 GiB');
    const entries = [
      { name: 'obj.0.0', size: 4.5 * 2 ** 30, crc: 0x12345678 }, // ≥ 4 GiB entry: sizes in the extra
      { name: 'obj.1.0', size: 2 ** 30, crc: 0x9abcdef0 },
      { name: 'obj.2.0', size: payload.length, crc: codec.crc32c(payload) }, // header offset ≥ 4 GiB
    ];
    const t = { time: 0, date: 0x21 };
    const layout = archiveLayout(entries, t);
    const path = join(dir, 'big.zip');
    const fd = openSync(path, 'w');
    entries.forEach((e, i) => {
      const h = localHeader(e, t);
      writeSync(fd, h, 0, h.length, layout.lfhOffsets[i] as number);
    });
    const last = layout.lfhOffsets[2] as number;
    writeSync(fd, payload, 0, payload.length, last + 30 + 7);
    writeSync(fd, layout.tail, 0, layout.tail.length, layout.cdOffset);
    closeSync(fd);

    assert.ok(layout.cdOffset > 2 ** 32 && last > 2 ** 32);
    const fh = await open(path, 'r');
    try {
      const d = await readZipDirectory(fh);
      assert.equal(d.zip64, true);
      assert.equal(d.archiveSize, layout.totalSize);
      assert.equal(d.cdOffset, layout.cdOffset);
      assert.deepEqual(d.entries.map((e) => [e.name, e.size, e.crc >>> 0, e.lfhOffset]), entries.map((e, i) => [e.name, e.size, e.crc >>> 0, layout.lfhOffsets[i]]));
      const got = await readEntry(fh, d, d.entries[2] as NonNullable<(typeof d.entries)[number]>);
      assert.ok(got.equals(payload));
      assert.equal(codec.crc32c(got), entries[2]?.crc);
    } finally {
      await fh.close();
    }
  });
});
