// Limits of the Stripes service: at most maxStreams ReadEntries calls read at once (others wait,
// and leave the queue when cancelled; setMaxStreams admits them), and the pieces behind it:
// the semaphore and one client per peer.
import assert from 'node:assert/strict';
import { getCodec } from '../../shared/codec/index.js';
import { localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { PeerPool } from '../../agent/stripes/peer-pool.js';
import { Semaphore } from '../../agent/stripes/semaphore.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, type EncodedObject } from '../repair/repair-harness.js';
import { siteContext, storeArchive, until } from './stripes-harness.js';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Stripes: semaphore', () => {
  it('holds the limit, serves waiters in order, and follows a changed limit', async () => {
    const s = new Semaphore(1);
    const order: number[] = [];
    const a = await s.acquire();
    const waiters = [1, 2, 3].map((i) => s.acquire().then((release) => {
      order.push(i);
      return release;
    }));
    await tick();
    assert.deepEqual([s.active, s.waiting, order], [1, 3, []]);
    a();
    a(); // twice is harmless
    await tick();
    assert.deepEqual([s.active, s.waiting, order], [1, 2, [1]]);
    s.setLimit(3);
    await tick();
    assert.deepEqual([s.active, s.waiting, order], [3, 0, [1, 2, 3]]);
    s.setLimit(1);
    for (const w of waiters) (await w)();
    assert.equal(s.active, 0);
    assert.throws(() => s.setLimit(0), /positive integer/);
  });

  it('a waiter whose signal aborts leaves the queue', async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    assert.equal(s.waiting, 1);
    ac.abort();
    await assert.rejects(waiting, (e: Error & { code?: string }) => e.code === 'CANCELLED');
    assert.equal(s.waiting, 0);
    held();
    assert.equal(await s.run(async () => s.active), 1);
  });
});

describe('Stripes: peer pool', () => {
  it('keeps one client per peer, replaces it when the address changes, refuses non-loopback when insecure', () => {
    const pool = new PeerPool({ insecure: true });
    try {
      const a = pool.client('srv00', '127.0.0.1:1');
      assert.equal(pool.client('srv00', '127.0.0.1:1'), a);
      const b = pool.client('srv01', '127.0.0.1:2');
      assert.notEqual(b, a);
      assert.equal(pool.size, 2);
      const a2 = pool.client('srv00', '127.0.0.1:3');
      assert.notEqual(a2, a);
      assert.equal(pool.size, 2);
      assert.throws(() => pool.client('srv02', '192.0.2.1:9000'), /only talks to loopback/);
    } finally {
      pool.close();
    }
    assert.equal(pool.size, 0);
    assert.throws(() => pool.client('srv00', '127.0.0.1:1'), /closed/);
    assert.throws(() => new PeerPool({}), /TLS/);
  });
});

describe('Stripes: concurrent read streams', function () {
  this.timeout(120_000);
  let obj: EncodedObject;
  let site: FakeSite;
  let server: StripesServer;
  let pool: PeerPool;
  let request: { archive: { diskId: string; dataPath: string }; names: string[] };
  let client: ReturnType<PeerPool['client']>;

  before(async () => {
    const codec = getCodec();
    // 64 entries of 256 KiB (16 MiB): more than the stream buffers and flow-control windows (the
    // peer pool asks for 8 MiB) hold, so a caller that stops reading keeps its stream (and slot) busy.
    const profile = { nbData: 2, nbParity: 1, chunkSize: 256 * 1024 };
    obj = encodeRandomObject({ profile, size: 64 * 2 * 256 * 1024, crcKind: 'crc32c', seed: 5, codec });
    site = makeFakeSite({ serverId: 'srv00', disks: 1 });
    const dataPath = storeArchive(site, 0, '/data/big.dat', obj.archives[0] as string);
    const local = localArchiveSource(obj.archives[0] as string);
    const names = (await local.directory()).entries.map((e) => e.name);
    await local.close();
    assert.ok(names.length >= 64);
    request = { archive: { diskId: (site.disks[0] as FakeSite['disks'][number]).diskId, dataPath }, names };
    server = new StripesServer(siteContext(site, codec), { listen: '127.0.0.1:0', insecure: true, maxStreams: 1 });
    const port = await server.start();
    pool = new PeerPool({ insecure: true });
    client = pool.client('srv00', `127.0.0.1:${port}`);
  });

  after(async () => {
    pool?.close();
    await server?.stop();
    site?.cleanup();
    obj?.cleanup();
  });

  /**
   * Starts a ReadEntries call that stops reading after its first entry until resumed. (A grpc-js
   * call never read at all buffers without limit on the client: it must have read once.)
   */
  function stalled(): { resume(): void; done: Promise<number> } {
    const call = client.readEntries(request);
    let resumed = false;
    const done = new Promise<number>((resolve, reject) => {
      let n = 0;
      call.on('data', () => {
        if (++n === 1 && !resumed) call.pause();
      });
      call.on('end', () => resolve(n));
      call.on('error', reject);
    });
    return {
      resume: () => {
        resumed = true;
        call.resume();
      },
      done,
    };
  }

  it('maxStreams=1: a second call waits for the first; a cancelled waiter leaves; setMaxStreams admits more', async () => {
    const first = stalled();
    await until(() => server.stats.activeReads === 1, 5000, 'the first stream');
    const second = stalled();
    await until(() => server.stats.waitingReads === 1, 5000, 'the second call to wait');
    const cancelled = client.readEntries(request);
    cancelled.on('error', () => undefined);
    await until(() => server.stats.waitingReads === 2, 5000, 'the third call to wait');
    cancelled.cancel();
    await until(() => server.stats.waitingReads === 1, 5000, 'the cancelled call to leave the queue');
    await tick(200);
    assert.deepEqual([server.stats.activeReads, server.stats.waitingReads], [1, 1], 'the first stream is stuck on backpressure, the second waits');
    first.resume();
    second.resume();
    assert.deepEqual(await Promise.all([first.done, second.done]), [request.names.length, request.names.length]);
    assert.equal(server.stats.peakReads, 1);

    server.setMaxStreams(2);
    const [a, b] = [stalled(), stalled()];
    await until(() => server.stats.activeReads === 2, 5000, 'two streams at once');
    assert.equal(server.stats.waitingReads, 0);
    a.resume();
    b.resume();
    await Promise.all([a.done, b.done]);
    assert.equal(server.stats.peakReads, 2);
    await until(() => server.stats.activeReads === 0, 5000, 'the streams to finish');
  });
});
