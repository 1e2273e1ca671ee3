// A remote source talking to a lying peer: whatever it sends goes through the same bounded
// parser as a local file, and entries that do not match the directory are refused, so a bad
// peer yields typed errors, never plausible bytes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ArchiveRef } from '../../proto/gen/ecguard/v1/repair.js';
import { StripesService, type ArchiveTail, type EntryCredit, type EntryData, type ReadEntriesRequest, type StripesServer as StripesHandlers } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError } from '../../shared/errors.js';
import { getCodec } from '../../shared/codec/index.js';
import { localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { keptDirectories } from '../../agent/repair/kept-directories.js';
import { PeerPool } from '../../agent/stripes/peer-pool.js';
import type { RepairPlan } from '../../shared/domain/repair-task.js';
import { remoteArchiveSource } from '../../agent/stripes/remote-source.js';
import { StripesServer } from '../../agent/stripes/stripes-server.js';
import { makeFakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, type EncodedObject } from '../repair/repair-harness.js';
import { siteContext } from './stripes-harness.js';

const isCode = (code: string) => (e: unknown) => e instanceof EcguardError && e.code === code;

describe('Stripes: a remote source against a lying peer', function () {
  this.timeout(60_000);
  let obj: EncodedObject;
  let archive: Buffer;
  let server: grpc.Server;
  let pool: PeerPool;
  let address: string;

  before(async () => {
    obj = encodeRandomObject({ profile: { nbData: 2, nbParity: 1, chunkSize: 4096 }, size: 40_000, crcKind: 'crc32c', seed: 9, codec: getCodec() });
    archive = readFileSync(obj.archives[0] as string);
    const tails: Record<string, ArchiveTail> = {
      short: { fileSize: 1000, offset: 900, tail: Buffer.alloc(50), xattrs: {} },
      beyond: { fileSize: 100, offset: 200, tail: Buffer.alloc(0), xattrs: {} },
      garbage: { fileSize: 300, offset: 0, tail: Buffer.alloc(300, 0x41), xattrs: {} },
      // The real end records, but cut so the central directory they announce is not there.
      cut: { fileSize: archive.length, offset: archive.length - 22, tail: archive.subarray(archive.length - 22), xattrs: {} },
    };
    const handlers: StripesHandlers = {
      readDirectory: (call: grpc.ServerUnaryCall<ArchiveRef, ArchiveTail>, cb: grpc.sendUnaryData<ArchiveTail>) => {
        const t = tails[call.request.dataPath];
        cb(null, t ?? { fileSize: archive.length, offset: 0, tail: archive, xattrs: { 'user.U.xrdec.strpver': Buffer.from('12x') } });
      },
      readEntries: (call: grpc.ServerWritableStream<ReadEntriesRequest, EntryData>) => {
        const [name] = call.request.names;
        const mode = call.request.archive?.dataPath;
        if (mode === 'wrong-name') call.write({ name: 'obj.999.9', data: Buffer.alloc(4096) });
        if (mode === 'extra') for (let i = 0; i < 2; i++) call.write({ name: name ?? '', data: Buffer.alloc(4096) });
        call.end();
      },
      // Lies like readEntries; 'flood' ignores the credit, 'silent' never answers.
      streamEntries: (call: grpc.ServerDuplexStream<EntryCredit, EntryData>) => {
        call.once('data', (m: EntryCredit) => {
          const names = m.request?.names ?? [];
          const mode = m.request?.archive?.dataPath;
          if (mode === 'silent') return;
          if (mode === 'wrong-name') call.write({ name: 'obj.999.9', data: Buffer.alloc(4096) });
          if (mode === 'flood') for (const n of names) call.write({ name: n, data: Buffer.alloc(4096) });
          call.end();
        });
      },
      placeArchive: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'no' }),
      placementProgress: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'no' }),
      // A ".mt file" that is no zip at all.
      readMetadata: (_call, cb) => cb(null, { data: Buffer.alloc(300, 0x41) }),
      placeMetadata: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'no' }),
    };
    server = new grpc.Server();
    server.addService(StripesService, handlers);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    address = `127.0.0.1:${port}`;
    pool = new PeerPool({ insecure: true });
  });

  after(() => {
    pool?.close();
    server?.forceShutdown();
    obj?.cleanup();
  });

  const src = (dataPath: string) => remoteArchiveSource(pool.client('liar', address), { serverId: 'liar', diskId: 'd', dataPath }, { deadlineMs: 5000 });

  it('refuses tails that do not end at the file size, and parses the rest with the bounded parser', async () => {
    await assert.rejects(src('short').directory(), (e: unknown) => isCode('PEER_BAD_REPLY')(e) && /does not end at the file size/.test((e as Error).message));
    await assert.rejects(src('beyond').directory(), isCode('PEER_BAD_REPLY'));
    await assert.rejects(src('garbage').directory(), isCode('NOT_A_ZIP'));
    await assert.rejects(src('cut').directory(), isCode('TRUNCATED_ARCHIVE'));
    // A failure is not cached: the same source asks again.
    const s = src('short');
    await assert.rejects(s.directory(), isCode('PEER_BAD_REPLY'));
    await assert.rejects(s.directory(), isCode('PEER_BAD_REPLY'));
  });

  it('reports bad xattrs as problems, like a local file', async () => {
    const x = await src('whole').xattrs();
    assert.equal(x.strpver, undefined);
    assert.ok(x.problems.some((p) => /user\.U\.xrdec\.strpver is not a decimal/.test(p)), x.problems.join('; '));
  });

  it('refuses entries with the wrong name, too many or too few', async () => {
    const local = localArchiveSource(obj.archives[0] as string);
    const e = (await local.directory()).entries[0];
    await local.close();
    assert.ok(e);
    await assert.rejects(src('wrong-name').readEntry(e), (err: unknown) => isCode('PEER_BAD_REPLY')(err) && /sent entry "obj\.999\.9" where obj\.0\.\d+ was expected/.test((err as Error).message));
    await assert.rejects(src('extra').readEntry({ ...e, size: 4096 }), (err: unknown) => isCode('PEER_BAD_REPLY')(err) && /more than the 1 entries/.test((err as Error).message));
    await assert.rejects(src('none').readEntry(e), (err: unknown) => isCode('PEER_BAD_REPLY')(err) && /sent 0 of 1 entries/.test((err as Error).message));
  });

  it('entry streams: refuses wrong names, entries beyond the credit, short streams and silence', async () => {
    const local = localArchiveSource(obj.archives[0] as string);
    const entries = (await local.directory()).entries.slice(0, 3).map((x) => ({ ...x, size: 4096 }));
    await local.close();
    const e = entries[0];
    assert.ok(e);
    await assert.rejects(src('wrong-name').openEntryStream([e]).next(), (err: unknown) => isCode('PEER_BAD_REPLY')(err) && /sent entry "obj\.999\.9" where obj\.0\.\d+ was expected/.test((err as Error).message));
    const flood = remoteArchiveSource(pool.client('liar', address), { serverId: 'liar', diskId: 'd', dataPath: 'flood' }, { deadlineMs: 5000, streamWindow: 1 });
    const flooded = flood.openEntryStream(entries); // one entry of credit until next() asks
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await flooded.next()).length, 4096); // what came within the credit is kept
    await assert.rejects(flooded.next(), (err: unknown) => isCode('PEER_BAD_REPLY')(err) && /more than the 1 entries granted/.test((err as Error).message));
    await assert.rejects(src('none').openEntryStream([e]).next(), (err: unknown) => isCode('PEER_BAD_REPLY')(err) && /sent 0 of 1 entries/.test((err as Error).message));
    const quiet = remoteArchiveSource(pool.client('liar', address), { serverId: 'liar', diskId: 'd', dataPath: 'silent' }, { deadlineMs: 300 });
    await assert.rejects(quiet.openEntryStream([e]).next(), (err: unknown) => isCode('PEER_UNAVAILABLE')(err) && /sent nothing for 300 ms/.test((err as Error).message));
    await quiet.close();
  });

  it('a garbage .mt file from a peer gives no kept directory: NO_METADATA, with the peer problem noted', async () => {
    const site = makeFakeSite({ serverId: 'srv00', disks: 1 });
    try {
      const disk = site.disks[0] as (typeof site.disks)[number];
      const plan: RepairPlan = {
        lfn: '/data/x.dat', profile: { nbData: 2, nbParity: 1, chunkSize: 4096 }, strpver: 1, filesize: 40_000, xattrNamespace: 'user.U.', bytesRead: 0, bytesWritten: 0,
        sources: [], targets: [{ slot: 0, serverId: 'srv00', diskId: disk.diskId, directoryDigest: '0123456789abcdef' }],
        metadataSources: [{ serverId: 'liar', diskId: 'd', dataPath: 'public/00/x.dat.mt%' }],
      };
      const problems: string[] = [];
      await assert.rejects(keptDirectories(plan, { ctx: siteContext(site, getCodec()), codec: getCodec(), client: () => pool.client('liar', address), deadlineMs: 5000 }, problems), isCode('NO_METADATA'));
      assert.ok(problems.some((p) => /^liar .*does not parse/.test(p)), problems.join('; '));
    } finally {
      site.cleanup();
    }
  });
});

describe('Stripes: the empty-object archive (0 bytes)', () => {
  it('reads as an empty directory remotely, as locally', async () => {
    const codec = getCodec();
    const site = makeFakeSite({ serverId: 'srv00', disks: 1 });
    const server = new StripesServer(siteContext(site, codec), { listen: '127.0.0.1:0', insecure: true });
    const pool = new PeerPool({ insecure: true });
    try {
      const d = site.disks[0] as (typeof site.disks)[number];
      const path = site.store('/data/empty.dat', 0, (p) => writeFileSync(p, ''));
      const r = remoteArchiveSource(pool.client('srv00', `127.0.0.1:${await server.start()}`), { serverId: 'srv00', diskId: d.diskId, dataPath: path.slice(d.path.length + 1) });
      const local = localArchiveSource(path);
      assert.deepEqual(await r.directory(), await local.directory());
      assert.equal((await r.directory()).empty, true);
      await local.close();
    } finally {
      pool.close();
      await server.stop();
      site.cleanup();
    }
  });
});
