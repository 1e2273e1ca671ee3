// The native batched bucket walker (native/src/scan-dir.cc + bucket-reader-native.ts) against
// its oracle, the JS reader: same BucketListing on a tree with every oddity the JS reader
// handles, and the same scanSite output. Not provoked here (no deterministic way): a file
// deleted between readdir and open, a file shrinking during the read, EACCES (tests run as root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { loadNativeAddon } from '../../shared/codec/native-codec.js';
import { readBucketJs, type BucketListing } from '../../agent/scan/bucket-reader-js.js';
import { decodeScanBuffer, loadScanAddon, nativeBucketReader, type ScanDirAddon } from '../../agent/scan/bucket-reader-native.js';
import { pickBucketReader } from '../../agent/scan/bucket-reader.js';
import { MAX_XATTR_VALUE, SCAN_TAIL_BYTES, SCAN_XATTRS } from '../../agent/scan/raw-data-file.js';
import { scanSite, type SiteLayout } from '../../agent/scan/site-scanner.js';
import { makeArchiveTemplate, writeArchive } from '../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

const byName = (l: BucketListing): BucketListing => ({ ...l, files: [...l.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) });

function addon(): ScanDirAddon {
  const a = loadNativeAddon() as unknown as Partial<ScanDirAddon>;
  // Fail, not skip: a build without the walker is a broken build.
  assert.equal(typeof a.scanDirSync, 'function', 'ecguard_native lacks scanDirSync: run `npm run build:native`');
  assert.equal(typeof a.scanDir, 'function', 'ecguard_native lacks scanDir: run `npm run build:native`');
  assert.equal(typeof a.scanBuckets, 'function', 'ecguard_native lacks scanBuckets: run `npm run build:native`');
  return a as ScanDirAddon;
}

/** A two-disk site on tmpfs (which holds 64 KiB xattrs) with every oddity in its buckets. */
function oddSite(): { site: FakeSite; buckets: string[]; plainNs: string; bothNs: string; halfU: string } {
  const site = makeFakeSite({ base: '/dev/shm' });
  const small = makeArchiveTemplate(3000);
  const big = makeArchiveTemplate(200_000); // archive larger than the 16 KiB tail
  const put = (lfn: string, disk: number, write: (p: string) => void, o: { pfn?: Buffer; symlink?: boolean } = {}): string => site.store(lfn, disk, write, o);
  for (let i = 0; i < 24; i++) put(`/data/f${i}`, i % 2, (p) => writeArchive(p, i % 3 ? small : big));
  // fixture-style xattr names (user.xrdec.*), and both namespaces at once
  const plainNs = put('/data/fixture-ns', 0, (p) => {
    writeFileSync(p, small.bytes);
    setAttributeSync(p, 'user.xrdec.strpver', Buffer.from('1700000000'));
    setAttributeSync(p, 'user.xrdec.filesize', Buffer.from('3000'));
  });
  const bothNs = put('/data/both-ns', 1, (p) => {
    writeArchive(p, small);
    setAttributeSync(p, 'user.xrdec.strpver', Buffer.from('1'));
  });
  // half of the user.U. pair: that namespace is the file's (as interpretEcXattrs decides)
  const halfU = put('/data/half-u', 1, (p) => {
    writeFileSync(p, small.bytes);
    setAttributeSync(p, 'user.U.xrdec.filesize', Buffer.from('3000'));
    setAttributeSync(p, 'user.xrdec.strpver', Buffer.from('1700000000'));
    setAttributeSync(p, 'user.xrdec.filesize', Buffer.from('3000'));
  });
  const bare = put('/data/no-xattrs-but-pfn', 0, (p) => writeFileSync(p, small.bytes));
  const bucket = join(bare, '..');
  writeFileSync(join(bucket, '0000000000000000000000000000000000000000AA0%'), small.bytes); // no xattrs at all
  // Files with other attributes, or many of them: the walker asks for its names only.
  const unrelated = join(bucket, '0000000000000000000000000000000000000000BB0%');
  writeFileSync(unrelated, small.bytes);
  setAttributeSync(unrelated, 'user.XrdCks.adler32', Buffer.from('0'));
  put('/data/long-xattr-list', 0, (p) => {
    writeArchive(p, small);
    for (let k = 0; k < 40; k++) setAttributeSync(p, `user.XrdCks.${'c'.repeat(30)}${k}`, Buffer.from('1'));
  });
  put('/data/exactly-max', 0, (p) => writeArchive(p, small), { pfn: Buffer.alloc(MAX_XATTR_VALUE, 0x61) });
  put('/data/one-over-max', 0, (p) => writeArchive(p, small), { pfn: Buffer.alloc(MAX_XATTR_VALUE + 1, 0x61) });
  put('/data/huge-pfn', 1, (p) => writeArchive(p, small), { pfn: Buffer.alloc(65536 - 1, 0x62), symlink: false });
  put('/data/empty-pfn', 1, (p) => writeArchive(p, small), { pfn: Buffer.alloc(0), symlink: false });
  put('/data/zero-bytes', 0, (p) => writeArchive(p, { bytes: Buffer.alloc(0), strpver: 1, filesize: 0 }));
  put('/data/shorter-than-tail', 1, (p) => writeArchive(p, { bytes: Buffer.from('PK\x05\x06'), strpver: 1, filesize: 5 }));
  put('/data/exactly-tail', 1, (p) => writeArchive(p, { bytes: Buffer.alloc(SCAN_TAIL_BYTES, 7), strpver: 1, filesize: 5 }));
  put('/data/new\nline', 0, (p) => writeArchive(p, small));
  // not data files, where data files live
  mkdirSync(join(bucket, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000%'));
  symlinkSync(bare, join(bucket, 'EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE000%'));
  symlinkSync('/nowhere', join(bucket, 'dangling%'));
  execFileSync('mkfifo', [join(bucket, 'fifo%')]);
  writeFileSync(join(bucket, 'no-percent'), small.bytes);
  writeFileSync(join(bucket, 'é-valid-utf8-%'), small.bytes);
  writeFileSync(join(bucket, '\u{10FFFF}-max-code-point'), small.bytes);
  // names that are not UTF-8: latin1, a surrogate, an overlong, above U+10FFFF, truncated
  for (const bad of [[0xe9, 0x25], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0x41, 0xe2, 0x82]]) {
    writeFileSync(Buffer.concat([Buffer.from(bucket + '/'), Buffer.from(bad)]), small.bytes);
  }
  const buckets = site.disks.flatMap((d) => readdirSync(join(d.path, d.space)).map((b) => join(d.path, d.space, b)));
  return { site, buckets, plainNs, bothNs, halfU };
}

const layoutOf = (s: FakeSite): SiteLayout => ({ serverId: s.serverId, disks: s.disks, exports: [s.exportPath], ...(s.localroot ? { localroot: s.localroot } : {}) });
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const findingKey = (f: Finding): string => `${f.path}\0${f.kind}\0${f.reason}`;

describe('native bucket walker', () => {
  let site: FakeSite | undefined;
  afterEach(() => site?.cleanup());

  it('is built into the addon and picked by "auto" and "native"', () => {
    addon();
    assert.ok(loadScanAddon().addon);
    assert.notEqual(pickBucketReader('auto'), readBucketJs);
    assert.notEqual(pickBucketReader('native'), readBucketJs);
    assert.equal(pickBucketReader('js'), readBucketJs);
  });

  it('returns exactly what the JS reader returns, bucket by bucket, sync and async', async () => {
    const a = addon();
    const odd = oddSite();
    site = odd.site;
    const native = nativeBucketReader(a);
    let files = 0;
    for (const dir of odd.buckets) {
      const want = byName(readBucketJs(dir));
      assert.deepEqual(byName(native(dir)), want, dir);
      const viaAsync = decodeScanBuffer(await a.scanDir(dir, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS), SCAN_XATTRS.length);
      assert.deepEqual(byName({ files: viaAsync }), want, `${dir} (async)`);
      files += want.files.length;
    }
    assert.ok(files >= 45, `only ${files} entries`);
    // the oddities really are there and reported as the JS reader reports them
    const all = odd.buckets.flatMap((d) => native(d).files);
    const codes = new Set(all.map((f) => f.error?.code).filter((c) => c !== undefined));
    assert.deepEqual([...codes].sort(), ['EILSEQ', 'ELOOP']);
    assert.equal(all.filter((f) => f.error?.code === 'EILSEQ').length, 5);
    assert.ok(all.some((f) => f.xattrs[0] === 'oversized'));
    assert.ok(all.some((f) => f.xattrs[0]?.length === MAX_XATTR_VALUE));
    assert.ok(all.some((f) => f.tail.length === SCAN_TAIL_BYTES && f.size > SCAN_TAIL_BYTES));
    assert.ok(all.some((f) => f.isFile && f.size === 0 && f.tail.length === 0));
    assert.ok(all.some((f) => !f.error && !f.isFile));
    // the user. pair is read only when the user.U. pair is absent
    const named = (path: string): (typeof all)[number] => {
      const f = all.find((x) => x.name === basename(path));
      assert.ok(f, path);
      return f;
    };
    assert.deepEqual(named(odd.plainNs).xattrs.slice(1).map((v) => v?.toString()), [undefined, undefined, '1700000000', '3000']);
    assert.equal(named(odd.bothNs).xattrs[3], undefined, 'user.xrdec.strpver is not read beside user.U.xrdec.*');
    assert.ok(named(odd.bothNs).xattrs[1] !== undefined && named(odd.bothNs).xattrs[2] !== undefined);
    assert.deepEqual(named(odd.halfU).xattrs.slice(1).map((v) => v?.toString()), [undefined, '3000', undefined, undefined]);
  });

  it('leaves every data file\'s atime as it was (O_NOATIME), native and JS reader alike', async () => {
    const a = addon();
    const odd = oddSite();
    site = odd.site;
    // atime before mtime: under relatime (how /dev/shm is mounted) any plain read updates it
    const past = new Date('2020-01-01T00:00:00Z');
    // (names that are not UTF-8 cannot be named from JS: left out)
    const files = odd.buckets.flatMap((d) => readdirSync(d).filter((n) => !n.includes('\uFFFD')).map((n) => join(d, n))).filter((p) => lstatSync(p).isFile());
    assert.ok(files.length > 30);
    for (const p of files) utimesSync(p, past, new Date());
    const atimes = (): number[] => files.map((p) => lstatSync(p).atimeMs);
    const before = atimes();
    assert.ok(before.every((t) => t === past.getTime()));
    const native = nativeBucketReader(a);
    for (const dir of odd.buckets) {
      native(dir);
      await a.scanDir(dir, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS);
      readBucketJs(dir);
    }
    assert.deepEqual(atimes(), before);
    // the check can fail: a plain read does move it
    readFileSync(files[0] as string);
    assert.notEqual(lstatSync(files[0] as string).atimeMs, past.getTime());
  });

  it('reports a bucket it cannot list like the JS reader, and throws / rejects with the errno code', async () => {
    const a = addon();
    const native = nativeBucketReader(a);
    for (const dir of ['/nonexistent-ecguard-dir', '/etc/hostname']) {
      assert.deepEqual(native(dir), readBucketJs(dir));
      assert.throws(() => a.scanDirSync(dir, 1, 1, []), (e: NodeJS.ErrnoException) => e.code === readBucketJs(dir).error);
      await assert.rejects(a.scanDir(dir, 1, 1, []), (e: NodeJS.ErrnoException) => e.code === readBucketJs(dir).error);
    }
    assert.throws(() => a.scanDirSync('/tmp', -1, 1, []), RangeError);
    await assert.rejects(a.scanDir('/tmp', 1, 1, [7 as unknown as string]), TypeError);
  });

  it('scanBuckets walks every directory once on its threads, as scanDir does; stops when told', async () => {
    const a = addon();
    const odd = oddSite();
    site = odd.site;
    const dirs = [...odd.buckets, '/nonexistent-ecguard-dir', ...odd.buckets];
    for (const threads of [1, 2, 5]) {
      const seen: number[] = [];
      await a.scanBuckets(dirs, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, undefined, threads, (i, raw, error) => {
        seen.push(i);
        const dir = dirs[i] as string;
        if (raw === null) {
          assert.equal((error as NodeJS.ErrnoException).code, readBucketJs(dir).error, dir);
          return;
        }
        assert.equal(error, null);
        assert.deepEqual(byName({ files: decodeScanBuffer(raw, SCAN_XATTRS.length) }), byName(readBucketJs(dir)), dir);
      });
      assert.deepEqual(seen.sort((x, y) => x - y), dirs.map((_d, i) => i), `threads ${threads}`);
    }
    // a slow consumer holds the walkers back without losing results
    let slow = 0;
    await a.scanBuckets(dirs, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, undefined, 3, () => {
      slow++;
      const until = Date.now() + 2;
      while (Date.now() < until);
    });
    assert.equal(slow, dirs.length);
    let calls = 0;
    await a.scanBuckets(dirs, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, undefined, 1, () => ++calls < 2);
    assert.equal(calls, 2, 'false stops the walk');
    calls = 0;
    await assert.rejects(a.scanBuckets(dirs, SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, undefined, 2, () => {
      if (++calls === 3) throw new Error('consumer failed');
    }), /consumer failed/);
    assert.equal(calls, 3, 'nothing reaches onBucket after it threw');
    await a.scanBuckets([], SCAN_TAIL_BYTES, MAX_XATTR_VALUE, SCAN_XATTRS, undefined, 2, () => assert.fail('no directories, no calls'));
    await assert.rejects(a.scanBuckets(dirs, 1, 1, [], undefined, 0, () => undefined), RangeError);
    await assert.rejects(a.scanBuckets(['/tmp', ''], 1, 1, [], undefined, 1, () => undefined), TypeError);
  });

  it('scanSite with reader "native" equals reader "js", with and without worker threads', async () => {
    addon();
    const odd = oddSite();
    site = odd.site;
    const sorted = (r: { records: ArchiveRecord[]; findings: Finding[] }): unknown => ({
      records: [...r.records].sort((x, y) => cmp(`${x.diskId}/${x.dataPath}`, `${y.diskId}/${y.dataPath}`)),
      findings: [...r.findings].sort((x, y) => cmp(findingKey(x), findingKey(y))),
    });
    for (const workers of [0, 2]) {
      const js = await scanSite(layoutOf(site), { workers, reader: 'js' });
      const native = await scanSite(layoutOf(site), { workers, reader: 'native' });
      assert.ok(js.records.length >= 30);
      assert.deepEqual(sorted(native), sorted(js));
      assert.deepEqual(native.disks, js.disks);
    }
  });
});
