// The Stripes service between two agents on loopback, over real XrdEc archives on fake sites:
// remote reads equal local reads, hostile references are refused, a repair rebuilt from remote
// sources is placed (verified, linked) on the peer exactly once, and nothing half-written stays.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { getCodec } from '../../shared/codec/index.js';
import { rebuildStripes } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import { closeSources, localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import type { ZipEntry } from '../../shared/xrdec/zip-directory.js';
import { cleanupTempFiles } from '../../agent/repair/temp-cleanup.js';
import { verifyArchive, verifyStripeSet } from '../../agent/repair/verify-archive.js';
import { PeerError, PeerPool } from '../../agent/stripes/peer-pool.js';
import { remotePlacementProgress } from '../../agent/stripes/placement-progress.js';
import { remotePlacementSink, type PlacementHeader } from '../../agent/stripes/placement-sink.js';
import { headerToWire } from '../../agent/stripes/placement-wire.js';
import { remoteArchiveSource } from '../../agent/stripes/remote-source.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, treeOf, type EncodedObject } from '../repair/repair-harness.js';
import { siteContext, storeArchive, until, type SiteContext } from './stripes-harness.js';

const codec = getCodec();
const profile = { nbData: 2, nbParity: 1, chunkSize: 64 * 1024 };
const lfn = '/data/obj/file.dat';
type Entry = { name: string; data: Buffer; crc: number; dosStamp: number };

/** The PeerError a promise rejects with (fails the test when it resolves). */
async function refusal(p: Promise<unknown>): Promise<PeerError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PeerError, `expected a PeerError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('Stripes service: two agents on loopback', function () {
  this.timeout(120_000);
  let obj: EncodedObject;
  let site0: FakeSite;
  let site1: FakeSite;
  let ctx0: SiteContext;
  let ctx1: SiteContext;
  let srv0: StripesServer;
  let srv1: StripesServer;
  let addr0: string;
  let addr1: string;
  let pool: PeerPool;
  let paths: string[];
  const disk = (site: FakeSite, i: number) => site.disks[i] as FakeSite['disks'][number];
  const remote = (i: number, o = {}) => remoteArchiveSource(pool.client('srv00', addr0), { serverId: 'srv00', diskId: disk(site0, i).diskId, dataPath: paths[i] as string }, o);
  const tempFiles = (site: FakeSite) => treeOf(site.root).filter((p) => p.includes('.ecguard-tmp-'));
  // Files and symlinks only: the placer may leave a new, empty bucket directory behind.
  const filesOf = (site: FakeSite) => treeOf(site.root).filter((p) => !p.endsWith('/'));

  before(async () => {
    obj = encodeRandomObject({ profile, size: 700_000, crcKind: 'crc32c', seed: 11, codec });
    site0 = makeFakeSite({ serverId: 'srv00', disks: 2 });
    site1 = makeFakeSite({ serverId: 'srv01', disks: 2 });
    // Archives 0 and 1 survive on srv00 (one per disk); archive 2 is the lost one.
    paths = [storeArchive(site0, 0, lfn, obj.archives[0] as string), storeArchive(site0, 1, lfn, obj.archives[1] as string, false)];
    setAttributeSync(join(disk(site0, 0).path, paths[0] as string), 'user.secret', 'not for peers');
    ctx0 = siteContext(site0, codec);
    ctx1 = siteContext(site1, codec);
    srv0 = new StripesServer(ctx0, { listen: '127.0.0.1:0', insecure: true });
    srv1 = new StripesServer(ctx1, { listen: '127.0.0.1:0', insecure: true });
    addr0 = `127.0.0.1:${await srv0.start()}`;
    addr1 = `127.0.0.1:${await srv1.start()}`;
    pool = new PeerPool({ insecure: true });
  });

  after(async () => {
    pool?.close();
    await srv0?.stop();
    await srv1?.stop();
    site0?.cleanup();
    site1?.cleanup();
    obj?.cleanup();
  });

  it('a remote source reads the same directory, entries and xattrs as a local one', async () => {
    let bytes = 0;
    const served = srv0.stats.bytesServed;
    for (const i of [0, 1]) {
      const local = localArchiveSource(obj.archives[i] as string);
      const r = remote(i, { onBytes: (n: number) => (bytes += n) });
      try {
        assert.equal(r.id, `srv00:${disk(site0, i).diskId}/${paths[i]}`);
        const [ld, rd] = await Promise.all([local.directory(), r.directory()]);
        assert.deepEqual(rd, ld);
        assert.ok(ld.entries.length >= 6);
        assert.deepEqual(await r.xattrs(), await local.xattrs());
        for (const e of ld.entries) assert.ok((await r.readEntry(e)).equals(await local.readEntry(e)), e.name);
        const batch = await r.readEntries([...ld.entries].reverse());
        assert.deepEqual(batch.map((b) => b.length), [...ld.entries].reverse().map((e) => e.size));
        assert.ok((batch[0] as Buffer).equals(await local.readEntry(ld.entries[ld.entries.length - 1] as ZipEntry)));
      } finally {
        await local.close();
        await r.close();
      }
    }
    assert.ok(bytes > 0);
    assert.equal(srv0.stats.bytesServed - served, bytes);
  });

  it('an entry stream sends the same bytes, only against credit, holding a read slot only while it has credit', async () => {
    const local = localArchiveSource(obj.archives[0] as string);
    const r = remote(0, { streamWindow: 2 });
    try {
      const entries = [...(await local.directory()).entries].reverse();
      const served = srv0.stats.bytesServed;
      const s = r.openEntryStream(entries);
      await until(() => srv0.stats.bytesServed - served > 0, 5000, 'the first credit used');
      await new Promise((res) => setTimeout(res, 200));
      // Nothing asked for yet: only the window's two entries were sent.
      assert.equal(srv0.stats.bytesServed - served, (entries[0]?.size ?? 0) + (entries[1]?.size ?? 0));
      assert.equal(srv0.stats.activeReads, 0, 'no slot held while waiting for credit');
      for (const e of entries) assert.ok((await s.next()).equals(await local.readEntry(e)), e.name);
      await assert.rejects(s.next(), /past the last entry/);
      await until(() => srv0.stats.activeReads === 0, 5000, 'the stream slot released');
      // One slot, two streams from this peer read in turns: neither waits for good on the other.
      srv0.setMaxStreams(1);
      const local1 = localArchiveSource(obj.archives[1] as string);
      const e1 = (await local1.directory()).entries;
      await local1.close();
      const [a, b] = [r.openEntryStream(entries), remote(1, { streamWindow: 1 }).openEntryStream(e1)];
      for (let k = 0; k < Math.max(entries.length, e1.length); k++) {
        if (k < entries.length) await a.next();
        if (k < e1.length) await b.next();
      }
      assert.equal(srv0.stats.peakReads >= 1, true);
      srv0.setMaxStreams(4);
      const bad = r.openEntryStream([entries[0] as ZipEntry, { ...(entries[0] as ZipEntry), name: 'obj.999.0' }]);
      const e = await refusal(bad.next());
      assert.deepEqual([e.status, e.peerCode], [grpc.status.NOT_FOUND, 'UNKNOWN_ENTRY']);
    } finally {
      await local.close();
      await r.close();
    }
  });

  it('sends the tail the parser needs and only XrdEc xattrs and the Pfn', async () => {
    const client = pool.client('srv00', addr0);
    const t = await new Promise<{ fileSize: number; offset: number; tail: Buffer; xattrs: Record<string, Buffer> }>((resolve, reject) =>
      client.readDirectory({ diskId: disk(site0, 0).diskId, dataPath: paths[0] as string }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    const local = localArchiveSource(obj.archives[0] as string);
    const dir = await local.directory();
    await local.close();
    assert.ok(t.fileSize > 16 * 1024);
    assert.equal(t.offset, Math.min(dir.cdOffset, t.fileSize - 16 * 1024));
    assert.equal(t.offset + t.tail.length, t.fileSize);
    assert.deepEqual(Object.keys(t.xattrs).sort(), ['user.U.xrdec.filesize', 'user.U.xrdec.strpver', 'user.XrdFrm.Pfn']);
  });

  it('refuses hostile references with clear errors', async () => {
    const d0 = disk(site0, 0);
    mkdirSync(join(d0.path, 'public', 'AB'), { recursive: true });
    symlinkSync(obj.archives[2] as string, join(d0.path, 'public', 'AB', 'evil%'));
    const outside = join(site0.root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'x%'), 'not an archive of this disk');
    symlinkSync(outside, join(d0.path, 'public', 'CD'));
    const S = grpc.status;
    const cases: [string, string, grpc.status, string, RegExp][] = [
      [d0.diskId, 'public/../../../etc/passwd', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /contains "\.\."/],
      [d0.diskId, `public/00/..%`, S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /\.\./],
      [d0.diskId, '/etc/passwd', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /not in the disk's space/],
      [d0.diskId, 'public/00', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /is not <space>\/<XX>\/<name>%/],
      [d0.diskId, 'other/00/x%', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /not in the disk's space "public"/],
      [d0.diskId, 'public/0g/x%', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /bucket/],
      [d0.diskId, 'public/00/passwd', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /does not name a data file/],
      [d0.diskId, 'public/AB/evil%', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /is a symlink: refused/],
      [d0.diskId, 'public/CD/x%', S.INVALID_ARGUMENT, 'BAD_ARCHIVE_REF', /not a directory \(a symlink\?\)/],
      [d0.diskId, 'public/00/0000%', S.NOT_FOUND, 'ARCHIVE_NOT_FOUND', /no archive public\/00\/0000%/],
      ['srv00:/nowhere', paths[0] as string, S.NOT_FOUND, 'UNKNOWN_DISK', /has no disk "srv00:\/nowhere"/],
    ];
    for (const [diskId, dataPath, status, code, re] of cases) {
      const src = remoteArchiveSource(pool.client('srv00', addr0), { serverId: 'srv00', diskId, dataPath });
      const e = await refusal(src.directory());
      assert.deepEqual([e.status, e.peerCode, e.code], [status, code, 'PEER_REFUSED'], `${dataPath}: ${e.message}`);
      assert.match(e.message, re);
      const names = await refusal(src.readEntry({ name: 'obj.0.0', size: 1 } as ZipEntry));
      assert.equal(names.peerCode, code, `${dataPath} (ReadEntries)`);
    }
    ctx0.states.set(d0.diskId, 'failed');
    try {
      const e = await refusal(remote(0).directory());
      assert.deepEqual([e.status, e.peerCode, e.code], [S.UNAVAILABLE, 'DISK_NOT_USABLE', 'PEER_UNAVAILABLE']);
      assert.match(e.message, /is failed/);
      ctx0.states.set(d0.diskId, 'downgraded'); // still read from
      assert.ok((await remote(0).directory()).entries.length > 0);
    } finally {
      ctx0.states.delete(d0.diskId);
    }
  });

  it('an unknown entry is NOT_FOUND naming it; a reply that does not fit the directory is refused', async () => {
    const r = remote(0);
    const dir = await r.directory();
    const e0 = dir.entries[0] as ZipEntry;
    const e = await refusal(r.readEntries([e0, { ...e0, name: 'obj.999.0' }]));
    assert.deepEqual([e.status, e.peerCode], [grpc.status.NOT_FOUND, 'UNKNOWN_ENTRY']);
    assert.match(e.message, /has no entry "obj\.999\.0"/);
    const wrongSize = await refusal(r.readEntry({ ...e0, size: e0.size + 1 }));
    assert.equal(wrongSize.code, 'PEER_BAD_REPLY');
    assert.match(wrongSize.message, /sent \d+ bytes for obj\./);
  });

  describe('placing a rebuilt archive on the peer', () => {
    let header: PlacementHeader;
    let rebuilt: Entry[];
    const client1 = () => pool.client('srv01', addr1);
    const linkPath = () => `${site1.localroot}${lfn}`;
    const place = async (h: PlacementHeader, entries: readonly Entry[], commit = true) => {
      const sink = remotePlacementSink(client1(), 'srv01', h);
      for (const e of entries) await sink.append(e);
      if (commit) return sink.commit();
      sink.abort();
      return undefined;
    };

    it('rebuilds from remote sources and places a verified, linked archive on srv01', async () => {
      const sources = [0, 1].map((i) => remote(i));
      const rebuild = await rebuildStripes({ profile, sources, targets: 1, codec });
      const expected = [...rebuild.expectedEntries(0)];
      header = {
        taskId: 'task-1', slot: 0, diskId: disk(site1, 0).diskId, lfn, strpverText: rebuild.version.strpverText,
        filesizeText: rebuild.version.filesizeText, xattrNamespace: 'user.U.', expectedEntries: expected.length, crcKind: 'crc32c',
      };
      const sink = remotePlacementSink(client1(), 'srv01', header);
      rebuilt = [];
      for await (const b of rebuild.stream()) {
        for (const e of b.targets[0] ?? []) {
          rebuilt.push({ name: e.name, data: e.data, crc: e.crc, dosStamp: 0 });
          await sink.append(e);
        }
      }
      const placed = await sink.commit();
      const path = join(disk(site1, 0).path, placed.dataPath);
      assert.deepEqual({ ...placed, dataPath: '' }, { slot: 0, serverId: 'srv01', diskId: disk(site1, 0).diskId, dataPath: '', size: placed.size, linked: true, alreadyPlaced: false });
      assert.match(placed.dataPath, /^public\/[0-9A-F]{2}\/[0-9A-F]{16}04467f000001[0-9A-F]{11}%$/);
      assert.equal(readlinkSync(linkPath()), path);
      const report = await verifyArchive(path, { entries: expected, crcKind: 'crc32c', version: header, xattrNamespace: 'user.U.', pfn: linkPath() }, codec);
      assert.deepEqual(report.problems, []);
      // The rebuilt stripes are the lost archive's, and the three archives agree on parity.
      const lost = localArchiveSource(obj.archives[2] as string);
      const placedSrc = localArchiveSource(path);
      for (const e of (await placedSrc.directory()).entries) {
        const want = (await lost.directory()).entries.find((x) => x.name === e.name) as ZipEntry;
        assert.ok((await placedSrc.readEntry(e)).equals(await lost.readEntry(want)), e.name);
      }
      const survivors = [0, 1].map((i) => localArchiveSource(obj.archives[i] as string));
      const set = await verifyStripeSet({ profile, sources: [...survivors, placedSrc], codec, crcKind: 'crc32c' });
      await closeSources([...survivors, placedSrc, lost]);
      assert.deepEqual(set.problems, []);
      assert.ok(set.checkedBlocks > 0);
      assert.deepEqual(tempFiles(site1), []);
      assert.equal(srv1.stats.placements, 1);
      await Promise.all(sources.map((s) => s.close()));
    });

    it('a retry of the same task and slot reports the earlier archive and writes nothing new', async () => {
      const tree = filesOf(site1);
      const first = await place(header, rebuilt);
      assert.equal(first?.alreadyPlaced, true);
      assert.equal(first?.linked, true);
      assert.deepEqual(filesOf(site1), tree);
      // A crash that lost the symlink: the retry links the archive it finds.
      rmSync(linkPath());
      const again = await place(header, rebuilt);
      assert.deepEqual(again, first);
      assert.deepEqual(filesOf(site1), tree);
      // Also once the disk is downgraded (no new archives there, but this one exists).
      ctx1.states.set(disk(site1, 0).diskId, 'downgraded');
      try {
        assert.deepEqual(await place(header, rebuilt), first);
      } finally {
        ctx1.states.delete(disk(site1, 0).diskId);
      }
      assert.equal(srv1.stats.placements, 1);
      assert.equal(srv1.stats.alreadyPlaced, 3);
    });

    it('replaces a namespace link into a dead disk, only while that disk is still dead', async () => {
      const dead = disk(site1, 1);
      const h = { ...header, taskId: 'task-replace', lfn: '/data/obj/moved.dat', replaceLinkOfDisk: dead.diskId };
      const link = `${site1.localroot}${h.lfn}`;
      symlinkSync(join(dead.path, 'public', '00', 'gone%'), link);
      const alive = await refusal(place(h, rebuilt));
      assert.deepEqual([alive.status, alive.peerCode], [grpc.status.FAILED_PRECONDITION, 'LINK_EXISTS']);
      const unknown = await refusal(place({ ...h, replaceLinkOfDisk: 'nope' }, rebuilt));
      assert.deepEqual([unknown.status, unknown.peerCode], [grpc.status.NOT_FOUND, 'UNKNOWN_DISK']);
      ctx1.states.set(dead.diskId, 'failed');
      try {
        const placed = await place(h, rebuilt);
        assert.equal(placed?.linked, true);
        assert.equal(readlinkSync(link), join(disk(site1, 0).path, placed?.dataPath ?? ''));
      } finally {
        ctx1.states.delete(dead.diskId);
      }
    });

    it('takes over a link into a readable disk only when it points at an archive the scrub found corrupt', async () => {
      const bad = disk(site1, 1);
      const h = { ...header, taskId: 'task-corrupt', lfn: '/data/obj/rotten.dat', replaceLinkOfDisk: bad.diskId };
      const link = `${site1.localroot}${h.lfn}`;
      const rotten = storeArchive(site1, 1, h.lfn, obj.archives[2] as string); // linked at `link`
      assert.equal(readlinkSync(link), join(bad.path, rotten));
      ctx1.states.set(bad.diskId, 'downgraded');
      try {
        // not known corrupt: the link stays, nothing is placed
        const refused = await refusal(place(h, rebuilt));
        assert.equal(refused.peerCode, 'LINK_EXISTS');
        assert.equal(readlinkSync(link), join(bad.path, rotten));
        // another archive of that disk known corrupt does not lend this link either
        ctx1.corrupt.add(`${bad.diskId}\0public/00/other%`);
        assert.equal((await refusal(place({ ...h, taskId: 'task-corrupt2' }, rebuilt))).peerCode, 'LINK_EXISTS');
        ctx1.corrupt.add(`${bad.diskId}\0${rotten}`);
        const placed = await place({ ...h, taskId: 'task-corrupt3' }, rebuilt);
        assert.equal(placed?.linked, true);
        assert.equal(readlinkSync(link), join(disk(site1, 0).path, placed?.dataPath ?? ''));
        assert.ok(statSync(join(bad.path, rotten)).isFile(), 'the corrupt archive itself stays');
      } finally {
        ctx1.states.delete(bad.diskId);
        ctx1.corrupt.clear();
      }
    });

    it('a drain moves the link off a readable disk only while it points at exactly the drained archive of the task\'s strpver', async () => {
      const drained = disk(site1, 1);
      const h = { ...header, lfn: '/data/obj/drained.dat', replaceLinkOfDisk: drained.diskId };
      const link = `${site1.localroot}${h.lfn}`;
      const old = storeArchive(site1, 1, h.lfn, obj.archives[2] as string); // linked at `link`
      const other = storeArchive(site1, 1, '/data/obj/elsewhere.dat', obj.archives[1] as string);
      // the link points at another file of that disk than the one drained: left alone, nothing placed
      assert.equal((await refusal(place({ ...h, taskId: 'task-drain1', replaceLinkOfPath: other }, rebuilt))).peerCode, 'LINK_EXISTS');
      assert.equal(readlinkSync(link), join(drained.path, old));
      // the drained file was rewritten with another strpver meanwhile (xrootd overwrote it): left alone
      const attr = h.xattrNamespace + 'xrdec.strpver';
      const keep = getAttributeSync(join(drained.path, old), attr);
      setAttributeSync(join(drained.path, old), attr, Buffer.from(String(Number(h.strpverText) + 1)));
      assert.equal((await refusal(place({ ...h, taskId: 'task-drain2', replaceLinkOfPath: old }, rebuilt))).peerCode, 'LINK_EXISTS');
      setAttributeSync(join(drained.path, old), attr, keep);
      // exactly that file, that strpver: the link moves to the new archive; the old one stays
      const before = readFileSync(join(drained.path, old));
      const placed = await place({ ...h, taskId: 'task-drain3', replaceLinkOfPath: old }, rebuilt);
      assert.equal(placed?.linked, true);
      assert.equal(readlinkSync(link), join(disk(site1, 0).path, placed?.dataPath ?? ''));
      assert.ok(readFileSync(join(drained.path, old)).equals(before), 'the drained archive itself is untouched');
    });

    it('an aborted stream leaves no temp file; a broken one keeps its partial archive for a retry', async () => {
      const tree = filesOf(site1);
      const h = { ...header, taskId: 'task-cancel', lfn: '/data/obj/other.dat' };
      const sink = remotePlacementSink(client1(), 'srv01', h);
      for (const e of rebuilt.slice(0, 3)) await sink.append(e);
      await until(() => tempFiles(site1).length === 1, 5000, 'the temp file');
      sink.abort();
      await until(() => tempFiles(site1).length === 0, 5000, 'the temp file to go');
      await assert.rejects(sink.commit(), /committed or aborted/);
      assert.deepEqual(filesOf(site1), tree);
      // Half-closed without commit: refused; what arrived stays as the partial of (task-end, 0).
      const ended = await new Promise<grpc.ServiceError | null>((resolve) => {
        const call = client1().placeArchive((err) => resolve(err));
        call.write({ msg: { $case: 'header', value: headerToWire({ ...header, taskId: 'task-end', lfn: '/data/obj/end.dat' }) } });
        call.write({ msg: { $case: 'entry', value: rebuilt[0] as Entry } });
        call.end();
      });
      assert.equal(ended?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(ended?.details ?? '', /ended without commit/);
      assert.deepEqual(tempFiles(site1).map((p) => basename(p)), ['.ecguard-tmp-task-end-0.part']);
      assert.ok(!readdirSync(join(site1.nsRoot, 'obj')).includes('end.dat'), 'nothing in the namespace');
      // Old partials go at agent start; young ones stay for their retry.
      const d = disk(site1, 0);
      assert.deepEqual(cleanupTempFiles(d.path, d.space), []);
      assert.equal(cleanupTempFiles(d.path, d.space, 6 * 3600_000, Date.now() + 7 * 3600_000).length, 1);
      assert.deepEqual(filesOf(site1), tree);
    });

    it('a retry resumes a broken placement: PlacementProgress reports the good entries, the rest is appended', async () => {
      const tree = filesOf(site1);
      const h = { ...header, taskId: 'task-resume', lfn: '/data/obj/resumed.dat' };
      const first = remotePlacementSink(client1(), 'srv01', h);
      for (const e of rebuilt.slice(0, 3)) await first.append(e);
      const bytes = rebuilt.slice(0, 3).reduce((n, e) => n + 30 + e.name.length + e.data.length, 0);
      await until(() => tempFiles(site1).length === 1 && statSync(join(site1.root, tempFiles(site1)[0] as string)).size >= bytes, 5000, 'the partial with 3 entries');
      const partial = join(site1.root, tempFiles(site1)[0] as string);
      first.suspend(); // the executor failed: the holder keeps what it has
      await new Promise((r) => setTimeout(r, 200));
      // A torn tail (half an entry) is not trusted.
      appendFileSync(partial, Buffer.alloc(10, 0x50));
      const kept = await remotePlacementProgress(client1(), 'srv01', h);
      assert.deepEqual(kept.entries.map((e) => e.name), rebuilt.slice(0, 3).map((e) => e.name));
      assert.equal(kept.alreadyPlaced, false);
      // Resume after two entries (say, the block boundary), send the rest.
      const again = remotePlacementSink(client1(), 'srv01', { ...h, resumeEntries: 2 });
      for (const e of rebuilt.slice(2)) await again.append(e);
      const placed = await again.commit();
      assert.equal(placed.linked, true);
      const path = join(disk(site1, 0).path, placed.dataPath);
      const report = await verifyArchive(path, { entries: rebuilt.map((e) => ({ name: e.name, size: e.data.length })), crcKind: 'crc32c', version: header, xattrNamespace: 'user.U.', pfn: `${site1.localroot}${h.lfn}` }, codec);
      assert.deepEqual(report.problems, []);
      const src = localArchiveSource(path);
      const entries = (await src.directory()).entries;
      assert.deepEqual(entries.map((e) => e.name), rebuilt.map((e) => e.name));
      for (const e of entries) assert.ok((await src.readEntry(e)).equals((rebuilt.find((x) => x.name === e.name) as Entry).data), e.name);
      await src.close();
      assert.deepEqual(tempFiles(site1), []);
      assert.equal((await remotePlacementProgress(client1(), 'srv01', h)).alreadyPlaced, true);
      // Asking to keep more than the partial holds is refused, writing nothing.
      const h2 = { ...header, taskId: 'task-resume2', lfn: '/data/obj/resumed2.dat' };
      const e = await refusal(place({ ...h2, resumeEntries: 1 }, rebuilt.slice(1)));
      assert.equal(e.peerCode, 'RESUME_MISMATCH');
      const added = filesOf(site1).filter((f) => !tree.includes(f));
      assert.equal(added.length, 3, `the archive, its ledger record and its link: ${added.join(', ')}`);
    });

    it('refuses bad streams and failed verification, writing nothing', async () => {
      const tree = filesOf(site1);
      const h = { ...header, taskId: 'task-bad', lfn: '/data/obj/bad.dat' };
      writeFileSync(join(site1.nsRoot, 'obj', 'taken.dat'), 'a plain file');
      const bad: [string, () => Promise<unknown>, grpc.status, string][] = [
        ['wrong crc', () => place(h, rebuilt.map((e, i) => (i === 1 ? { ...e, crc: e.crc ^ 1 } : e))), grpc.status.DATA_LOSS, 'VERIFY_FAILED'],
        ['bad name', () => place(h, [{ ...(rebuilt[0] as Entry), name: 'x.txt' }]), grpc.status.INVALID_ARGUMENT, 'BAD_ENTRY'],
        ['too many', () => place({ ...h, expectedEntries: 1 }, rebuilt.slice(0, 2)), grpc.status.INVALID_ARGUMENT, 'BAD_PLACE_STREAM'],
        ['too few', () => place(h, rebuilt.slice(0, 1)), grpc.status.INVALID_ARGUMENT, 'BAD_PLACE_STREAM'],
        ['outside exports', () => place({ ...h, lfn: '/elsewhere/f' }, rebuilt), grpc.status.INVALID_ARGUMENT, 'USAGE'],
        ['link exists', () => place({ ...h, lfn: '/data/obj/taken.dat' }, rebuilt), grpc.status.FAILED_PRECONDITION, 'LINK_EXISTS'],
        ['unknown disk', () => place({ ...h, diskId: 'nope' }, rebuilt), grpc.status.NOT_FOUND, 'UNKNOWN_DISK'],
      ];
      for (const [what, p, status, code] of bad) {
        const e = await refusal(p());
        assert.deepEqual([e.status, e.peerCode], [status, code], `${what}: ${e.message}`);
      }
      ctx1.states.set(disk(site1, 0).diskId, 'downgraded');
      const e = await refusal(place(h, rebuilt));
      ctx1.states.delete(disk(site1, 0).diskId);
      assert.deepEqual([e.status, e.peerCode], [grpc.status.FAILED_PRECONDITION, 'DISK_NOT_WRITABLE']);
      const first = await new Promise<grpc.ServiceError | null>((resolve) => {
        const call = client1().placeArchive((err) => resolve(err));
        call.write({ msg: { $case: 'entry', value: rebuilt[0] as Entry } });
        call.end();
      });
      assert.equal(first?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(first?.details ?? '', /first message .* must be the header/);
      rmSync(join(site1.nsRoot, 'obj', 'taken.dat'));
      assert.deepEqual(filesOf(site1), tree);
    });
  });
});
