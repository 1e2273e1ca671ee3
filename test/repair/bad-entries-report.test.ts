// A repair that meets corrupt source stripes reports them structured (server, disk, data path,
// block, stripe, both CRCs), for its own and a peer's archives, even when a data path holds a
// space; the coordinator turns them into corruption.found entries without parsing text.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runRepairTask } from '../../agent/repair/task-run.js';
import { PeerPool } from '../../agent/stripes/peer-pool.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { corruptSources } from '../../coordinator/repair/corrupt-sources.js';
import { getCodec } from '../../shared/codec/index.js';
import type { RepairPlan, RepairSourceRef } from '../../shared/domain/repair-task.js';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';
import { progressFromWire, progressToWire, type ProgressReport } from '../../shared/wire/repair-wire.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, flipBit, stripeMap, type EncodedObject } from './repair-harness.js';
import { siteContext, storeArchive } from '../stripes/stripes-harness.js';

type Disk = FakeSite['disks'][number];

describe('repair: bad source entries are reported structured', function () {
  this.timeout(60_000);
  const codec = getCodec();
  const profile = { nbData: 4, nbParity: 2, chunkSize: 4096 };
  const size = 5 * 4 * 4096 + 100;
  let a: FakeSite;
  let b: FakeSite;
  let obj: EncodedObject;
  let server: StripesServer;
  let pool: PeerPool;

  before(() => {
    a = makeFakeSite({ serverId: 'srvA' });
    b = makeFakeSite({ serverId: 'srvB' });
    obj = encodeRandomObject({ profile, size, crcKind: 'crc32c', seed: 91, codec });
    server = new StripesServer(siteContext(b, codec), { listen: '127.0.0.1:0', insecure: true });
    pool = new PeerPool({ insecure: true });
  });
  after(async () => {
    pool.close();
    await server.stop();
    a.cleanup();
    b.cleanup();
    obj.cleanup();
  });

  /** Stores archive `i` on `site`'s first disk under a data file name with a space in it. */
  const storeSpaced = (site: FakeSite, i: number): RepairSourceRef => {
    const d = site.disks[0] as Disk;
    const rel = storeArchive(site, 0, `/data/src ${i}`, obj.archives[i] as string, false);
    const spaced = join(dirname(rel), `with space ${i}%`);
    renameSync(join(d.path, rel), join(d.path, spaced));
    return { serverId: site.serverId, diskId: d.diskId, dataPath: spaced };
  };
  /** A block (not `avoid`) where archive `i` holds one of the stripes 0-2: with one archive lost, always read. */
  const readStripeOf = (i: number, avoid: number): { block: number; stripe: number } => {
    for (const [block, stripes] of stripeMap(obj.archives[i] as string)) {
      const stripe = stripes.find((x) => x <= 2);
      if (block !== avoid && stripe !== undefined) return { block, stripe };
    }
    throw new Error(`archive ${i} holds no early stripe`);
  };

  it('names each corrupt stripe with its archive and both CRCs, local and remote', async () => {
    const addr = `127.0.0.1:${await server.start()}`;
    // Archive 0 is lost; 1 (this server's) and 2 (the peer's) each have one corrupt stripe, in different blocks.
    const sources = [1, 2, 3, 4, 5].map((i) => storeSpaced(i === 2 ? b : a, i));
    const l = readStripeOf(1, -1);
    const r = readStripeOf(2, l.block);
    const corrupt = [
      { ref: sources[0] as RepairSourceRef, site: a, ...l },
      { ref: sources[1] as RepairSourceRef, site: b, ...r },
    ];
    const expected = corrupt.map((c) => {
      const path = join((c.site.disks[0] as Disk).path, c.ref.dataPath);
      const entry = `obj.${c.block}.${c.stripe}`;
      const crc = readZipDirectoryFileSync(path).entries.find((e) => e.name === entry)?.crc as number;
      flipBit(path, entry, 7);
      return crc >>> 0;
    });
    const plan: RepairPlan = {
      lfn: '/data/obj/spaced.dat', profile, strpver: obj.strpver, filesize: size, crcKind: 'crc32c', xattrNamespace: 'user.U.', sources,
      targets: [{ slot: 0, serverId: 'srvA', diskId: (a.disks[1] as Disk).diskId }], bytesRead: 0, bytesWritten: 0,
    };
    const deps = { ctx: siteContext(a, codec), pool, bucket: new TokenBucket(1e12), codec, report: (): void => undefined, signal: new AbortController().signal, progressEveryMs: 0 };
    const done: ProgressReport = await runRepairTask({ taskId: 't-bad', attempt: 1, plan, addresses: new Map([['srvB', addr]]) }, deps);
    assert.equal(done.phase, 'done', done.error);
    const crc = done.badEntries.map((x) => ({ ...x, foundCrc: undefined }));
    assert.deepEqual(crc, corrupt.map((c, i) => (
      { serverId: c.ref.serverId, diskId: c.ref.diskId, dataPath: c.ref.dataPath, block: c.block, stripe: c.stripe, kind: 'crc-mismatch', expectedCrc: expected[i], foundCrc: undefined }
    )).sort((x, y) => x.block - y.block));
    for (const x of done.badEntries) assert.ok(x.foundCrc !== undefined && x.foundCrc !== x.expectedCrc, `a found CRC that differs: ${JSON.stringify(x)}`);
    assert.equal(done.badEntriesOmitted, 0);
    assert.equal(done.sourceProblems.filter((p) => /CRC mismatch/.test(p)).length, 2, 'the text problems stay for repair status');

    // Through the wire and into the coordinator's view: both archives, paths with their spaces.
    const back = progressFromWire(progressToWire(done));
    assert.ok(back.ok);
    if (!back.ok) return;
    const found = corruptSources(plan, back.value.badEntries);
    assert.deepEqual(found.map((f) => [f.serverId, f.dataPath, f.entries.map((e) => [e.block, e.stripe, e.expectedCrc])]), corrupt.map((c, i) => [c.ref.serverId, c.ref.dataPath, [[c.block, c.stripe, expected[i]]]]));
    assert.ok(corrupt.every((c) => c.ref.dataPath.includes(' ')));
  });
});
