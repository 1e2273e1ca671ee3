// The native walker's records mode (native/src/scan-usual.cc, agent/scan/native-records.ts)
// against the JS record builder, its oracle: on archives, xattrs, Pfns and names around every
// rule of the fast path, and under several localroot / export settings, a bucket gives the same
// records and findings whichever way it is read, and the walker compacts only clean archives.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setAttributeSync } from 'fs-xattr';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { getCodec } from '../../shared/codec/index.js';
import { dosTimestamp } from '../../shared/xrdec/zip-constants.js';
import { centralHeader, endRecords, localHeader, type LayoutEntry } from '../../shared/xrdec/zip-layout.js';
import { readBucketJs } from '../../agent/scan/bucket-reader-js.js';
import { loadScanAddon } from '../../agent/scan/bucket-reader-native.js';
import { recordStamp, scanBucket, type BucketTask, type ScanSiteContext } from '../../agent/scan/bucket-scan.js';
import { nativeRecordReader } from '../../agent/scan/native-records.js';
import { scanSite } from '../../agent/scan/site-scanner.js';

const codec = getCodec();
const t = dosTimestamp(new Date('2025-11-24T12:00:00Z'));

interface Entry {
  readonly name: string;
  readonly data: Buffer;
  readonly kind?: 'crc32c' | 'crc32' | 'wrong';
  /** Bytes of extra field in the local header. */
  readonly lfhExtra?: number;
}

/** A stored zip as XrdZip writes it, with knobs for the oddities. */
function zip(entries: readonly Entry[], comment = ''): Buffer {
  const parts: Buffer[] = [];
  const cd: Buffer[] = [];
  let off = 0;
  for (const e of entries) {
    const crc = e.kind === 'crc32' ? codec.crc32(e.data) : e.kind === 'wrong' ? 0x12345678 : e.data.length ? codec.crc32c(e.data) : 0;
    const le: LayoutEntry = { name: e.name, size: e.data.length, crc };
    let lfh = localHeader(le, t);
    if (e.lfhExtra) {
      lfh = Buffer.concat([lfh, Buffer.alloc(e.lfhExtra)]);
      lfh.writeUInt16LE(e.lfhExtra, 28);
    }
    cd.push(centralHeader(le, off, t));
    parts.push(lfh, e.data);
    off += lfh.length + e.data.length;
  }
  const dir = Buffer.concat(cd);
  const end = endRecords(entries.length, off, dir.length);
  if (comment) end.writeUInt16LE(comment.length, end.length - 2);
  return Buffer.concat([...parts, dir, end, Buffer.from(comment)]);
}

const bytes = (n: number, fill?: number): Buffer => (fill === undefined ? randomBytes(n) : Buffer.alloc(n, fill));

const ARCHIVES: Record<string, Buffer> = {
  crc32c: zip([{ name: 'obj.0.3', data: bytes(1000) }, { name: 'obj.1.0', data: bytes(300) }]),
  crc32: zip([{ name: 'obj.0.0', data: bytes(700), kind: 'crc32' }]),
  // last entry one byte 0xFF: both CRCs agree, the builder looks at earlier entries
  ambiguous: zip([{ name: 'obj.0.1', data: bytes(1024) }, { name: 'obj.1.0', data: bytes(1, 0xff) }]),
  ambiguousCrc32: zip([{ name: 'obj.0.1', data: bytes(1024), kind: 'crc32' }, { name: 'obj.1.0', data: bytes(1, 0xff), kind: 'crc32' }]),
  zeroSizes: zip([{ name: 'obj.0.0', data: bytes(0) }, { name: 'obj.1.0', data: bytes(0) }]),
  noEntries: zip([]),
  lfhExtra: zip([{ name: 'obj.0.0', data: bytes(500), lfhExtra: 4 }]),
  wrongCrc: zip([{ name: 'obj.0.0', data: bytes(500), kind: 'wrong' }]),
  dataOutsideTail: zip([{ name: 'obj.0.0', data: bytes(40_000) }]),
  cdOutsideTail: zip(Array.from({ length: 500 }, (_, i) => ({ name: `obj.${i}.0`, data: bytes(8) }))),
  leadingZero: zip([{ name: 'obj.00.0', data: bytes(10) }]),
  stripe255: zip([{ name: 'obj.0.255', data: bytes(10) }]),
  stripe254: zip([{ name: 'obj.0.254', data: bytes(10) }]),
  blockOrder: zip([{ name: 'obj.1.0', data: bytes(10) }, { name: 'obj.0.0', data: bytes(10) }]),
  twoStripes: zip([{ name: 'obj.0.0', data: bytes(10) }, { name: 'obj.0.1', data: bytes(10) }]),
  badName: zip([{ name: 'obj.0.0x', data: bytes(10) }]),
  bigBlock: zip([{ name: 'obj.4294967296.0', data: bytes(10) }]),
  withComment: zip([{ name: 'obj.0.0', data: bytes(10) }], 'hi'),
  truncated: zip([{ name: 'obj.0.0', data: bytes(3000) }]).subarray(0, 2000),
  garbage: bytes(3000),
  empty: Buffer.alloc(0),
};

const PFNS: readonly (string | Buffer)[] = [
  '/data/a/b\0', '/data/a/b', '/data\0', '/data2/x\0', '/data/../x\0', '/data/./x\0', '/data//x\0', '/data/x/\0',
  '/data/é\0', '/data/x\0y\0', 'data/x\0', '\0', '', '\uFEFF/data/x\0', '/lr/data/a\0', '/lr\0', '/lr/data\0',
  '/lrx/data/a\0', '/other/f\0', '/x/y\0', Buffer.from([0x2f, 0xff, 0x00]), `/data/${'p'.repeat(4200)}\0`,
];

const XATTRS: readonly Record<string, string>[] = [
  { 'user.U.xrdec.strpver': '1700000000', 'user.U.xrdec.filesize': '1300' },
  { 'user.xrdec.strpver': '1700000000', 'user.xrdec.filesize': '0' },
  { 'user.U.xrdec.strpver': '1', 'user.xrdec.strpver': '1', 'user.U.xrdec.filesize': '1' },
  { 'user.U.xrdec.strpver': '0123', 'user.U.xrdec.filesize': '999999999999999' },
  { 'user.U.xrdec.strpver': '1234567890123456', 'user.U.xrdec.filesize': '5' },
  { 'user.U.xrdec.strpver': '+5', 'user.U.xrdec.filesize': '5' },
  { 'user.U.xrdec.strpver': '', 'user.U.xrdec.filesize': '5' },
  { 'user.U.xrdec.strpver': '5' },
  {},
];

const SITES: readonly ScanSiteContext[] = [
  { serverId: 's', exports: ['/data'] },
  { serverId: 's', localroot: '/lr', exports: ['/data/', '/x'] },
  { serverId: 's', localroot: '/lr/', exports: ['/data'] },
  { serverId: 's', localroot: '/', exports: ['/'] },
  { serverId: 's', localroot: '', exports: ['/data', '/other'] },
  { serverId: 's', exports: [] },
];

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (r: { records: ArchiveRecord[]; findings: Finding[] }): unknown => ({
  records: [...r.records].sort((x, y) => cmp(x.dataPath, y.dataPath)),
  findings: [...r.findings].sort((x, y) => cmp(`${x.path}\0${x.kind}\0${x.reason}`, `${y.path}\0${y.kind}\0${y.reason}`)),
});

describe('native walker, records mode', () => {
  let root = '';
  let n = 0;
  const put = (bucket: string, body: Buffer, pfn: string | Buffer | undefined, xattrs: Record<string, string>, name?: string): string => {
    const file = join(bucket, name ?? `${(n++).toString(16).toUpperCase().padStart(40, '0')}0A6%`);
    writeFileSync(file, body);
    if (pfn !== undefined) setAttributeSync(file, 'user.XrdFrm.Pfn', typeof pfn === 'string' ? Buffer.from(pfn) : pfn);
    for (const [k, v] of Object.entries(xattrs)) setAttributeSync(file, k, Buffer.from(v));
    return file;
  };
  before(() => {
    // tmpfs: holds large xattrs
    root = mkdtempSync('/dev/shm/ecguard-records-');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('gives the JS builder\'s records and findings, bucket by bucket, under every site setting', () => {
    const { addon } = loadScanAddon();
    assert.ok(addon, 'ecguard_native lacks the walker: run `npm run build:native`');
    const spacePath = join(root, 'disk');
    const bucket = (xx: string): string => {
      const b = join(spacePath, 'public', xx);
      mkdirSync(b, { recursive: true });
      return b;
    };
    const usual = XATTRS[0] as Record<string, string>;
    const a = bucket('0A');
    for (const body of Object.values(ARCHIVES)) put(a, body, '/data/a/b\0', usual);
    const p = bucket('0B');
    for (const pfn of PFNS) put(p, ARCHIVES.crc32c as Buffer, pfn, usual);
    put(p, ARCHIVES.crc32c as Buffer, undefined, usual);
    const x = bucket('0C');
    for (const xa of XATTRS) put(x, ARCHIVES.crc32 as Buffer, '/lr/data/a\0', xa);
    const names = bucket('0D');
    for (const name of ['é-valid%', 'no-percent', '%', 'plain%']) put(names, ARCHIVES.crc32c as Buffer, '/data/n\0', usual, name);
    mkdirSync(join(names, 'dir%'));

    const reader = nativeRecordReader(addon);
    let compacted = 0;
    for (const site of SITES) {
      for (const xx of ['0A', '0B', '0C', '0D']) {
        const task: BucketTask = { diskId: 'd', space: 'public', spacePath, bucketRel: `public/${xx}` };
        const js = scanBucket(task, site, codec, readBucketJs);
        const native = scanBucket(task, site, codec, reader);
        assert.deepEqual(sorted(native), sorted(js), `${xx} with ${JSON.stringify(site)}`);
        assert.equal(native.entries, js.entries);
        compacted += reader(join(spacePath, task.bucketRel), recordStamp(task, site)).built?.length ?? 0;
      }
    }
    assert.ok(compacted >= 30, `only ${compacted} records compacted`);
  });

  it('compacts the clean archives and leaves the ambiguous CRC to the builder', () => {
    const { addon } = loadScanAddon();
    assert.ok(addon);
    const spacePath = join(root, 'disk2');
    const b = join(spacePath, 'public', '00');
    mkdirSync(b, { recursive: true });
    const usual = XATTRS[0] as Record<string, string>;
    put(b, ARCHIVES.crc32c as Buffer, '/data/c\0', usual, 'c%');
    put(b, ARCHIVES.ambiguousCrc32 as Buffer, '/data/amb\0', usual, 'amb%');
    put(b, ARCHIVES.withComment as Buffer, '/data/cm\0', usual, 'cm%');
    const task: BucketTask = { diskId: 'd', space: 'public', spacePath, bucketRel: 'public/00' };
    const site: ScanSiteContext = { serverId: 's', exports: ['/data'] };
    const l = nativeRecordReader(addon)(join(spacePath, 'public', '00'), recordStamp(task, site));
    assert.deepEqual(l.built?.map((r) => r.lfn), ['/data/c']);
    assert.deepEqual(l.files.map((f) => f.name).sort(), ['amb%', 'cm%']);
    const r = scanBucket(task, site, codec, nativeRecordReader(addon));
    assert.equal(r.records.find((x) => x.lfn === '/data/amb')?.crcKind, 'crc32');
  });

  it('scanSite on libuv\'s pool: same result as the JS reader in worker threads', async () => {
    const spacePath = join(root, 'disk3');
    for (let i = 0; i < 12; i++) {
      const b = join(spacePath, 'public', i.toString(16).toUpperCase().padStart(2, '0'));
      mkdirSync(b, { recursive: true });
      for (let k = 0; k < 20; k++) put(b, ARCHIVES.crc32c as Buffer, `/data/s${i}/${k}\0`, XATTRS[0] as Record<string, string>);
      put(b, ARCHIVES.garbage as Buffer, `/data/g${i}\0`, XATTRS[0] as Record<string, string>);
    }
    const layout = { serverId: 's', disks: [{ diskId: 'd', space: 'public', path: spacePath }], exports: ['/data'] };
    const js = await scanSite(layout, { workers: 2, reader: 'js', namespace: false });
    const native = await scanSite(layout, { workers: 2, reader: 'native', namespace: false });
    assert.equal(native.records.length, 12 * 21);
    assert.deepEqual(sorted(native), sorted(js));
    assert.deepEqual(native.disks, js.disks);
  });
});
