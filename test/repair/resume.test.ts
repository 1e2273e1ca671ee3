// A retried repair task resumes at the first block its targets lack: the failed attempt's
// partial archives (one local, one on a peer) stay, the retry reads only the remaining blocks,
// and the archives it publishes decode to the original bytes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRepairTask } from '../../agent/repair/task-run.js';
import { PeerPool } from '../../agent/stripes/peer-pool.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { getCodec } from '../../shared/codec/index.js';
import type { RepairPlan } from '../../shared/domain/repair-task.js';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';
import type { ProgressReport } from '../../shared/wire/repair-wire.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { decodeObject } from '../../shared/xrdec/object-decoder.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, flipBit, sha256, treeOf, type EncodedObject } from './repair-harness.js';
import { siteContext, storeArchive } from '../stripes/stripes-harness.js';

describe('repair: a retried task resumes where the failed attempt stopped', function () {
  this.timeout(60_000);
  const codec = getCodec();
  const profile = { nbData: 4, nbParity: 2, chunkSize: 4096 };
  const blocks = 21;
  const size = (blocks - 1) * 4 * 4096 + 1000;
  let a: FakeSite;
  let b: FakeSite;
  let obj: EncodedObject;
  let server: StripesServer;
  let pool: PeerPool;
  let out: string;

  before(async () => {
    a = makeFakeSite({ serverId: 'srvA' });
    b = makeFakeSite({ serverId: 'srvB' });
    obj = encodeRandomObject({ profile, size, crcKind: 'crc32c', seed: 77, codec });
    server = new StripesServer(siteContext(b, codec), { listen: '127.0.0.1:0', insecure: true });
    out = mkdtempSync(join(tmpdir(), 'ecguard-resume-'));
    pool = new PeerPool({ insecure: true });
  });
  after(async () => {
    pool.close();
    await server.stop();
    a.cleanup();
    b.cleanup();
    obj.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it('keeps the partials of a failed attempt and reads only the blocks they lack', async () => {
    const addr = `127.0.0.1:${await server.start()}`;
    // Survivors 0-3 on srvA's first disk (the executor reads them locally); 4 and 5 are lost.
    const sources = [0, 1, 2, 3].map((i) => ({ serverId: 'srvA', diskId: (a.disks[0] as FakeSite['disks'][number]).diskId, dataPath: storeArchive(a, 0, `/data/src${i}`, obj.archives[i] as string) }));
    const plan: RepairPlan = {
      lfn: '/data/obj/resumed.dat', profile, strpver: obj.strpver, filesize: size, crcKind: 'crc32c', xattrNamespace: 'user.U.', sources,
      targets: [{ slot: 0, serverId: 'srvA', diskId: (a.disks[1] as FakeSite['disks'][number]).diskId }, { slot: 1, serverId: 'srvB', diskId: (b.disks[0] as FakeSite['disks'][number]).diskId }],
      bytesRead: 0, bytesWritten: 0,
    };
    const reports: ProgressReport[] = [];
    const deps = { ctx: siteContext(a, codec), pool, bucket: new TokenBucket(1e12), codec, report: (p: ProgressReport) => reports.push(p), signal: new AbortController().signal, progressEveryMs: 0 };
    const order = { taskId: 't-resume', attempt: 1, plan, addresses: new Map([['srvB', addr]]) };

    // Block 12 of survivor 2 is corrupt: with exactly N sources the first attempt fails there.
    const bad = readZipDirectoryFileSync(obj.archives[2] as string).entries.find((e) => e.name.startsWith('obj.12.'));
    assert.ok(bad);
    const srcPath = join((a.disks[0] as FakeSite['disks'][number]).path, sources[2]?.dataPath ?? '');
    flipBit(srcPath, bad.name);
    const first = await runRepairTask(order, deps);
    assert.equal(first.phase, 'failed');
    assert.equal(first.errorCode, 'TOO_FEW_SOURCES');
    const partials = (s: FakeSite): string[] => treeOf(s.root).filter((p) => p.endsWith('.part'));
    assert.equal(partials(a).length, 1, 'the local target keeps its partial');
    assert.equal(partials(b).length, 1, 'the peer keeps its partial');

    // Fixed (say the source came back): the retry resumes.
    flipBit(srcPath, bad.name);
    reports.length = 0;
    const second = await runRepairTask({ ...order, attempt: 2 }, deps);
    assert.equal(second.phase, 'done', second.error);
    const resumedAt = reports.find((r) => r.phase === 'decoding')?.blocksDone ?? 0;
    assert.ok(resumedAt >= 1 && resumedAt <= 12, `resumed at block ${resumedAt}`);
    const full = (blocks - 1) * 4 * 4096 + 1000;
    assert.ok(second.bytesRead <= full - resumedAt * 4 * 4096 + 4 * 4096, `read ${second.bytesRead} of ${full} source bytes`);
    assert.equal(second.placed.length, 2);
    assert.deepEqual([...partials(a), ...partials(b)], [], 'the partials became the archives');

    // Only the rebuilt archives plus two survivors: the original bytes.
    const placedPaths = second.placed.map((p) => join(((p.serverId === 'srvA' ? a : b).disks.find((d) => d.diskId === p.diskId) as FakeSite['disks'][number]).path, p.dataPath));
    const output = join(out, 'decoded');
    await decodeObject({ profile, archivePaths: [obj.archives[0] as string, obj.archives[1] as string, ...placedPaths], output, codec });
    assert.equal(sha256(output), obj.sha256);
  });
});
