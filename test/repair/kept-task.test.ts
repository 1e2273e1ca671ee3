// A repair task on an object with .mt files, over real gRPC: the executor takes the lost
// archives' directories from a peer's .mt file (Stripes.ReadMetadata), rebuilds each lost
// archive on its own server (one local target, one on the peer), and both come out equal to the
// archives XrdEc wrote, byte for byte, so every .mt copy stays true. A digest no .mt member has
// fails the task before anything is written.
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { runRepairTask } from '../../agent/repair/task-run.js';
import { PeerPool } from '../../agent/stripes/peer-pool.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { getCodec } from '../../shared/codec/index.js';
import type { RepairPlan } from '../../shared/domain/repair-task.js';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';
import type { ProgressReport } from '../../shared/wire/repair-wire.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { directoryDigest } from '../../shared/xrdec/directory-digest.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { loadFixture, type FixtureCase } from '../helpers/fixtures.js';
import { siteContext, storeArchive } from '../stripes/stripes-harness.js';
import { profileOf, treeOf } from './repair-harness.js';

describe('repair: a task on a .mt object keeps the lost directories (real gRPC)', function () {
  this.timeout(60_000);
  const codec = getCodec();
  let fx: FixtureCase;
  let a: FakeSite;
  let b: FakeSite;
  let server: StripesServer;
  let pool: PeerPool;
  let addr: string;
  const disk = (s: FakeSite, i: number): FakeSite['disks'][number] => s.disks[i] as FakeSite['disks'][number];
  const LFN = '/data/obj/mt.dat';
  /** Data files of a site holding exactly these .mt bytes. */
  const mtDataFiles = (s: FakeSite, mt: Buffer): number =>
    s.disks.flatMap((d) => treeOf(d.path).map((p) => join(d.path, p))).filter((p) => p.endsWith('%') && readFileSync(p).equals(mt)).length;

  before(async () => {
    fx = loadFixture('case-4p2-c1024-crc32c-mt-multi-partial');
    a = makeFakeSite({ serverId: 'srvA' });
    b = makeFakeSite({ serverId: 'srvB' });
    server = new StripesServer(siteContext(b, codec), { listen: '127.0.0.1:0', insecure: true });
    addr = `127.0.0.1:${await server.start()}`;
    pool = new PeerPool({ insecure: true });
  });
  after(async () => {
    pool.close();
    await server.stop();
    a.cleanup();
    b.cleanup();
    fx.cleanup();
  });

  const planFor = (digests: readonly string[], mtPath: string, o: { lfn?: string; mtOn?: 'srvA' | 'srvB'; restoreOnB?: boolean } = {}): RepairPlan => {
    const m = fx.manifest;
    // Survivors 0-3: two local to the executor (srvA), two on the peer.
    const sources = [0, 1, 2, 3].map((i) => (i < 2
      ? { serverId: 'srvA', diskId: disk(a, 0).diskId, dataPath: storeArchive(a, 0, `/data/src${i}-${digests[0]}`, fx.archives[i] as string, false) }
      : { serverId: 'srvB', diskId: disk(b, 0).diskId, dataPath: storeArchive(b, 0, `/data/src${i}-${digests[0]}`, fx.archives[i] as string, false) }));
    return {
      lfn: o.lfn ?? LFN, profile: profileOf(m), strpver: Number(Buffer.from(m.files[0]?.xattrs_hex['user.xrdec.strpver'] ?? '', 'hex').toString('latin1')), filesize: m.file_size, crcKind: 'crc32c', xattrNamespace: 'user.', sources,
      targets: [
        // srvA's own .mt copy is lost (it has none): the task restores it beside the archive.
        { slot: 0, serverId: 'srvA', diskId: disk(a, 1).diskId, directoryDigest: digests[0] as string, metadataLostOnDisk: disk(a, 0).diskId },
        { slot: 1, serverId: 'srvB', diskId: disk(b, 1).diskId, directoryDigest: digests[1] as string, ...(o.restoreOnB ? { metadataLostOnDisk: disk(b, 0).diskId } : {}) },
      ],
      metadataSources: [{ serverId: o.mtOn ?? 'srvB', diskId: disk(o.mtOn === 'srvA' ? a : b, 0).diskId, dataPath: mtPath }],
      bytesRead: 0, bytesWritten: 0,
    };
  };
  const run = (taskId: string, plan: RepairPlan): Promise<ProgressReport> =>
    runRepairTask({ taskId, attempt: 1, plan, addresses: new Map([['srvB', addr]]) }, {
      ctx: siteContext(a, codec), pool, bucket: new TokenBucket(1e12), codec, report: () => undefined, signal: new AbortController().signal, progressEveryMs: 0,
    });

  it('rebuilds archives 4 and 5 equal to the originals, from the peer\'s .mt file', async () => {
    const mtPath = storeArchive(b, 0, `${LFN}.mt`, `${fx.archives[0] as string}.mt`);
    const digests = [4, 5].map((i) => directoryDigest(codec, readZipDirectoryFileSync(fx.archives[i] as string).tail));
    // srvB is told its copy is lost too, but a live .mt sits at its LFN: that one stays.
    const bLink = `${b.localroot ?? ''}${LFN}.mt`;
    const bTarget = realpathSync(bLink);
    const r = await run('t-mt', planFor(digests, mtPath, { restoreOnB: true }));
    assert.equal(r.phase, 'done', r.error);
    assert.equal(r.placed?.length, 2);
    assert.equal(realpathSync(bLink), bTarget, 'the live .mt link is untouched');
    for (const p of r.placed ?? []) {
      const site = p.serverId === 'srvA' ? a : b;
      const path = join(disk(site, 1).path, p.dataPath);
      assert.ok(readFileSync(path).equals(readFileSync(fx.archives[4 + p.slot] as string)), `slot ${p.slot}: byte for byte the archive XrdEc wrote`);
      assert.ok(p.linked);
    }
    // srvA got its .mt copy back, equal to the peer's; the peer's own copy was left alone.
    const mt = readFileSync(`${fx.archives[0] as string}.mt`);
    assert.ok(readFileSync(realpathSync(`${a.localroot ?? ''}${LFN}.mt`)).equals(mt), 'srvA has its .mt copy again');
    assert.equal(mtDataFiles(a, mt), 1);
    assert.equal(mtDataFiles(b, mt), 1, 'the peer keeps only the copy it had (a live .mt at the LFN is never touched)');
    const again = await run('t-mt', planFor(digests, mtPath, { restoreOnB: true }));
    assert.equal(again.phase, 'done', again.error);
    assert.equal(mtDataFiles(a, mt), 1, 'a re-run restores nothing twice');
  });

  it('a peer whose .mt copy is lost gets it back through PlaceMetadata', async () => {
    const lfn = '/data/obj/mt2.dat';
    const mtPath = storeArchive(a, 0, `${lfn}.mt`, `${fx.archives[0] as string}.mt`);
    const digests = [4, 5].map((i) => directoryDigest(codec, readZipDirectoryFileSync(fx.archives[i] as string).tail));
    const r = await run('t-mt2', planFor(digests, mtPath, { lfn, mtOn: 'srvA', restoreOnB: true }));
    assert.equal(r.phase, 'done', r.error);
    assert.deepEqual(r.sourceProblems, []);
    const mt = readFileSync(`${fx.archives[0] as string}.mt`);
    assert.ok(readFileSync(realpathSync(`${b.localroot ?? ''}${lfn}.mt`)).equals(mt), 'srvB has its .mt copy');
  });

  it('the empty object: no directory to keep, the lost .mt copy restored all the same', async () => {
    const empty = loadFixture('case-4p2-c1024-crc32c-mt-empty');
    try {
      const lfn = '/data/obj/mt-empty.dat';
      const mtPath = storeArchive(b, 0, `${lfn}.mt`, `${empty.archives[0] as string}.mt`);
      const sources = [0, 1, 2, 3].map((i) => ({ serverId: 'srvA', diskId: disk(a, 0).diskId, dataPath: storeArchive(a, 0, `/data/empty-src${i}`, empty.archives[i] as string, false) }));
      const m = empty.manifest;
      const plan: RepairPlan = {
        lfn, profile: profileOf(m), strpver: Number(Buffer.from(m.files[0]?.xattrs_hex['user.xrdec.strpver'] ?? '', 'hex').toString('latin1')), filesize: 0, xattrNamespace: 'user.', sources,
        targets: [{ slot: 0, serverId: 'srvA', diskId: disk(a, 1).diskId, metadataLostOnDisk: disk(a, 0).diskId }],
        metadataSources: [{ serverId: 'srvB', diskId: disk(b, 0).diskId, dataPath: mtPath }], bytesRead: 0, bytesWritten: 0,
      };
      const r = await run('t-mt-empty', plan);
      assert.equal(r.phase, 'done', r.error);
      assert.deepEqual(r.sourceProblems, []);
      assert.equal(r.placed?.[0]?.size, 0, 'the empty object\'s archive is a 0-byte file');
      assert.ok(readFileSync(realpathSync(`${a.localroot ?? ''}${lfn}.mt`)).equals(readFileSync(`${empty.archives[0] as string}.mt`)), 'srvA has its .mt copy');
    } finally {
      empty.cleanup();
    }
  });

  it('ReadMetadata serves only .mt files: an archive asked for as one is refused', async () => {
    const dataPath = storeArchive(b, 0, '/data/obj/not-mt.dat', fx.archives[1] as string, false);
    const err = await new Promise<grpc.ServiceError | null>((resolve) => pool.client('srvB', addr).readMetadata({ diskId: disk(b, 0).diskId, dataPath }, (e) => resolve(e)));
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    assert.match(err?.details ?? '', /NOT_METADATA: .* is not an XrdEc \.mt file/);
  });

  it('a digest no .mt member has: NO_METADATA, nothing written on either server', async () => {
    const mtPath = storeArchive(b, 0, `${LFN}-2.mt`, `${fx.archives[0] as string}.mt`);
    const digests = [directoryDigest(codec, readZipDirectoryFileSync(fx.archives[4] as string).tail), '0123456789abcdef'];
    const plan = planFor(digests, mtPath);
    const before = [treeOf(disk(a, 1).path), treeOf(disk(b, 1).path)];
    const r = await run('t-mt-bad', plan);
    assert.equal(r.phase, 'failed');
    assert.equal(r.errorCode, 'NO_METADATA');
    assert.match(r.error ?? '', /no member with directory digest 0123456789abcdef/);
    assert.deepEqual([treeOf(disk(a, 1).path), treeOf(disk(b, 1).path)], before);
  });
});
