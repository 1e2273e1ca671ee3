// When the first census ends, on a real coordinator (hand-made agent sessions over gRPC). Safe
// mode left early by an operator: not while a connected server is still sending its inventory
// (its files would all be announced), but once every known server has reported or is down (a
// dead one never reports). `ecguard status` shows the census while it lasts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { AgentSessionClient, type AgentMessage, type CoordinatorMessage } from '../../proto/gen/ecguard/v1/agent.js';
import { DiskState, ParseStatus, type ArchiveRecord } from '../../proto/gen/ecguard/v1/types.js';
import { runCliAsync } from '../helpers/cli.js';
import { until } from '../helpers/link-harness.js';

const P = { nbData: 1, nbParity: 1, chunkSize: 1024 };
const rec = (server: string, i: number): ArchiveRecord => ({
  diskId: `${server}:/d`, space: 'public', dataPath: `public/0A/f${i}%`, lfn: `/data/f${i}`, size: 3000, mtimeMs: 1, inode: i, strpver: 1_700_000_000, filesize: 900,
  xattrNamespace: 1, nblocks: 1, nentries: 1, crcKind: 1, regular: true, stripeMap: [], parseStatus: ParseStatus.PARSE_STATUS_OK,
});

describe('the first census, after an operator left safe mode early', function () {
  this.timeout(30_000);
  let dir: string;
  let coord: Coordinator;
  let log: EventLog;
  let port: number;
  const clients: AgentSessionClient[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-census-gate-'));
    log = new EventLog(join(dir, 'c.db'));
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'c.db')), insecure: true, profile: P, eventLog: log, heartbeatMs: 100, downAfterMs: 600, safeModeSettleMs: 60_000 });
    port = await coord.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await coord.stop();
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function connect(server: string): { s: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>; got: CoordinatorMessage[] } {
    const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.push(client);
    const s = client.connect();
    const got: CoordinatorMessage[] = [];
    s.on('error', () => undefined);
    s.on('data', (m: CoordinatorMessage) => got.push(m));
    s.write({ msg: { $case: 'hello', value: { serverId: server, instanceId: 'i', ackedSeq: 0, lastSeq: 0, journalGap: false, agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: true,
      disks: [{ diskId: `${server}:/d`, path: '/d', space: 'public', state: DiskState.DISK_STATE_ONLINE, evidence: [] }], profile: P } } });
    return { s, got };
  }
  const census = (): number => log.query({ types: ['census.completed'], limit: 10 }).length;
  const created = (): number => log.query({ types: ['file.created'], limit: 100 }).length;

  it('waits while a server sends its inventory, and for a server that died before reporting, then ends', async () => {
    assert.equal(coord.events?.censusPending, true, 'a catalog without servers starts a census');
    // server a reports (its 3 files are complete on it alone: 1+1 needs one archive to be readable)
    const a = connect('a');
    await until(() => a.got.some((m) => m.msg?.$case === 'welcome'), 10_000, 'a welcomed');
    a.s.write({ msg: { $case: 'inventory', value: { records: [0, 1, 2].map((i) => rec('a', i)) } } });
    a.s.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: 1, diskIds: ['a:/d'], buckets: [] } } });
    await until(() => a.got.some((m) => m.msg?.$case === 'ack'), 10_000, 'a acked');
    const keepA = setInterval(() => a.s.write({ msg: { $case: 'heartbeat', value: { sentAtMs: Date.now(), lastSeq: 1, journalPending: 0, journalOverflow: false, diskSpace: [] } } }), 100);
    try {
      // b is still sending its inventory when the operator leaves safe mode
      const b = connect('b');
      await until(() => b.got.some((m) => m.msg?.$case === 'welcome'), 10_000, 'b welcomed');
      b.s.write({ msg: { $case: 'inventory', value: { records: [3, 4].map((i) => rec('b', i)) } } });
      assert.equal(coord.safeMode.isActive, true);
      coord.safeMode.leave('an operator');
      await new Promise((r) => setTimeout(r, 800)); // liveness ticks run releases meanwhile
      assert.equal(coord.safeMode.isActive, false);
      assert.equal(census(), 0, 'not over while b still sends its inventory');
      assert.equal(coord.events?.censusPending, true);
      // ecguard status says a census is on, and what it has counted
      const during = await runCliAsync(['status', '--coordinator', `127.0.0.1:${port}`, '--insecure', '--json']);
      const c = (JSON.parse(during.stdout) as { census?: { files: number; notAnnounced: number; startedAtMs: number } }).census;
      assert.ok(c && c.files >= 3 && c.notAnnounced >= 3 && c.startedAtMs > 0, during.stdout);
      const text = await runCliAsync(['status', '--coordinator', `127.0.0.1:${port}`, '--insecure']);
      assert.match(text.stdout, /first census of a new catalog since .*: \d+ files/);
      // b dies before its InventoryDone: it never reports; once it is down the census ends
      b.s.cancel();
      await until(() => coord.cluster.serverState('b') !== 'up', 10_000, 'b down');
      await until(() => census() === 1, 10_000, 'census.completed');
    } finally {
      clearInterval(keepA);
    }
    assert.equal(created(), 0, 'the files already written were not announced one by one');
    const after = await runCliAsync(['status', '--coordinator', `127.0.0.1:${port}`, '--insecure', '--json']);
    assert.equal((JSON.parse(after.stdout) as { census?: unknown }).census, undefined, 'over: status no longer shows it');
    const data = log.query({ types: ['census.completed'], limit: 1 })[0]?.event.data as { files: number };
    assert.ok(data.files >= 3, `${data.files} files counted`);
  });
});
