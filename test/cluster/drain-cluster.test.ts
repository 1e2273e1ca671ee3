// `ecguard drain` on a real cluster: a coordinator and 7 agent processes (4+2, two disks each).
// A drained disk's archives are rebuilt on the same server's other disk, the namespace link
// moving along; a drained server's go to servers holding none of the file. Nothing already on
// disk is changed, every file stays healthy throughout, and the archives left behind are
// duplicates that debris quarantine moves aside; each moved file decodes through its new archive.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { LocalCluster, type PlacedFile } from '../../cli/demo/local-cluster.js';
import type { DrainStatusReply, ListDebrisReply, ListDisksReply, ListFilesReply, ListServersReply } from '../../proto/gen/ecguard/v1/admin.js';
import type { EcguardEvent } from '../../shared/domain/event.js';
import { dataFiles, decodesTo, linkedArchive } from './repair-checks.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const SIZES = [0, 1, 4095, 20_000, 32_769, 100_000];
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('drain cluster: 7 agents, a disk and a server drained', function () {
  this.timeout(300_000);
  let cluster: LocalCluster;
  const files: PlacedFile[] = [];

  const admin = <T>(args: string[]): T => {
    const r = cluster.cli([...args, '--json']);
    if (r.code !== 0 && r.code !== 1) throw new Error(`ecguard ${args.join(' ')} exit ${r.code}: ${r.stderr}\ncoordinator log:\n${cluster.logTail('coordinator')}`);
    return JSON.parse(r.stdout) as T;
  };
  const until = async (what: string, ok: () => boolean, ms = 90_000): Promise<void> => {
    const end = Date.now() + ms;
    for (;;) {
      let good: boolean;
      try {
        good = ok();
      } catch {
        good = false;
      }
      if (good) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\ncoordinator log:\n${cluster.logTail('coordinator', 40)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const events = (type: string): EcguardEvent[] => admin<{ events: EcguardEvent[] }>(['events', '--type', type]).events;
  const states = (): Map<string, string> => new Map(admin<ListFilesReply>(['files', '--limit', '1000']).files.map((f) => [f.lfn, f.state]));
  const allHealthy = (): boolean => {
    const s = states();
    return s.size === files.length && [...s.values()].every((x) => x === 'healthy');
  };
  /** The disk id the coordinator knows for server i's disk d. */
  const diskIdOf = (i: number, d: number): string => {
    const site = cluster.sites[i];
    const found = admin<ListDisksReply>(['disks', '--server', site?.serverId ?? '']).disks.find((x) => x.disk?.path === site?.disks[d]);
    if (!found?.disk) throw new Error(`no disk ${site?.disks[d]} of ${site?.serverId}`);
    return found.disk.diskId;
  };

  before(async () => {
    cluster = new LocalCluster({ servers: 7, profile: P42, heartbeat: '300ms', downAfter: '4s', settle: '2s', extraCoordinatorArgs: ['--repair-backoff', '300ms'] });
    for (let i = 0; i < 18; i++) files.push(cluster.placeFile(`/data/dr/f${i}`, SIZES[i % SIZES.length] as number, { first: i % 7, crc32c: i % 2 === 0 }));
    // an object with .mt files: its archive and the .mt copy of srv02 both on the disk drained below
    files.push(cluster.placeFile('/data/dr/mtx0', 20_000, { first: 6, mtFile: true }));
    await cluster.start();
    await until('every file healthy', allHealthy);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('refuses to drain what does not exist or is already gone, naming it', () => {
    const r = cluster.cli(['drain', 'start', '--server', 'srv99']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no server srv99/);
    const both = cluster.cli(['drain', 'start', '--server', 'srv01', '--disk', 'srv01:/x']);
    assert.equal(both.code, 2, both.stderr);
    const none = cluster.cli(['drain', 'status']);
    assert.equal(none.code, 0, 'no drain: nothing pending');
    assert.match(none.stdout, /no drain/);
  });

  it('a drained disk: its archives move to the server\'s other disk with the link; the old ones become debris, untouched', async () => {
    const server = 2;
    const site = cluster.sites[server];
    assert.ok(site);
    const drained = site.disks[0] as string;
    const moved = files.filter((f) => f.paths.some((p, i) => f.servers[i] === server && p.startsWith(`${drained}/`)));
    assert.ok(moved.length >= 2, `files with an archive on the drained disk: ${moved.length}`);
    const before = new Map([...dataFiles(cluster).keys()].map((p) => [p, sha(p)]));
    const diskId = diskIdOf(server, 0);

    const r = cluster.cli(['drain', 'start', '--disk', diskId, '--reason', 'SMART pending sectors']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /draining disk/);
    let healthyThroughout = true;
    await until('the disk drained', () => {
      if (!allHealthy()) healthyThroughout = false;
      const s = admin<DrainStatusReply>(['drain', 'status']);
      return s.drains.length === 1 && s.drains[0]?.drained === true && s.activeTasks === 0;
    });
    assert.ok(healthyThroughout, 'no file left healthy while its archive moved');
    assert.ok(moved.some((f) => f.lfn === '/data/dr/mtx0'), 'premise: the .mt object moves too');
    const st = cluster.cli(['drain', 'status']);
    assert.equal(st.code, 0, 'exit 0: done');
    assert.equal(admin<DrainStatusReply>(['drain', 'status']).drains[0]?.disks[0]?.metadataCopies, 1, 'the .mt copy stays, counted apart');
    assert.match(st.stdout, /1 \.mt copy of objects stay on .*a drain does not move them/);

    const newLinks = new Map<string, string | undefined>();
    for (const f of moved) {
      const old = f.paths[f.servers.indexOf(server)] as string;
      const now = linkedArchive(cluster, server, f.lfn);
      newLinks.set(f.lfn, now);
      assert.ok(now && now.startsWith(`${site.disks[1]}/`), `${f.lfn}: the link moved to the other disk (${now})`);
      assert.ok(existsSync(old), `${f.lfn}: the old archive is still there until quarantined`);
      const others = f.paths.filter((_, i) => f.servers[i] !== server).slice(0, P42.nbData - 1);
      assert.ok(await decodesTo(f.lfn, f.size, [now, ...others], P42), `${f.lfn} decodes through its new archive`);
    }
    for (const [p, h] of before) assert.equal(sha(p), h, `${p} unchanged`);
    assert.ok(allHealthy());

    // the data-safety log: the drain's start and end, and each move (not a loss) as file.repaired
    await until('drain.completed recorded', () => events('drain.completed').some((e) => e.subject.diskId === diskId));
    const started = events('drain.started').filter((e) => e.subject.diskId === diskId);
    assert.equal(started.length, 1);
    assert.deepEqual([started[0]?.subject.serverId, started[0]?.data], [site.serverId, { kind: 'disk', reason: 'SMART pending sectors', disks: 1 }]);
    const repaired = events('file.repaired').filter((e) => moved.some((f) => f.lfn === e.subject.lfn));
    assert.equal(repaired.length, moved.length);
    for (const e of repaired) {
      assert.equal((e.data as { moved?: number }).moved, 1);
      assert.match(e.reason, /moved off a drained disk or server/);
    }

    const debris = admin<ListDebrisReply>(['debris']).archives.filter((a) => a.diskId === diskId);
    assert.equal(debris.length, moved.length, 'each archive left behind is debris');
    for (const d of debris) assert.match(d.reason, /rebuilt its stripes elsewhere/);
    const q = cluster.cli(['debris', 'quarantine', '--server', site.serverId]);
    assert.equal(q.code, 0, q.stderr + q.stdout);
    for (const f of moved) {
      assert.ok(!existsSync(f.paths[f.servers.indexOf(server)] as string), `${f.lfn}: the duplicate was moved aside`);
      assert.equal(linkedArchive(cluster, server, f.lfn), newLinks.get(f.lfn), `${f.lfn}: the link to the new archive stays`);
    }
    await until('still every file healthy after the quarantine', allHealthy, 20_000);
  });

  it('a drained server: each archive there goes to a server that held none of the file', async () => {
    const server = 5;
    const site = cluster.sites[server];
    assert.ok(site);
    const moved = files.filter((f) => f.servers.includes(server));
    // paused: the moves are planned but none starts, so the drain is seen pending
    assert.equal(cluster.cli(['repair', 'pause']).code, 0);
    const r = cluster.cli(['drain', 'start', '--server', site.serverId]);
    assert.equal(r.code, 0, r.stderr);
    await until('the moves queued', () => admin<DrainStatusReply>(['drain', 'status']).activeTasks === moved.length);
    const pending = cluster.cli(['drain', 'status']);
    assert.equal(pending.code, 1, 'exit 1 while a drain is not done');
    assert.match(pending.stdout, /DRAINS HELD: paused/);
    const mine = admin<DrainStatusReply>(['drain', 'status']).drains.find((x) => x.kind === 'server');
    assert.equal(mine?.disks.length, 2);
    assert.equal(mine?.disks.reduce((n, d) => n + Number(d.remaining), 0), moved.length, 'every file with an archive there still counts it');
    assert.match(cluster.cli(['status']).stdout, /draining \(no new placements; ecguard drain status\): .*server srv05/);
    assert.equal(cluster.cli(['repair', 'resume']).code, 0);
    await until('the server drained', () => {
      const s = admin<DrainStatusReply>(['drain', 'status']);
      const d = s.drains.find((x) => x.kind === 'server');
      return d?.drained === true && s.activeTasks === 0;
    });
    const byPfn = new Map<string, number[]>();
    for (const { server: s, pfn } of dataFiles(cluster).values()) byPfn.set(pfn, [...(byPfn.get(pfn) ?? []), s]);
    for (const f of moved) {
      const newHolders = cluster.sites.map((_, i) => i).filter((i) => i !== server && !f.servers.includes(i) && linkedArchive(cluster, i, f.lfn) !== undefined);
      assert.equal(newHolders.length, 1, `${f.lfn}: one new archive on a server that held none (holders before: ${f.servers.join(',')})`);
      const fresh = linkedArchive(cluster, newHolders[0] as number, f.lfn) as string;
      const others = f.paths.filter((p, i) => f.servers[i] !== server && existsSync(p)).slice(0, P42.nbData - 1);
      const linkedOthers = others.length === P42.nbData - 1 ? others : cluster.sites.map((_, i) => i).filter((i) => i !== server && i !== newHolders[0]).map((i) => linkedArchive(cluster, i, f.lfn)).filter((p): p is string => p !== undefined).slice(0, P42.nbData - 1);
      assert.ok(await decodesTo(f.lfn, f.size, [fresh, ...linkedOthers], P42), `${f.lfn} decodes through its new archive`);
    }
    assert.ok(allHealthy());
    // the drained server took no new archive
    for (const f of files) assert.ok(f.servers.includes(server) || linkedArchive(cluster, server, f.lfn) === undefined, `${f.lfn}: nothing placed on the drained server`);
  });

  it('stopping drains: the places take placements again, status says so', () => {
    for (const args of [['--server', 'srv05'], ['--disk', diskIdOf(2, 0)]]) {
      const r = cluster.cli(['drain', 'stop', ...args]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /stopped/);
    }
    const again = cluster.cli(['drain', 'stop', '--server', 'srv05']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /not being drained/);
    assert.deepEqual(admin<DrainStatusReply>(['drain', 'status']).drains, []);
    const stopped = events('drain.stopped');
    assert.deepEqual(stopped.map((e) => [e.subject.serverId, (e.data as { kind: string }).kind, (e.data as { remaining: number }).remaining]).sort(), [['srv02', 'disk', 0], ['srv05', 'server', 0]]);
  });

  it('forget: a retired server and a removed disk leave the catalog once their archives no longer count', async () => {
    const upDisk = diskIdOf(3, 0);
    const online = cluster.cli(['disk', 'forget', upDisk]);
    assert.notEqual(online.code, 0);
    assert.match(online.stderr, /DISK_PRESENT|still count/);
    const connected = cluster.cli(['server', 'forget', 'srv05']);
    assert.notEqual(connected.code, 0);
    assert.match(connected.stderr, /connected right now/);

    // the drained disk of srv02 is pulled: missing, then forgotten
    const site = cluster.sites[2];
    assert.ok(site);
    const gone = diskIdOf(2, 0);
    renameSync(site.disks[0] as string, `${site.disks[0] as string}.pulled`);
    await until('the pulled disk missing', () => admin<ListDisksReply>(['disks', '--server', 'srv02']).disks.some((d) => d.disk?.diskId === gone && String(d.disk.state) === 'missing' /* --json names states */));
    const fd = cluster.cli(['disk', 'forget', gone]);
    assert.equal(fd.code, 0, fd.stderr);
    assert.ok(!admin<ListDisksReply>(['disks', '--server', 'srv02']).disks.some((d) => d.disk?.diskId === gone), 'no longer listed');

    // the drained server is retired: stopped, declared lost, forgotten
    await cluster.killAgent(5, 'SIGTERM');
    await until('srv05 down', () => admin<ListServersReply>(['servers']).servers.some((x) => x.serverId === 'srv05' && x.state === 'down'));
    const early = cluster.cli(['server', 'forget', 'srv05']);
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /declare it lost first/);
    assert.equal(cluster.cli(['server', 'lost', 'srv05']).code, 0);
    const fs = cluster.cli(['server', 'forget', 'srv05']);
    assert.equal(fs.code, 0, fs.stderr);
    assert.match(fs.stdout, /server srv05 forgotten: 2 disk\(s\)/);
    assert.ok(!admin<ListServersReply>(['servers']).servers.some((x) => x.serverId === 'srv05'));
    await until('every file still healthy', allHealthy, 20_000);
    assert.equal(events('server.forgotten').filter((e) => e.subject.serverId === 'srv05').length, 1);
    assert.equal(events('disk.forgotten').filter((e) => e.subject.diskId === gone).length, 1);
  });
});
