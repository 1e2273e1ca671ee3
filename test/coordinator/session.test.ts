// Coordinator and agents in one process over real gRPC on loopback: sessions, full inventory
// and journal replay, liveness, disk failure, deletion with tombstones, hostile agents.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import { CoordinatorLink } from '../../agent/session/coordinator-link.js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { coordinatorMetrics } from '../../coordinator/metrics/coordinator-metrics.js';
import { coordinatorMetricsSource } from '../../coordinator/metrics/coordinator-source.js';
import { startMetricsServer } from '../../shared/metrics/metrics-server.js';
import { scrape, valueOf } from '../helpers/prom-text.js';
import type { EcguardEvent } from '../../shared/domain/event.js';
import { AgentSessionClient, type AgentMessage, type CoordinatorMessage } from '../../proto/gen/ecguard/v1/agent.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { placeObject, type PlacedObject } from '../helpers/ec-cluster-data.js';

const PROFILE = { nbData: 4, nbParity: 2, chunkSize: 1024 };

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Agent {
  runtime: AgentRuntime;
  link: CoordinatorLink;
  state: string;
}

describe('coordinator sessions (in-process, real gRPC)', function () {
  this.timeout(60_000);
  let dir: string;
  let sites: FakeSite[];
  let coord: Coordinator;
  let port: number;
  let agents: (Agent | undefined)[];
  let objects: PlacedObject[];
  let eventLog: EventLog;
  const eventsOf = (type: string): EcguardEvent[] => eventLog.query({ limit: 100_000 }).map((r) => r.event).filter((e) => e.type === type);

  const startCoordinator = async (): Promise<void> => {
    eventLog = new EventLog(join(dir, 'catalog.db'));
    coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'catalog.db')), eventLog, insecure: true, heartbeatMs: 100, downAfterMs: 800, safeModeTimeoutMs: 60_000, safeModeSettleMs: 1500, writeSettleMs: 2000 });
    port = await coord.start();
  };
  const startAgent = async (i: number): Promise<Agent> => {
    const site = sites[i] as FakeSite;
    const state = join(dir, `state-${i}`);
    const runtime = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: true, workers: 0, diskCheckIntervalMs: 100 });
    await runtime.start();
    const link = new CoordinatorLink(runtime, { address: `127.0.0.1:${port}`, insecure: true, profile: PROFILE, stateDir: state });
    link.start();
    const a = { runtime, link, state };
    agents[i] = a;
    return a;
  };
  const stopAgent = async (i: number): Promise<void> => {
    const a = agents[i];
    if (!a) return;
    a.link.stop();
    await a.runtime.stop();
    agents[i] = undefined;
  };
  const fileState = async (lfn: string): Promise<string | undefined> => (await coord.store.getFile(lfn))?.state;
  const settled = async (): Promise<void> => {
    await coord.reclassifier.flush();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-sess-'));
    sites = Array.from({ length: 6 }, (_, i) => makeFakeSite({ serverId: `srv${i}` }));
    objects = Array.from({ length: 24 }, (_, i) => placeObject(sites, `/data/f${i}`, [0, 100, 5000, 9000][i % 4] as number, PROFILE));
    agents = [];
    await startCoordinator();
    for (let i = 0; i < 6; i++) await startAgent(i);
  });
  after(async () => {
    for (let i = 0; i < 6; i++) await stopAgent(i);
    await coord?.stop();
    for (const s of sites) s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every agent sends a full inventory; safe mode ends; all files healthy', async () => {
    await until(() => !coord.safeMode.isActive, 10_000, 'safe mode to end');
    await until(async () => {
      await settled();
      const counts = await coord.store.fileCounts();
      return counts.healthy.count === objects.length;
    }, 10_000, 'all files healthy');
    assert.ok(agents.every((a) => a?.link.stats.fullInventories === 1));
    // a new catalog's first census: the files it found (written before it) are counted in one
    // census.completed, not announced one by one as created; nothing alarming
    await until(() => eventsOf('census.completed').length === 1, 5000, 'census.completed');
    const census = eventsOf('census.completed')[0]?.data as { files: number; notAnnounced: number; bytes: number };
    assert.deepEqual([census.files, census.notAnnounced], [objects.length, objects.length]);
    assert.equal(census.bytes, objects.reduce((a, o) => a + o.size, 0));
    assert.equal(eventsOf('file.created').length, 0);
    assert.equal(coord.events?.censusPending, false);
    assert.equal(eventsOf('file.degraded').length + eventsOf('file.lost').length + eventsOf('server.down').length, 0);
  });

  it('files --created-since: exactly the objects completed after T (the new-file log for backups)', async () => {
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const fresh = Array.from({ length: 3 }, (_, i) => placeObject(sites, `/data/new${i}`, 4000 + i, PROFILE));
    objects.push(...fresh);
    await until(async () => {
      await settled();
      return (await coord.store.fileCounts()).healthy.count === objects.length;
    }, 10_000, 'the new files healthy');
    const since = await coord.store.listFiles({ createdSince: t });
    assert.deepEqual(since.map((f) => f.lfn).sort(), fresh.map((o) => o.lfn).sort());
    // after the census every new file is announced, with the servers holding it
    await until(() => eventsOf('file.created').length === fresh.length, 5000, 'their file.created events');
    assert.deepEqual(eventsOf('file.created').map((e) => e.subject.lfn).sort(), fresh.map((o) => o.lfn).sort());
    for (const e of eventsOf('file.created')) assert.deepEqual((e.data as { servers: string[] }).servers, sites.map((x) => x.serverId).sort());
  });

  it('/metrics over HTTP matches the catalog', async () => {
    const server = await startMetricsServer(coordinatorMetrics(coordinatorMetricsSource(coord)), '127.0.0.1:0');
    try {
      const e = await scrape(`http://127.0.0.1:${server.port}/metrics`);
      const counts = await coord.store.fileCounts();
      for (const state of ['healthy', 'degraded', 'critical', 'lost'] as const) {
        assert.equal(valueOf(e, 'ecguard_files', { state }), counts[state].count, state);
        assert.equal(valueOf(e, 'ecguard_file_bytes', { state }), counts[state].bytes, state);
      }
      assert.equal(valueOf(e, 'ecguard_archives', { disk_state: 'online' }), await coord.store.archiveCount());
      assert.equal(valueOf(e, 'ecguard_agent_sessions'), 6);
      assert.equal(valueOf(e, 'ecguard_servers', { state: 'up' }), 6);
      assert.equal(valueOf(e, 'ecguard_safe_mode'), 0);
      // heartbeats carry each disk's room (statfs), for repair placement
      const room = coord.space.get((sites[0]?.disks[0] as FakeSite['disks'][number]).diskId);
      assert.ok(room && room.totalBytes > 0 && room.freeBytes > 0 && room.freeBytes <= room.totalBytes, JSON.stringify(room));
    } finally {
      await server.close();
    }
  });

  it('a disk directory removed: exactly the files with an archive there become degraded', async () => {
    const disk = sites[2]?.disks[1];
    assert.ok(disk);
    const hit = objects.filter((o) => o.disks[2] === 1).map((o) => o.lfn).sort();
    assert.ok(hit.length > 0);
    renameSync(disk.path, disk.path + '.gone');
    try {
      await until(async () => {
        await settled();
        const rows = await coord.store.listFiles({ states: ['degraded'] });
        return rows.length === hit.length;
      }, 5000, 'degraded files');
      const rows = await coord.store.listFiles({ states: ['degraded'] });
      assert.deepEqual(rows.map((r) => r.lfn).sort(), hit);
      assert.equal(eventsOf('disk.failed').length, 1);
      assert.equal(eventsOf('disk.failed')[0]?.subject.diskId, disk.diskId);
      assert.deepEqual(eventsOf('file.degraded').map((e) => e.subject.lfn).sort(), hit, 'one file.degraded per damaged file, each once');
      assert.equal((await coord.store.listFiles({ states: ['lost', 'critical'] })).length, 0);
    } finally {
      renameSync(disk.path + '.gone', disk.path);
    }
    await until(async () => {
      await settled();
      return (await coord.store.fileCounts()).healthy.count === objects.length;
    }, 5000, 'healthy again after the disk returns');
  });

  it('an agent stopped: its files degraded, not lost; restarted: replay, no full inventory; healthy', async () => {
    await stopAgent(4);
    await until(() => coord.cluster.serverState('srv4') === 'down', 5000, 'srv4 down');
    await settled();
    const counts = await coord.store.fileCounts();
    assert.equal(counts.lost.count, 0);
    assert.equal(counts.degraded.count, objects.length);
    const a = await startAgent(4);
    await until(async () => {
      await settled();
      return (await coord.store.fileCounts()).healthy.count === objects.length;
    }, 10_000, 'healthy after restart');
    assert.equal(a.link.stats.fullInventories, 0, 'journal replay, not a full inventory');
    assert.deepEqual(eventsOf('server.down').map((e) => e.subject.serverId), ['srv4']);
    assert.deepEqual(eventsOf('server.up').map((e) => e.subject.serverId), ['srv4']);
    assert.equal(a.link.stats.replays, 1);
  });

  it('a file deleted on all servers while one agent is away: its leftover is debris by tombstone', async () => {
    const victim = objects[5] as PlacedObject;
    await stopAgent(1);
    await until(() => coord.cluster.serverState('srv1') === 'down', 5000, 'srv1 down');
    victim.paths.forEach((p, i) => {
      if (i !== 1) unlinkSync(p);
    });
    await until(async () => {
      await settled();
      return (await coord.store.getFile(victim.lfn)) === undefined;
    }, 10_000, 'the deleted file to vanish');
    await startAgent(1);
    await until(async () => {
      await settled();
      const debris = await coord.store.listArchiveRoles(['debris'], 100);
      return debris.some((d) => d.lfn === victim.lfn && d.serverId === 'srv1');
    }, 10_000, 'the leftover to be debris');
    assert.equal(await fileState(victim.lfn), undefined, 'a deleted file does not come back');
    assert.deepEqual(eventsOf('file.deleted').map((e) => e.subject.lfn), [victim.lfn]);
    assert.deepEqual((eventsOf('file.deleted')[0]?.data as { serversAway: string[] }).serversAway, ['srv1'], 'the server that still holds an archive');
    assert.equal(eventsOf('file.lost').length, 0, 'a deletion is never reported as a loss');
    const found = eventsOf('debris.found').filter((e) => e.subject.lfn === victim.lfn);
    assert.equal(found.length, 1, 'one debris.found for the leftover');
    assert.deepEqual([found[0]?.subject.serverId, (found[0]?.data as { kind: string }).kind], ['srv1', 'deleted']);
    assert.ok(((found[0]?.data as { size: number }).size ?? 0) > 0, 'with its size');
  });

  it('a file whose archives arrive one by one is "being written", never degraded; still short after the settle window: degraded', async () => {
    const degradedOf = (lfn: string): number => eventsOf('file.degraded').filter((e) => e.subject.lfn === lfn).length;
    const slow = placeObject(sites, '/data/slow0', 3000, PROFILE, { withhold: [5] });
    await until(async () => {
      await settled();
      return (await coord.store.getFile('/data/slow0'))?.state === 'incomplete';
    }, 5000, 'slow0 seen with 5 of 6 archives');
    assert.match((await coord.store.getFile('/data/slow0'))?.reason ?? '', /^being written/);
    assert.equal((await coord.store.listRepairTasks({ lfn: '/data/slow0' })).length, 0, 'nothing planned for a file being written');
    slow.placeWithheld?.();
    await until(async () => (await fileState('/data/slow0')) === 'healthy', 5000, 'slow0 healthy');
    assert.equal(degradedOf('/data/slow0'), 0, 'no alarm for a write in progress');
    await until(() => eventsOf('file.created').filter((e) => e.subject.lfn === '/data/slow0').length === 1, 5000, 'slow0 created once');

    const short = placeObject(sites, '/data/slow1', 3000, PROFILE, { withhold: [3] });
    await until(async () => {
      await settled();
      return (await coord.store.getFile('/data/slow1'))?.state === 'incomplete';
    }, 5000, 'slow1 being written');
    await until(async () => (await fileState('/data/slow1')) === 'degraded', 8000, 'slow1 degraded once the window passed');
    assert.equal(degradedOf('/data/slow1'), 1);
    short.placeWithheld?.();
    await until(async () => (await fileState('/data/slow1')) === 'healthy', 5000, 'slow1 healthy');
  });

  it('an object with .mt files: the object is a file, its .mt files are not', async () => {
    const o = placeObject(sites, '/data/with-mt', 6000, PROFILE, { mtFile: true });
    objects.push(o);
    await until(async () => (await fileState('/data/with-mt')) === 'healthy', 5000, 'the object healthy');
    await until(async () => (await coord.store.archivesOf(['/data/with-mt.mt'])).get('/data/with-mt.mt')?.length === 6, 5000, 'the six .mt files in the catalog');
    await settled();
    assert.equal(await coord.store.getFile('/data/with-mt.mt'), undefined, 'no bogus file for the metadata');
  });

  it('the same agent instance reconnecting while its old stream still looks alive takes over; another instance is refused', async () => {
    const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const open = (instanceId: string): { refusal: Promise<string>; stream: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage> } => {
      const stream = client.connect();
      const refusal = new Promise<string>((resolve) => {
        stream.on('data', (m: CoordinatorMessage) => {
          if (m.msg?.$case === 'refusal') resolve(`${m.msg.value.code}: ${m.msg.value.reason}`);
        });
        stream.on('error', () => resolve('error'));
      });
      stream.write({ msg: { $case: 'hello', value: { serverId: 'srv9', instanceId, ackedSeq: 0, lastSeq: 0, journalGap: false, disks: [], agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: false } } });
      return { refusal, stream };
    };
    try {
      // a half-dead stream: the agent gave up on it, the coordinator has not noticed
      const old = open('inst-1');
      await until(() => coord.registry.connected('srv9'), 5000, 'the first stream to claim srv9');
      const first = coord.registry.get('srv9');
      const again = open('inst-1');
      assert.match(await old.refusal, /^SUPERSEDED: the same agent instance reconnected/);
      await until(() => coord.registry.get('srv9') !== undefined && coord.registry.get('srv9') !== first, 5000, 'the new stream to hold srv9');
      // a different instance (a clone, an impersonator) is still refused
      const clone = open('inst-2');
      assert.match(await clone.refusal, /^DUPLICATE_SERVER: server srv9 is already connected/);
      const late = await Promise.race([again.refusal, new Promise<string>((r) => setTimeout(() => r('none'), 300))]);
      assert.equal(late, 'none', 'the reconnected stream is kept');
      again.stream.end();
    } finally {
      client.close();
    }
  });

  it('an agent claiming a connected server id is refused; a hostile Hello is refused cleanly', async () => {
    const client = new AgentSessionClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const refusal = (hello: object): Promise<string> => new Promise((resolve) => {
      const s = client.connect();
      s.on('data', (m: CoordinatorMessage) => {
        if (m.msg?.$case === 'refusal') resolve(`${m.msg.value.code}: ${m.msg.value.reason}`);
      });
      s.on('error', () => resolve('error'));
      s.write({ msg: { $case: 'hello', value: { serverId: 'srv0', instanceId: 'x', ackedSeq: 0, lastSeq: 0, journalGap: false, disks: [], agentVersion: 't', stripesAddress: '', runningTasks: [], digestResync: false, ...hello } } });
    });
    assert.match(await refusal({}), /^DUPLICATE_SERVER: server srv0 is already connected/);
    assert.match(await refusal({ serverId: '../../etc' }), /^BAD_HELLO/);
    client.close();
    assert.equal(coord.registry.get('srv0')?.peer !== undefined, true, 'the real srv0 session is untouched');
  });
});
