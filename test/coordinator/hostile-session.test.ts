// Hostile agents: malformed and oversized messages, impossible records. Each is rejected with a
// reason; the session continues (bad records) or closes cleanly (bad messages); the catalog
// never changes because of them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { AgentMessage, AgentSessionClient, SyncMode, type CoordinatorMessage } from '../../proto/gen/ecguard/v1/agent.js';
import { ParseStatus, DiskState } from '../../proto/gen/ecguard/v1/types.js';
import { ScrubProblem } from '../../proto/gen/ecguard/v1/scrub.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import type { ArchiveRecord } from '../../proto/gen/ecguard/v1/types.js';

const good = (i: number, o: Partial<ArchiveRecord> = {}): ArchiveRecord => ({
  diskId: 'evil:/d', space: 'public', dataPath: `public/0A/f${i}%`, lfn: `/data/f${i}`, size: 5000, mtimeMs: 1, inode: i, strpver: 1_700_000_000, filesize: 9000,
  xattrNamespace: 1, nblocks: 3, nentries: 3, crcKind: 1, regular: true, stripeMap: [], parseStatus: ParseStatus.PARSE_STATUS_OK, ...o,
});

describe('hostile agent sessions', function () {
  this.timeout(30_000);
  let dir: string;
  let coord: Coordinator;
  let port: number;
  let events: EventLog;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-hostile-'));
    events = new EventLog(join(dir, 'c.db'));
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'c.db')), insecure: true, profile: { nbData: 4, nbParity: 2, chunkSize: 1024 }, maxMessageBytes: 1024 * 1024, eventLog: events });
    port = await coord.start();
  });
  after(async () => {
    await coord.stop();
    events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a session as `serverId`, completes an (empty) full inventory, returns the stream and received messages. */
  async function session(serverId: string, diskId = 'evil:/d'): Promise<{ s: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>; got: CoordinatorMessage[]; client: InstanceType<typeof AgentSessionClient>; ended: Promise<string> }> {
    const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const s = client.connect();
    const got: CoordinatorMessage[] = [];
    const ended = new Promise<string>((resolve) => {
      s.on('error', (e: grpc.ServiceError) => resolve(`error ${grpc.status[e.code]}`));
      s.on('end', () => resolve('end'));
    });
    s.on('data', (m: CoordinatorMessage) => got.push(m));
    s.write({ msg: { $case: 'hello', value: { serverId, instanceId: 'i', ackedSeq: 0, lastSeq: 0, journalGap: false, agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: false,
      disks: [{ diskId, path: '/d', space: 'public', state: DiskState.DISK_STATE_ONLINE, evidence: [] }], profile: { nbData: 4, nbParity: 2, chunkSize: 1024 } } } });
    await until(() => got.some((m) => m.msg?.$case === 'welcome'));
    const w = got.find((m) => m.msg?.$case === 'welcome');
    assert.equal(w?.msg?.$case === 'welcome' && w.msg.value.mode, SyncMode.SYNC_MODE_FULL_INVENTORY);
    return { s, got, client, ended };
  }

  async function until(ok: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('impossible records are rejected with a reason; good ones in the same batch are kept; the session goes on', async () => {
    const { s, got, client } = await session('evil');
    const bad: ArchiveRecord[] = [
      good(1, { dataPath: '../../etc/passwd' }),
      good(2, { lfn: '/data/../etc/shadow' }),
      good(3, { nblocks: 50, nentries: 50 }), // filesize 9000 makes 3 blocks with 4+2×1024
      good(4, { diskId: 'someone-else:/d' }),
      good(5, { parseStatus: 99 as ParseStatus }),
      good(6, { mtimeMs: Number.NaN }),
      good(7, { nentries: 1000, nblocks: 1000, regular: true, filesize: 4096 * 1000 }), // cannot fit in 5000 bytes
      good(8, { regular: true, stripeMap: [{ block: 0, stripes: [1] }] }),
    ];
    s.write({ msg: { $case: 'inventory', value: { records: [...bad, good(100)] } } });
    s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 0, diskIds: ['evil:/d'] , buckets: [] } } });
    await until(() => got.some((m) => m.msg?.$case === 'ack'));
    assert.equal(coord.rejected.get('evil'), bad.length);
    assert.equal(await coord.store.archiveCount(), 1, 'only the good record reached the catalog');
    // still live: a delta is acknowledged
    s.write({ msg: { $case: 'deltas', value: { deltas: [{ seq: 1, atMs: 1, change: { $case: 'upsert', value: good(101) } }] } } });
    await until(() => got.filter((m) => m.msg?.$case === 'ack').length === 2);
    assert.equal(await coord.store.archiveCount(), 2);
    s.end();
    client.close();
  });

  it('superseded in the middle of a full inventory: the new stream\'s inventory alone defines the catalog, the old stream\'s later messages change nothing', async () => {
    const old = await session('mid');
    old.s.write({ msg: { $case: 'inventory', value: { records: [good(701), good(703)] } } });
    await until(() => coord.registry.get('mid') !== undefined);
    const applied = async (): Promise<string[]> => (await coord.store.lfnsOnServer('mid')).sort();
    const end = Date.now() + 5000;
    while ((await applied()).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await applied(), ['/data/f701', '/data/f703'], 'the old stream\'s first batch was stored');
    // the same agent instance reconnects (its old stream looked alive here) and starts over
    const now = await session('mid');
    await until(() => old.got.some((m) => m.msg?.$case === 'refusal'));
    const r = old.got.find((m) => m.msg?.$case === 'refusal');
    assert.equal(r?.msg?.$case === 'refusal' && r.msg.value.code, 'SUPERSEDED');
    // the old stream goes on as if nothing happened: ignored (or refused by the transport)
    old.s.on('error', () => undefined);
    old.s.write({ msg: { $case: 'inventory', value: { records: [good(704)] } } });
    old.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 9, diskIds: ['evil:/d'] , buckets: [] } } });
    now.s.write({ msg: { $case: 'inventory', value: { records: [good(701), good(702)] } } });
    now.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 0, diskIds: ['evil:/d'] , buckets: [] } } });
    await until(() => now.got.some((m) => m.msg?.$case === 'ack'));
    await new Promise((r) => setTimeout(r, 200)); // room for a late old message to do harm
    assert.deepEqual(await applied(), ['/data/f701', '/data/f702'], 'f703 (old batch only) gone at the end of the new inventory, f704 never stored');
    assert.equal((await coord.store.getServer('mid'))?.appliedSeq, 0, 'the old stream\'s InventoryDone (seq 9) was not applied');
    assert.equal(old.got.filter((m) => m.msg?.$case === 'ack').length, 0, 'nothing of the old stream was acked');
    now.s.end();
    now.client.close();
    old.client.close();
  });

  it('a delete and re-create of one archive inside one batch ends as it did on disk', async () => {
    const { s, got, client } = await session('order');
    s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 0, diskIds: ['evil:/d'] , buckets: [] } } });
    await until(() => got.some((m) => m.msg?.$case === 'ack'));
    const rm = (seq: number, i: number) => ({ seq, atMs: 1, change: { $case: 'remove' as const, value: { diskId: 'evil:/d', dataPath: `public/0A/f${i}%`, cause: 1 } } });
    const up = (seq: number, i: number) => ({ seq, atMs: 1, change: { $case: 'upsert' as const, value: good(i) } });
    s.write({ msg: { $case: 'deltas', value: { deltas: [up(1, 500), rm(2, 500), up(3, 500), up(4, 501), rm(5, 501)] } } });
    await until(() => got.filter((m) => m.msg?.$case === 'ack').length === 2);
    const arch = await coord.store.archivesOf(['/data/f500', '/data/f501']);
    assert.equal(arch.get('/data/f500')?.filter((a) => a.serverId === 'order').length, 1, 're-created: present');
    assert.equal(arch.get('/data/f501')?.filter((a) => a.serverId === 'order').length ?? 0, 0, 'removed last: absent');
    s.end();
    client.close();
  });

  it('a delta batch with a sequence gap is refused before anything is stored or acked (SEQ_GAP)', async () => {
    const { s, got, client, ended } = await session('gappy');
    s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 0, diskIds: ['evil:/d'] , buckets: [] } } });
    await until(() => got.some((m) => m.msg?.$case === 'ack'));
    const before = await coord.store.archiveCount();
    // seq 1 was lost on the agent's side (say, a journal overflow): 2 and 3 must not be applied
    s.write({ msg: { $case: 'deltas', value: { deltas: [2, 3].map((seq) => ({ seq, atMs: 1, change: { $case: 'upsert' as const, value: good(600 + seq) } })) } } });
    assert.equal(await ended, 'end');
    const r = got.find((m) => m.msg?.$case === 'refusal');
    assert.match(r?.msg?.$case === 'refusal' ? `${r.msg.value.code}: ${r.msg.value.reason}` : '', /^SEQ_GAP: delta 2 where 1 was due/);
    assert.equal(got.filter((m) => m.msg?.$case === 'ack').length, 1, 'only the inventory was acked');
    assert.equal(await coord.store.archiveCount(), before);
    client.close();
  });

  it('scrub findings: one for another server\'s disk is ignored, a malformed one closes the session (BAD_MESSAGE); neither changes the catalog or writes an event', async () => {
    const corruption = (): number => events.query({ types: ['corruption.found'] }).length;
    const { s, got, client } = await session('scrubber');
    s.write({ msg: { $case: 'inventory', value: { records: [good(300, { diskId: 'evil:/d' })] } } });
    s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 0, diskIds: ['evil:/d'] , buckets: [] } } });
    await until(() => got.some((m) => m.msg?.$case === 'ack'));
    const before = await coord.store.archiveCount();
    const entry = { name: 'obj.0.1', problem: ScrubProblem.SCRUB_PROBLEM_CRC_MISMATCH, expectedCrc: 1, foundCrc: 2, reason: 'CRC' };
    // the positive control: its own disk, one event
    s.write({ msg: { $case: 'scrubFinding', value: { diskId: 'evil:/d', dataPath: 'public/0A/f300%', lfn: '', entries: [entry], atMs: 1 } } });
    await until(() => corruption() === 1);
    assert.equal(events.query({ types: ['corruption.found'] })[0]?.event.subject.lfn, '/data/f300', 'the LFN from the catalog');
    // a disk that is not this server's: nothing, and the session goes on
    s.write({ msg: { $case: 'scrubFinding', value: { diskId: 'someone-else:/d', dataPath: 'public/0A/f300%', lfn: '/data/f300', entries: [entry], atMs: 1 } } });
    s.write({ msg: { $case: 'deltas', value: { deltas: [{ seq: 1, atMs: 1, change: { $case: 'upsert', value: good(301) } }] } } });
    await until(() => got.filter((m) => m.msg?.$case === 'ack').length === 2);
    assert.equal(corruption(), 1);
    // no entries: refused, the session closed
    s.write({ msg: { $case: 'scrubFinding', value: { diskId: 'evil:/d', dataPath: 'public/0A/f300%', lfn: '', entries: [], atMs: 1 } } });
    await until(() => got.some((m) => m.msg?.$case === 'refusal'));
    const r = got.find((m) => m.msg?.$case === 'refusal');
    assert.match(r?.msg?.$case === 'refusal' ? `${r.msg.value.code}: ${r.msg.value.reason}` : '', /^BAD_MESSAGE: scrub finding for "public\/0A\/f300%" lists no entry/);
    assert.equal(corruption(), 1);
    assert.equal(await coord.store.archiveCount(), before + 1, 'only the delta changed the catalog');
    client.close();
  });

  it('protocol violations close the session with a Refusal saying why; the catalog is unchanged', async () => {
    const before = await coord.store.archiveCount();
    const { s, got, client, ended } = await session('evil2');
    s.write({ msg: { $case: 'deltas', value: { deltas: [] } } }); // deltas during a full inventory
    assert.equal(await ended, 'end');
    const r = got.find((m) => m.msg?.$case === 'refusal');
    assert.match(r?.msg?.$case === 'refusal' ? `${r.msg.value.code}: ${r.msg.value.reason}` : '', /^PROTOCOL: deltas before the session is live/);
    assert.equal(await coord.store.archiveCount(), before);
    client.close();
  });

  it('a malformed (undecodable) message and an oversized one end the stream with an error; the coordinator goes on', async () => {
    const before = await coord.store.archiveCount();
    // a raw client that sends bytes that are not an AgentMessage
    const Raw = grpc.makeGenericClientConstructor({
      connect: { path: '/ecguard.v1.AgentSession/Connect', requestStream: true, responseStream: true, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b },
    }, 'Raw');
    const raw = new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as { connect(): grpc.ClientDuplexStream<Buffer, Buffer>; close(): void };
    const junk = raw.connect();
    const junkEnd = new Promise<string>((resolve) => {
      junk.on('error', (e: grpc.ServiceError) => resolve(grpc.status[e.code] ?? String(e.code)));
      junk.on('end', () => resolve('end'));
    });
    junk.on('data', () => undefined);
    junk.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.match(await junkEnd, /INTERNAL|CANCELLED|UNKNOWN|end/);
    raw.close();
    const { s, ended, client } = await session('evil3');
    s.write({ msg: { $case: 'inventory', value: { records: Array.from({ length: 4000 }, (_, i) => good(i, { parseError: 'x'.repeat(400) })) } } });
    assert.match(await ended, /RESOURCE_EXHAUSTED/);
    client.close();
    assert.equal(await coord.store.archiveCount(), before);
    // the coordinator still serves others
    const ok = await session('fine');
    ok.s.end();
    ok.client.close();
  });

  it('a disk event naming an unknown downgrader is rejected and changes nothing; a known one is taken', async () => {
    const { s, client } = await session('evil4');
    s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 0, diskIds: ['evil:/d'] , buckets: [] } } });
    const disk = { diskId: 'evil:/d', path: '/d', space: 'public', state: DiskState.DISK_STATE_DOWNGRADED, evidence: ['x'] };
    s.write({ msg: { $case: 'diskEvent', value: { disk: { ...disk, downgradedBy: 'the-cat' }, from: DiskState.DISK_STATE_ONLINE, atMs: 1 } } });
    await until(() => coord.rejected.get('evil4') === 1);
    assert.equal((await coord.store.getDisk('evil:/d'))?.state, 'online');
    s.write({ msg: { $case: 'diskEvent', value: { disk: { ...disk, downgradedBy: 'operator' }, from: DiskState.DISK_STATE_ONLINE, atMs: 2 } } });
    let state: string | undefined;
    await until(() => {
      void coord.store.getDisk('evil:/d').then((d) => (state = d?.state));
      return state === 'downgraded';
    });
    s.end();
    client.close();
  });

  it('a Hello reporting a disk downgraded by an operator (a request taken up while disconnected) yields disk.downgraded by operator', async () => {
    const hello = (state: DiskState, by?: string, server = 'op1'): AgentMessage => ({ msg: { $case: 'hello', value: { serverId: server, instanceId: 'i', ackedSeq: 0, lastSeq: 0, journalGap: false, agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: false,
      disks: [{ diskId: `${server}:/d`, path: '/d', space: 'public', state, evidence: ['operator: SMART'], ...(by ? { downgradedBy: by } : {}) }], profile: { nbData: 4, nbParity: 2, chunkSize: 1024 } } } });
    const open = async (m: AgentMessage): Promise<{ s: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>; client: InstanceType<typeof AgentSessionClient>; got: CoordinatorMessage[] }> => {
      const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const st = client.connect();
      const got: CoordinatorMessage[] = [];
      st.on('data', (x: CoordinatorMessage) => got.push(x));
      st.on('error', () => undefined);
      st.write(m);
      await until(() => got.some((x) => x.msg?.$case === 'welcome' || x.msg?.$case === 'refusal'));
      return { s: st, client, got };
    };
    const first = await open(hello(DiskState.DISK_STATE_ONLINE));
    first.s.end();
    first.client.close();
    const byOp = (): boolean => events.query({ types: ['disk.downgraded'] }).some((e) => e.event.subject.diskId === 'op1:/d' && (e.event.data as { by: string }).by === 'operator');
    assert.equal(byOp(), false);
    const second = await open(hello(DiskState.DISK_STATE_DOWNGRADED, 'operator'));
    await until(byOp);
    second.s.end();
    second.client.close();
    // an unknown downgrader in a Hello is refused as a bad Hello
    const bad = await open(hello(DiskState.DISK_STATE_DOWNGRADED, 'gremlins', 'op2'));
    const refusal = bad.got.find((x) => x.msg?.$case === 'refusal');
    assert.match(refusal?.msg?.$case === 'refusal' ? `${refusal.msg.value.code}: ${refusal.msg.value.reason}` : 'none', /BAD_HELLO: .*neither corruption nor operator/);
    bad.client.close();
  });
  it('digest resync: malformed digests, or an end naming other buckets, close the session and change nothing', async () => {
    // an inventoried server (one archive), back with a journal gap: asked for digests
    const first = await session('dig', 'dig:/d');
    first.s.write({ msg: { $case: 'inventory', value: { records: [good(1, { diskId: 'dig:/d' })] } } });
    first.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 4, diskIds: ['dig:/d'], buckets: [] } } });
    await until(() => first.got.some((m) => m.msg?.$case === 'ack'));
    first.s.end();
    first.client.close();
    await until(() => !coord.registry.connected('dig'));
    const back = async (): Promise<{ s: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>; got: CoordinatorMessage[]; client: InstanceType<typeof AgentSessionClient>; ended: Promise<string> }> => {
      const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const s = client.connect();
      const got: CoordinatorMessage[] = [];
      const ended = new Promise<string>((resolve) => {
        s.on('error', () => resolve('error'));
        s.on('end', () => resolve('end'));
      });
      s.on('data', (m: CoordinatorMessage) => got.push(m));
      s.write({ msg: { $case: 'hello', value: { serverId: 'dig', instanceId: 'i2', ackedSeq: 4, lastSeq: 90, journalGap: true, agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: true,
        disks: [{ diskId: 'dig:/d', path: '/d', space: 'public', state: DiskState.DISK_STATE_ONLINE, evidence: [] }], profile: { nbData: 4, nbParity: 2, chunkSize: 1024 } } } });
      await until(() => got.some((m) => m.msg?.$case === 'welcome'));
      const w = got.find((m) => m.msg?.$case === 'welcome');
      assert.equal(w?.msg?.$case === 'welcome' && w.msg.value.mode, SyncMode.SYNC_MODE_DIGEST);
      return { s, got, client, ended };
    };
    const refusal = (got: CoordinatorMessage[]): string => {
      const r = got.find((m) => m.msg?.$case === 'refusal');
      return r?.msg?.$case === 'refusal' ? `${r.msg.value.code}: ${r.msg.value.reason}` : '';
    };
    const before = await coord.store.archivesOf(['/data/f1']);

    const a = await back();
    a.s.write({ msg: { $case: 'digests', value: { asOfSeq: 90, counts: [1, 2], sums: [3, 4] } } });
    await a.ended;
    assert.match(refusal(a.got), /^BAD_DIGESTS: digests for 2\/2 buckets where 4096/);
    a.client.close();
    await until(() => !coord.registry.connected('dig'));

    const b = await back();
    const n = 4096;
    b.s.write({ msg: { $case: 'digests', value: { asOfSeq: 90, counts: new Array<number>(n).fill(0), sums: new Array<number>(n).fill(0) } } });
    await until(() => b.got.some((m) => m.msg?.$case === 'digestRequest'));
    const req = b.got.find((m) => m.msg?.$case === 'digestRequest');
    assert.deepEqual(req?.msg?.$case === 'digestRequest' && req.msg.value.buckets.length, 1, 'the bucket of the one archive differs (the agent claims none)');
    b.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 90, diskIds: ['dig:/d'], buckets: [0, 1, 2] } } });
    await b.ended;
    assert.match(refusal(b.got), /^PROTOCOL: digest resync ended for 3 bucket\(s\) where 1 were asked/);
    b.client.close();
    assert.deepEqual(await coord.store.archivesOf(['/data/f1']), before, 'the catalog unchanged');
    assert.equal((await coord.store.getServer('dig'))?.appliedSeq, 4);
  });
});
