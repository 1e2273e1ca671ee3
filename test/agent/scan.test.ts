// The scanner on a data server's tree laid out like xrootd's: records match what was stored,
// every kind of trouble becomes a finding with its cause, and nothing is modified.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync, mkdirSync, symlinkSync, truncateSync, readFileSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { getCodec } from '../../shared/codec/index.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { scanSite, type SiteLayout } from '../../agent/scan/site-scanner.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

const codec = getCodec();

/** Stores archive 0 of a freshly encoded object at `lfn` on this site. */
function storeObject(site: FakeSite, scratch: string, lfn: string, disk: number, size: number, o: { n?: number; m?: number; crc32c?: boolean; ns?: 'user.U.' | 'user.'; strpver?: number } = {}): string {
  const input = join(scratch, 'in');
  writeFileSync(input, randomBytes(size));
  const n = o.n ?? 4;
  const m = o.m ?? 2;
  return site.store(lfn, disk, (path) => {
    const others = Array.from({ length: n + m - 1 }, () => {
      const d = mkdtempSync(join(scratch, 'a'));
      return join(d, 'x');
    });
    encodeObject({ profile: { nbData: n, nbParity: m, chunkSize: 1024 }, crcKind: o.crc32c ? 'crc32c' : 'crc32', input, archivePaths: [path, ...others], xattrNamespace: o.ns ?? 'user.U.', mtFile: false, strpver: o.strpver ?? 1700000000, codec });
    others.forEach((p) => rmSync(dirname(p), { recursive: true }));
  });
}

function layoutOf(site: FakeSite): SiteLayout {
  return { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) };
}

describe('agent scan', () => {
  let site: FakeSite;
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ecguard-scratch-'));
  });
  afterEach(() => {
    site?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const localroot of [true, false]) {
    it(`records match what was stored (${localroot ? 'with' : 'without'} localroot), with and without worker threads`, async () => {
      site = makeFakeSite({ localroot });
      const want = new Map<string, { size: number; disk: number; ns: string; crc32c: boolean }>();
      for (let i = 0; i < 60; i++) {
        const lfn = `${site.exportPath}/dir${i % 3}/file ${i}.dat`;
        const size = [0, 1, 1000, 4096, 4097, 20000][i % 6] as number;
        const ns = i % 2 ? 'user.U.' : 'user.';
        storeObject(site, scratch, lfn, i % 2, size, { crc32c: i % 4 < 2, ns: ns as 'user.U.' | 'user.' });
        want.set(lfn, { size, disk: i % 2, ns, crc32c: i % 4 < 2 });
      }
      const before = treeSnapshot(site.root);
      for (const workers of [0, 2]) {
        const r = await scanSite(layoutOf(site), { workers });
        assert.deepEqual(r.findings, [], JSON.stringify(r.findings.slice(0, 3)));
        assert.equal(r.records.length, 60);
        for (const rec of r.records) {
          const w = want.get(rec.lfn ?? '');
          assert.ok(w, `unexpected record ${rec.lfn}`);
          assert.equal(rec.filesize, w.size);
          assert.equal(rec.strpver, 1700000000);
          assert.equal(rec.xattrNamespace, w.ns);
          assert.equal(rec.diskId, site.disks[w.disk]?.diskId);
          assert.equal(rec.nblocks, Math.ceil(w.size / 4096));
          assert.equal(rec.nentries, rec.nblocks);
          assert.equal(rec.regular, true);
          assert.equal(rec.parseStatus, w.size === 0 ? 'empty' : 'ok');
          assert.equal(rec.nsPath, (site.localroot ?? '') + rec.lfn);
          // decidable when the archive holds a non-empty entry: always once block 0 is full
          if (rec.crcKind !== undefined || w.size >= 4096) assert.equal(rec.crcKind, w.crc32c ? 'crc32c' : 'crc32');
        }
      }
      assert.equal(treeSnapshot(site.root), before, 'scan modified the tree');
    });
  }

  it('CRC kind still decided when the last entry is one byte 0xFF (its CRC-32C and CRC-32 coincide)', async () => {
    site = makeFakeSite();
    const input = join(scratch, 'ff');
    const bytes = randomBytes(4097);
    bytes[4096] = 0xff; // block 1 = one byte: data stripe 0 of block 1 is [0xFF]
    writeFileSync(input, bytes);
    for (const kind of ['crc32', 'crc32c'] as const) {
      site.store(`/data/ff-${kind}`, 0, (path) => {
        const others = Array.from({ length: 5 }, () => join(mkdtempSync(join(scratch, 'a')), 'x'));
        // archive 0 holds stripe 1 of block 0 (1024 bytes) and stripe 0 of block 1 (the 0xFF byte)
        encodeObject({ profile: { nbData: 4, nbParity: 2, chunkSize: 1024 }, crcKind: kind, input, archivePaths: [path, ...others], xattrNamespace: 'user.U.', mtFile: false, strpver: 1700000000, codec, placement: [[1, 0, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]] });
      });
    }
    for (const reader of ['native', 'js'] as const) {
      const r = await scanSite(layoutOf(site), { workers: 0, reader, namespace: false });
      for (const kind of ['crc32', 'crc32c']) assert.equal(r.records.find((x) => x.lfn === `/data/ff-${kind}`)?.crcKind, kind, `${kind} via ${reader}`);
    }
  });

  it('10,000 files in one bucket: every one recorded, with the native and the JS reader', async function () {
    this.timeout(120_000);
    site = makeFakeSite();
    const bucket = join(site.disks[0]?.path as string, 'public', '7F');
    mkdirSync(bucket, { recursive: true });
    const tpl = readFileSync(storeObject(site, scratch, '/data/template', 0, 3000));
    for (let i = 0; i < 10_000; i++) {
      const p = join(bucket, `${i.toString(16).toUpperCase().padStart(36, '0')}0A6%`);
      writeFileSync(p, tpl);
      setAttributeSync(p, 'user.U.xrdec.strpver', Buffer.from('1700000000'));
      setAttributeSync(p, 'user.U.xrdec.filesize', Buffer.from('3000'));
      setAttributeSync(p, 'user.XrdFrm.Pfn', Buffer.from(`${site.localroot}/data/many/f${i}\0`));
    }
    for (const reader of ['native', 'js'] as const) {
      const r = await scanSite(layoutOf(site), { workers: 2, reader, namespace: false });
      assert.equal(r.records.filter((x) => x.dataPath.startsWith('public/7F/')).length, 10_000, reader);
      assert.ok(r.records.every((x) => x.parseStatus === 'ok' && x.strpver === 1700000000));
    }
  });

  it('hostile trees: clear findings, nothing modified', async () => {
    // tmpfs: ext4 cannot even hold the 64 KiB Pfn this test plants
    site = makeFakeSite({ base: '/dev/shm' });
    const good = storeObject(site, scratch, '/data/good', 0, 5000);
    storeObject(site, scratch, '/data/a/moved', 0, 100);
    // directory mv: the symlink moves, the Pfn stays stale
    renameSync(join(site.nsRoot, 'a'), join(site.nsRoot, 'b'));
    // data file without symlink (rm while the disk was away)
    storeObject(site, scratch, '/data/ghost', 1, 100).toString();
    unlinkSync(join(site.nsRoot, 'ghost'));
    // dangling symlink
    const gone = storeObject(site, scratch, '/data/gone', 1, 100);
    unlinkSync(gone);
    // two data files claim one LFN (create over a dangling link)
    const first = storeObject(site, scratch, '/data/twice', 0, 100);
    const firstBytes = readFileSync(first);
    unlinkSync(first);
    unlinkSync(join(site.nsRoot, 'twice'));
    storeObject(site, scratch, '/data/twice', 1, 100);
    // the first disk comes back with its old data file (re-created here with its Pfn)
    writeFileSync(first, firstBytes);
    setAttributeSync(first, 'user.XrdFrm.Pfn', Buffer.from(`${site.localroot}/data/twice\0`));
    // hostile Pfns
    const pfn = (b: Buffer) => site.store(`/data/h${randomBytes(4).toString('hex')}`, 0, (p) => writeFileSync(p, 'x'), { pfn: b, symlink: false });
    pfn(Buffer.concat([Buffer.from('/'), Buffer.alloc(65536 - 2, 0x61), Buffer.from([0])]));
    pfn(Buffer.from(`${site.localroot}/data/../../etc/passwd\0`));
    pfn(Buffer.from(`${site.localroot}/data/a\0b\0`));
    pfn(Buffer.from([0x2f, 0xff, 0xfe, 0x00]));
    pfn(Buffer.from('/elsewhere/file\0'));
    // names with newlines, garbage and truncated archives, a directory where a file should be
    storeObject(site, scratch, '/data/new\nline', 0, 3000);
    site.store('/data/garbage', 0, (p) => writeFileSync(p, randomBytes(3000)));
    const trunc = storeObject(site, scratch, '/data/truncated', 1, 9000);
    truncateSync(trunc, 5000);
    const bucket = dirname(good);
    mkdirSync(join(bucket, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000%'));
    // a symlink loop in the namespace
    symlinkSync(join(site.nsRoot, 'loop2'), join(site.nsRoot, 'loop1'));
    symlinkSync(join(site.nsRoot, 'loop1'), join(site.nsRoot, 'loop2'));

    const before = treeSnapshot(site.root);
    const r = await scanSite(layoutOf(site), { workers: 0 });
    assert.equal(treeSnapshot(site.root), before, 'scan modified the tree');
    const kinds = (k: string): string[] => r.findings.filter((f) => f.kind === k).map((f) => f.lfn ?? f.path);
    assert.ok(kinds('stale-pfn').includes('/data/b/moved'), JSON.stringify(kinds('stale-pfn')));
    assert.ok(kinds('data-without-symlink').includes('/data/ghost'));
    assert.ok(kinds('dangling-symlink').includes('/data/gone'));
    assert.deepEqual(kinds('duplicate-lfn').filter((x) => x === '/data/twice').length, 2);
    assert.equal(kinds('hostile-pfn').length, 5, JSON.stringify(r.findings.filter((f) => f.kind === 'hostile-pfn').map((f) => f.reason)));
    assert.ok(r.findings.some((f) => f.kind === 'bad-archive' && /NOT_A_ZIP/.test(f.reason)));
    assert.ok(r.findings.some((f) => f.kind === 'bad-archive' && /TRUNCATED_ARCHIVE/.test(f.reason)));
    assert.ok(r.findings.some((f) => f.kind === 'unexpected-entry' && f.path.endsWith('000%')));
    assert.ok(r.findings.some((f) => f.kind === 'foreign-symlink' && f.path.endsWith('loop1')));
    const nl = r.records.find((x: ArchiveRecord) => x.lfn === '/data/new\nline');
    assert.equal(nl?.parseStatus, 'ok');
    const t = r.records.find((x) => x.lfn === '/data/truncated');
    assert.equal(t?.parseStatus, 'truncated');
  });
});
