// ReadDirectory's one-call native path answers exactly what the async fs path answers, and
// stands aside (undefined) whenever it cannot: a directory past its window, an oversized
// attribute, a symlinked bucket, a file that is not regular or not there.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { readArchiveTail, readArchiveTailFs, type ResolvedArchive } from '../../agent/stripes/archive-ref.js';
import { readTailQuick, TAIL_WINDOW } from '../../agent/stripes/archive-tail-native.js';
import type { StripesDisk } from '../../agent/stripes/stripes-context.js';
import { loadScanAddon } from '../../agent/scan/bucket-reader-native.js';
import { getCodec } from '../../shared/codec/index.js';
import { runOnBytes } from '../../shared/xrdec/archive-io.js';
import { parseZipDirectory } from '../../shared/xrdec/zip-directory.js';
import { makeArchiveTemplate, writeArchive } from '../helpers/archive-factory.js';
import { encodeRandomObject } from '../repair/repair-harness.js';

const NAME = '0123456789ABCDEF00000000000000000000000256%';

describe('ReadDirectory fast path (native readFileTail)', function () {
  let root: string;
  let disk: StripesDisk;
  const ref = (dataPath: string): ResolvedArchive => ({ disk, dataPath, path: join(root, dataPath) });
  // the same tail start readArchiveTail computes: the lowest byte the directory parser reads
  const quick = (r: ResolvedArchive) => {
    const slash = r.path.lastIndexOf('/');
    return readTailQuick(r.path.slice(0, slash), r.path.slice(slash + 1), (size, window, base) => {
      let from = size;
      const gen = parseZipDirectory(size);
      const seen = (function* () {
        let step = gen.next(Buffer.alloc(0));
        while (!step.done) {
          from = Math.min(from, step.value.position);
          step = gen.next(yield step.value);
        }
      })();
      runOnBytes(seen, window, base);
      return from;
    });
  };

  beforeEach(() => {
    // tmpfs takes attribute values past 4 KiB (ext4 keeps them in one block): the oversized case needs that
    root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ecguard-tailq-'));
    mkdirSync(join(root, 'public', '0A'), { recursive: true });
    disk = { diskId: 'srv:/d', path: root, space: 'public', state: 'online' } as StripesDisk;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('answers byte for byte what the fs path answers (tail, offset, size, attributes with the Pfn)', async () => {
    const r = ref(`public/0A/${NAME}`);
    writeArchive(r.path, makeArchiveTemplate(5000));
    setAttributeSync(r.path, 'user.XrdFrm.Pfn', Buffer.from('/data/x/file.root\0'));
    setAttributeSync(r.path, 'user.other', Buffer.from('not the peer\'s business'));
    const q = await quick(r);
    assert.ok(q, 'the fast path answered');
    const fs = await readArchiveTailFs(r);
    assert.equal(q.fileSize, fs.fileSize);
    assert.equal(q.offset, fs.offset);
    assert.ok(q.tail.equals(fs.tail));
    assert.deepEqual(Object.keys(q.xattrs).sort(), Object.keys(fs.xattrs).sort());
    assert.deepEqual(Object.keys(q.xattrs).sort(), ['user.U.xrdec.filesize', 'user.U.xrdec.strpver', 'user.XrdFrm.Pfn']);
    for (const [k, v] of Object.entries(q.xattrs)) assert.ok(v.equals(fs.xattrs[k] as Buffer), k);
    const answered = await readArchiveTail(r);
    assert.ok(answered.tail.equals(fs.tail));
  });

  it('reads both xattr namespaces when a file holds both, as the fs path does (not the scan\'s user.U.-first subset)', async () => {
    const r = ref(`public/0A/${NAME}`);
    writeArchive(r.path, makeArchiveTemplate(5000)); // user.U.xrdec.*
    setAttributeSync(r.path, 'user.xrdec.strpver', Buffer.from('1'));
    setAttributeSync(r.path, 'user.xrdec.filesize', Buffer.from('2'));
    const q = await quick(r);
    assert.ok(q, 'the fast path answered');
    const fs = await readArchiveTailFs(r);
    assert.deepEqual(Object.keys(q.xattrs).sort(), ['user.U.xrdec.filesize', 'user.U.xrdec.strpver', 'user.xrdec.filesize', 'user.xrdec.strpver']);
    assert.deepEqual(Object.keys(q.xattrs).sort(), Object.keys(fs.xattrs).sort());
    for (const [k, v] of Object.entries(q.xattrs)) assert.ok(v.equals(fs.xattrs[k] as Buffer), k);
  });

  it('stands aside for a directory reaching past its window; readArchiveTail still answers in full', async () => {
    // 4+2 with 512-byte chunks: ~1,500 entries per archive, a directory of about 75 KiB
    const obj = encodeRandomObject({ profile: { nbData: 4, nbParity: 2, chunkSize: 512 }, size: 3_000_000, crcKind: 'crc32c', seed: 7, codec: getCodec() });
    try {
      const r = ref(`public/0A/${NAME}`);
      copyFileSync(obj.archives[0] as string, r.path);
      setAttributeSync(r.path, 'user.U.xrdec.strpver', Buffer.from(String(obj.strpver)));
      setAttributeSync(r.path, 'user.U.xrdec.filesize', Buffer.from('3000000'));
      const fs = await readArchiveTailFs(r);
      assert.ok(fs.tail.length > TAIL_WINDOW, `the directory spans ${fs.tail.length} bytes`);
      assert.equal(await quick(r), undefined);
      const answered = await readArchiveTail(r);
      assert.equal(answered.offset, fs.offset);
      assert.ok(answered.tail.equals(fs.tail));
    } finally {
      obj.cleanup();
    }
  });

  it('stands aside for an oversized attribute, which the fs path still reads', async () => {
    const r = ref(`public/0A/${NAME}`);
    writeArchive(r.path, makeArchiveTemplate(3000));
    const longPfn = Buffer.from(`/data/${'p'.repeat(9000)}\0`);
    setAttributeSync(r.path, 'user.XrdFrm.Pfn', longPfn);
    assert.equal(await quick(r), undefined);
    const answered = await readArchiveTail(r);
    assert.ok((answered.xattrs['user.XrdFrm.Pfn'] as Buffer).equals(longPfn));
  });

  it('stands aside for a symlinked bucket, a directory in place of the file, and a missing file', async () => {
    mkdirSync(join(root, 'elsewhere'));
    writeArchive(join(root, 'elsewhere', NAME), makeArchiveTemplate(3000));
    symlinkSync(join(root, 'elsewhere'), join(root, 'public', '0B'));
    assert.equal(await quick(ref(`public/0B/${NAME}`)), undefined);
    await assert.rejects(readArchiveTail(ref(`public/0B/${NAME}`)), (e: Error & { code?: string }) => e.code === 'BAD_ARCHIVE_REF');
    mkdirSync(join(root, 'public', '0A', NAME));
    assert.equal(await quick(ref(`public/0A/${NAME}`)), undefined);
    await assert.rejects(readArchiveTail(ref(`public/0A/${NAME}`)), (e: Error & { code?: string }) => e.code === 'BAD_ARCHIVE_REF');
    assert.equal(await quick(ref('public/0A/gone%')), undefined);
    await assert.rejects(readArchiveTail(ref('public/0A/gone%')), (e: Error & { code?: string }) => e.code === 'ARCHIVE_NOT_FOUND');
  });

  it('the addon refuses a name that is not one path component', async () => {
    const addon = loadScanAddon().addon;
    for (const bad of ['a/b%', '..', '', 'x\0y']) {
      await assert.rejects(addon?.readFileTail?.(join(root, 'public', '0A'), 1024, 1024, ['user.XrdFrm.Pfn'], bad) ?? Promise.reject(new Error('no addon')), /name must be one path component|name must be a string/, JSON.stringify(bad));
    }
  });
});
