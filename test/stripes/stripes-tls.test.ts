// The Stripes service under mutual TLS with certificates from deploy/make-certs.sh: another
// agent reads, an admin certificate is refused, and a client that expects a different server
// id than the one the certificate proves never gets to talk.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { getCodec } from '../../shared/codec/index.js';
import { localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { PeerError, PeerPool } from '../../agent/stripes/peer-pool.js';
import { remotePlacementSink } from '../../agent/stripes/placement-sink.js';
import { remoteArchiveSource } from '../../agent/stripes/remote-source.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, type EncodedObject } from '../repair/repair-harness.js';
import { certFiles, makeCerts, siteContext, storeArchive } from './stripes-harness.js';

describe('Stripes service over mutual TLS', function () {
  this.timeout(120_000);
  const codec = getCodec();
  let dir: string;
  let obj: EncodedObject;
  let site: FakeSite;
  let server: StripesServer;
  let address: string;
  let dataPath: string;
  const pools: PeerPool[] = [];
  const poolOf = (name: string): PeerPool => {
    const p = new PeerPool({ tls: certFiles(join(dir, 'certs'), name) });
    pools.push(p);
    return p;
  };
  const source = (pool: PeerPool, expect: string) =>
    remoteArchiveSource(pool.client(expect, address), { serverId: expect, diskId: (site.disks[0] as FakeSite['disks'][number]).diskId, dataPath }, { deadlineMs: 10_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-stripes-tls-'));
    makeCerts(join(dir, 'certs'));
    obj = encodeRandomObject({ profile: { nbData: 2, nbParity: 1, chunkSize: 4096 }, size: 50_000, crcKind: 'crc32c', seed: 3, codec });
    site = makeFakeSite({ serverId: 'srv00', disks: 1 });
    dataPath = storeArchive(site, 0, '/data/tls.dat', obj.archives[0] as string);
    server = new StripesServer(siteContext(site, codec), { listen: '127.0.0.1:0', tls: certFiles(join(dir, 'certs'), 'agent-srv00') });
    address = `127.0.0.1:${await server.start()}`;
  });

  after(async () => {
    for (const p of pools) p.close();
    await server?.stop();
    site?.cleanup();
    obj?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('another agent (server certificate) reads what the file holds', async () => {
    const local = localArchiveSource(obj.archives[0] as string);
    const r = source(poolOf('agent-srv01'), 'srv00');
    const d = await r.directory();
    assert.deepEqual(d, await local.directory());
    const e = d.entries[0];
    assert.ok(e);
    assert.ok((await r.readEntry(e)).equals(await local.readEntry(e)));
    await local.close();
  });

  it('an admin certificate is refused with PERMISSION_DENIED on every method', async () => {
    const before = server.stats.refused;
    const pool = poolOf('admin-ops');
    const r = source(pool, 'srv00');
    for (const p of [r.directory(), r.readEntry({ name: 'obj.0.0', size: 1, crc: 0, lfhOffset: 0, recordOffset: 0 })]) {
      const e = await p.then(() => assert.fail('admin got through'), (err: unknown) => err as PeerError);
      assert.ok(e instanceof PeerError);
      assert.deepEqual([e.code, e.status, e.peerCode], ['PEER_REFUSED', grpc.status.PERMISSION_DENIED, 'PERMISSION']);
      assert.match(e.message, /serves other ecguard agents only .*presented admin ops/);
    }
    const sink = remotePlacementSink(pool.client('srv00', address), 'srv00', {
      taskId: 't', slot: 0, diskId: (site.disks[0] as FakeSite['disks'][number]).diskId, lfn: '/data/x.dat', strpverText: '1', filesizeText: '1', xattrNamespace: 'user.U.', expectedEntries: 0,
    });
    await assert.rejects(sink.commit(), (e: unknown) => e instanceof PeerError && e.status === grpc.status.PERMISSION_DENIED);
    assert.equal(server.stats.refused - before, 3);
  });

  it('a client expecting srv01 refuses srv00\'s server before any call is made', async () => {
    const before = server.stats;
    const e = await source(poolOf('agent-srv01'), 'srv01').directory().then(() => assert.fail('connected to the wrong server'), (err: unknown) => err as PeerError);
    assert.ok(e instanceof PeerError);
    assert.deepEqual([e.code, e.status], ['PEER_UNAVAILABLE', grpc.status.UNAVAILABLE]);
    assert.match(e.message, /expected ecguard server srv01, but its certificate names server srv00/);
    assert.equal(server.stats.failed, before.failed);
    assert.equal(server.stats.refused, before.refused);
  });
});
