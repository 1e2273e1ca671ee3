// A disk the agent's Hello calls `unread` (its state never read it whole: it was unmounted when
// the state began, or its first scan is still running) is online, yet the agent's inventory has
// nothing of it. Neither a full inventory nor a digest resync may sweep its archives, and the
// digests leave it out on both sides (so the resync does not re-send the whole server). Driven
// over real gRPC with hand-made agent messages, so the disk's state and flag are exact.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { AgentMessage, AgentSessionClient, SyncMode, type CoordinatorMessage } from '../../proto/gen/ecguard/v1/agent.js';
import { DiskState, ParseStatus, type ArchiveRecord, type Disk } from '../../proto/gen/ecguard/v1/types.js';
import { archiveRecordFromWire } from '../../shared/wire/archive-record-wire.js';
import { BucketDigests } from '../../shared/domain/inventory-digest.js';
import { until } from '../helpers/link-harness.js';

const P = { nbData: 4, nbParity: 2, chunkSize: 1024 };
const rec = (disk: string, i: number): ArchiveRecord => ({
  diskId: disk, space: 'public', dataPath: `public/0A/f${i}%`, lfn: `/data/f${i}`, size: 5000, mtimeMs: 1, inode: i, strpver: 1_700_000_000, filesize: 9000,
  xattrNamespace: 1, nblocks: 3, nentries: 3, crcKind: 1, regular: true, stripeMap: [], parseStatus: ParseStatus.PARSE_STATUS_OK,
});
const D0 = 'u:/d0';
const D1 = 'u:/d1';
const disk = (diskId: string, unread = false): Disk => ({ diskId, path: `/${diskId.slice(2)}`, space: 'public', state: DiskState.DISK_STATE_ONLINE, evidence: [], ...(unread ? { unread: true } : {}) });

describe('a disk the agent has never read: no sweep, no digest', function () {
  this.timeout(30_000);
  let dir: string;
  let coord: Coordinator;
  let port: number;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-unread-'));
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'c.db')), insecure: true, profile: P });
    port = await coord.start();
  });
  afterEach(async () => {
    await coord.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(hello: Partial<Extract<AgentMessage['msg'], { $case: 'hello' }>['value']>): Promise<{ s: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>; got: CoordinatorMessage[]; client: AgentSessionClient; mode: SyncMode }> {
    const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const s = client.connect();
    const got: CoordinatorMessage[] = [];
    s.on('error', () => undefined);
    s.on('data', (m: CoordinatorMessage) => got.push(m));
    s.write({ msg: { $case: 'hello', value: { serverId: 'u', instanceId: 'i', ackedSeq: 0, lastSeq: 0, journalGap: false, agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: true, disks: [disk(D0), disk(D1)], profile: P, ...hello } } });
    await until(() => got.some((m) => m.msg?.$case === 'welcome'), 5000, 'the welcome');
    const w = got.find((m) => m.msg?.$case === 'welcome');
    return { s, got, client, mode: w?.msg?.$case === 'welcome' ? w.msg.value.mode : SyncMode.SYNC_MODE_UNSPECIFIED };
  }

  const counts = async (): Promise<[number, number]> => {
    const c = await coord.store.archiveCountsByDisk();
    return [c.get(D0) ?? 0, c.get(D1) ?? 0];
  };

  /** The server's first inventory: 5 archives on each disk. */
  async function seed(): Promise<void> {
    const a = await connect({});
    assert.equal(a.mode, SyncMode.SYNC_MODE_FULL_INVENTORY);
    a.s.write({ msg: { $case: 'inventory', value: { records: [0, 1, 2, 3, 4].flatMap((i) => [rec(D0, i), rec(D1, 10 + i)]) } } });
    a.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 4, diskIds: [D0, D1], buckets: [] } } });
    await until(async () => (await coord.store.getServer('u'))?.inventoried === true, 5000, 'the first inventory done');
    a.s.end();
    a.client.close();
    await until(() => !coord.registry.connected('u'), 5000, 'the session closed');
    assert.deepEqual(await counts(), [5, 5]);
  }

  it('a full inventory that lacks an unread disk\'s archives sweeps only the read disk', async () => {
    await seed();
    await coord.cluster.updateServer('u', { inventoried: false }); // no complete inventory: a full one is asked
    const b = await connect({ instanceId: 'fresh', ackedSeq: 100, lastSeq: 100, disks: [disk(D0), disk(D1, true)] });
    assert.equal(b.mode, SyncMode.SYNC_MODE_FULL_INVENTORY);
    // the fresh state holds d0 (one archive gone from it) and nothing of d1
    b.s.write({ msg: { $case: 'inventory', value: { records: [0, 1, 2, 3].map((i) => rec(D0, i)) } } });
    b.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 100, diskIds: [D0], buckets: [] } } });
    await until(() => b.got.some((m) => m.msg?.$case === 'ack'), 5000, 'the ack');
    await coord.reclassifier.flush();
    assert.deepEqual(await counts(), [4, 5], 'd0 swept of the archive it lost; d1 untouched');
    b.s.end();
    b.client.close();
  });

  it('a digest resync leaves an unread disk out of the digests and of the sweep', async () => {
    await seed();
    const b = await connect({ instanceId: 'fresh', ackedSeq: 100, lastSeq: 100, journalGap: true, disks: [disk(D0), disk(D1, true)] });
    assert.equal(b.mode, SyncMode.SYNC_MODE_DIGEST);
    // the agent's digests: d0's five archives exactly as the catalog has them, nothing of d1
    const mine = new BucketDigests();
    for (const i of [0, 1, 2, 3, 4]) {
      const r = archiveRecordFromWire(rec(D0, i), 'u', P);
      assert.ok(r.ok);
      mine.add(r.value);
    }
    b.s.write({ msg: { $case: 'digests', value: { asOfSeq: 100, counts: mine.counts, sums: mine.sums } } });
    await until(() => b.got.some((m) => m.msg?.$case === 'digestRequest'), 5000, 'the digest request');
    const req = b.got.find((m) => m.msg?.$case === 'digestRequest');
    assert.deepEqual(req?.msg?.$case === 'digestRequest' ? req.msg.value.buckets : undefined, [], 'd1 compared too would make its buckets differ');
    b.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 100, diskIds: [D0], buckets: [] } } });
    await until(() => b.got.some((m) => m.msg?.$case === 'ack'), 5000, 'the ack');
    await coord.reclassifier.flush();
    assert.deepEqual(await counts(), [5, 5]);
    b.s.end();
    b.client.close();
  });
});
