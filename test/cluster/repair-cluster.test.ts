// Repair on a real cluster: a coordinator and 12 agent processes over mTLS, 624 XrdEc objects
// (8+2 and 4+2; 0 bytes to several blocks with partial last blocks; both CRC kinds; both xattr
// namespaces). Disks vanish, agents and the coordinator are killed with -9 at every repair phase;
// every rebuilt archive is checked on disk and decoded.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileBytes, LocalCluster, type PlacedFile } from '../../cli/demo/local-cluster.js';
import type { RepairStatusReply, RepairTaskInfo, StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { establishedConnections, listeningPorts } from '../helpers/tcp-connections.js';
import { checkRebuiltArchive, decodesTo, doubledSlots, fingerprints, linkedArchive, tempFiles } from './repair-checks.js';
import { corruptionScenario, killScenario, type RepairWorld } from './repair-scenarios.js';

const P82 = { nbData: 8, nbParity: 2, chunkSize: 4096 };
const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const SIZES = [0, 1, 4095, 4096, 20_000, 32_768, 32_769, 100_000, 150_001];

describe('repair cluster: 12 agents over mTLS, 624 objects (24 with .mt files), stripe rebuild', function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  const files: PlacedFile[] = [];
  let w: RepairWorld;

  before(async () => {
    cluster = new LocalCluster({
      servers: 12, profile: P82, tls: true, heartbeat: '300ms', downAfter: '4s', settle: '5s',
      extraCoordinatorArgs: ['--profile', '/data/ec42/=4+2:4096', '--server-lost-after', '1h', '--server-critical-after', '8s', '--repair-lease', '15s', '--repair-backoff', '300ms', '--repair-tasks-per-agent', '2'],
    });
    for (let i = 0; i < 360; i++) files.push(cluster.placeFile(`/data/ec82/f${i}`, SIZES[i % SIZES.length] as number, { first: i % 12, crc32c: i % 3 === 0, userNamespace: i % 4 === 1 }));
    // Objects with .mt files: each archive must be rebuilt on its own server, so they stay off
    // srv08 and srv09 (the servers the kill scenario declares lost).
    for (let i = 0; i < 24; i++) files.push(cluster.placeFile(`/data/ec82/mt${i}`, SIZES[i % SIZES.length] as number, { first: 10, crc32c: i % 2 === 0, userNamespace: i % 4 === 1, mtFile: true }));
    for (let i = 0; i < 240; i++) files.push(cluster.placeFileWith(P42, `/data/ec42/g${i}`, SIZES[i % SIZES.length] as number, { first: (i * 5) % 12, crc32c: i % 2 === 0, userNamespace: i % 4 === 2 }));
    await cluster.start();
    const admin = <T>(args: string[]): T => {
      const r = cluster.cli([...args, '--json']);
      if (r.code !== 0 && r.code !== 1) throw new Error(`ecguard ${args.join(' ')} exit ${r.code}: ${r.stderr}\ncoordinator log:\n${cluster.logTail('coordinator')}`);
      return JSON.parse(r.stdout) as T;
    };
    // What a timeout leaves behind (a flake in CI is diagnosed from this, not re-run blind).
    const openWork = (): string => {
      try {
        const st = admin<StatusReply>(['status']);
        const tasks = admin<RepairStatusReply>(['repair', 'status', '--all', '--limit', '10000']).tasks.filter((t) => t.state !== 'done' && t.state !== 'cancelled');
        const lines = tasks.slice(0, 20).map((t) => `  ${t.taskId} ${t.lfn} ${t.state} exec=${t.executor} attempt=${t.attempt} phase=${t.phase} ${t.blocksDone}/${t.blocksTotal} updated=${Date.now() - t.updatedMs}ms ago next=${t.nextAttemptMs ? t.nextAttemptMs - Date.now() : 0}ms error=${t.error} held=${t.held}`);
        return `safe mode: ${JSON.stringify(st.safeMode)}; files: ${st.filesByState.map((x) => `${x.state}=${x.count}`).join(' ')}; ${tasks.length} open task(s):\n${lines.join('\n')}`;
      } catch (err) {
        return `(state unavailable: ${String(err).slice(0, 200)})`;
      }
    };
    const until = async (what: string, ok: () => boolean, ms = 120_000): Promise<number> => {
      const t0 = Date.now();
      const check = (): boolean => {
        try {
          return ok();
        } catch {
          return false;
        }
      };
      while (!check()) {
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}\n${openWork()}\ncoordinator log:\n${cluster.logTail('coordinator', 40)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      return Date.now() - t0;
    };
    const removed: string[] = [];
    w = {
      cluster, files, admin, until,
      tasks: () => admin<RepairStatusReply>(['repair', 'status', '--all', '--limit', '10000']).tasks,
      allHealthy: () => {
        const s = admin<StatusReply>(['status']);
        return !s.safeMode?.active && (s.filesByState.find((x) => x.state === 'healthy')?.count ?? 0) === files.length;
      },
      profileOf: (f) => (f.lfn.startsWith('/data/ec42/') ? P42 : P82),
      onDisk: (server, disk) => files.filter((f) => f.servers.some((s, i) => s === server && f.disks[i] === disk)),
      removeDisk: (server, disk) => {
        const d = cluster.sites[server]?.disks[disk] as string;
        renameSync(d, `${d}.gone`);
        removed.push(d);
      },
    };
    await until('every file healthy', () => w.allHealthy());
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a disk removed: every affected file repaired on its server\'s other disk, ≤ 2 tasks per agent, one connection per agent pair; rebuilt archives decode', async () => {
    const affected = w.onDisk(3, 0);
    assert.ok(affected.length >= 180, `${affected.length} files on srv03's first disk`);
    w.admin(['repair', 'pause']);
    w.removeDisk(3, 0);
    await w.until(`${affected.length} tasks queued`, () => w.tasks().filter((t) => t.state === 'queued').length === affected.length);
    w.admin(['repair', 'resume']);
    const pids = cluster.sites.map((_, i) => cluster.agentPid(i) as number);
    const ports = new Map(pids.map((pid, i) => [i, listeningPorts(pid)]));
    let maxPerAgent = 0;
    let maxPair = 0;
    let samples = 0;
    await w.until('all healthy again', () => {
      const running = w.tasks().filter((t) => t.state === 'assigned' || t.state === 'running');
      const per = new Map<string, number>();
      for (const t of running) per.set(t.executor, (per.get(t.executor) ?? 0) + 1);
      maxPerAgent = Math.max(maxPerAgent, ...per.values(), 0);
      // Connections from agent a to agent b's Stripes port.
      const pairs = new Map<string, number>();
      for (const c of establishedConnections(pids)) {
        const from = pids.indexOf(c.pid);
        for (const [to, list] of ports) if (to !== from && list.includes(c.remotePort)) pairs.set(`${from}>${to}`, (pairs.get(`${from}>${to}`) ?? 0) + 1);
      }
      maxPair = Math.max(maxPair, ...pairs.values(), 0);
      samples++;
      return w.allHealthy();
    });
    assert.ok(samples >= 3, `${samples} samples`);
    assert.ok(maxPerAgent <= 2, `${maxPerAgent} tasks ran at once on one agent`);
    assert.equal(maxPair, 1, 'exactly one TCP connection from the executor to each peer it read from');
    const done = w.tasks().filter((t) => t.state === 'done' && affected.some((f) => f.lfn === t.lfn));
    assert.deepEqual(done.map((t) => t.lfn).sort(), affected.map((f) => f.lfn).sort(), 'one task per affected file');
    let mtChecked = 0;
    let mtRestored = 0;
    for (const f of affected) {
      const rebuilt = linkedArchive(cluster, 3, f.lfn) as string;
      assert.ok(rebuilt?.startsWith(cluster.sites[3]?.disks[1] as string), `${f.lfn}: rebuilt on srv03's other disk (${rebuilt})`);
      const survivors = f.servers.map((s) => linkedArchive(cluster, s, f.lfn)).filter((p): p is string => p !== undefined && p !== rebuilt);
      const p = w.profileOf(f);
      checkRebuiltArchive(rebuilt, survivors[0] as string, `${cluster.sites[3]?.localroot}${f.lfn}`, p, f.crcKind);
      if (f.mtPaths) {
        // .mt objects: the lost archive back byte for byte (the .mt members stay true).
        const lost = f.paths[f.servers.indexOf(3)] as string;
        const disk0 = cluster.sites[3]?.disks[0] as string;
        assert.ok(readFileSync(rebuilt).equals(readFileSync(`${disk0}.gone${lost.slice(disk0.length)}`)), `${f.lfn}: the rebuilt archive equals the lost one`);
        // srv03 holds a live .mt copy again (restored when it sat on the removed disk).
        assert.ok(readFileSync(realpathSync(`${cluster.sites[3]?.localroot ?? ''}${f.lfn}.mt`)).equals(readFileSync(f.mtPaths[0] as string)), `${f.lfn}: srv03's .mt copy`);
        mtChecked++;
        if ((f.mtPaths[f.servers.indexOf(3)] as string).startsWith(`${disk0}/`)) mtRestored++;
      }
      assert.ok(await decodesTo(f.lfn, f.size, [rebuilt, ...survivors.slice(0, p.nbData - 1)], p), `${f.lfn} decodes from its rebuilt archive + ${p.nbData - 1} survivors`);
    }
    assert.ok(mtChecked >= 4, `${mtChecked} objects with .mt files among the repaired ones`);
    assert.ok(mtRestored >= 1, `${mtRestored} of them had srv03's .mt copy on the removed disk`);
    // The CLI too, for a few (every size class of both profiles).
    for (const f of affected.filter((_, i) => i % 25 === 0)) {
      const p = w.profileOf(f);
      const rebuilt = linkedArchive(cluster, 3, f.lfn) as string;
      const others = f.servers.map((s) => linkedArchive(cluster, s, f.lfn)).filter((x): x is string => x !== undefined && x !== rebuilt);
      const out = join(cluster.root, `dec-${f.lfn.replace(/\//g, '_')}`);
      const r = cluster.cli(['decode', '--nbdata', String(p.nbData), '--nbparity', String(p.nbParity), '--chunksize', String(p.chunkSize), '--out', out, rebuilt, ...others.slice(0, p.nbData - 1)], false);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), createHash('sha256').update(fileBytes(f.lfn, f.size)).digest('hex'), `ecguard decode of ${f.lfn}`);
    }
    assert.deepEqual(tempFiles(cluster), []);
    assert.deepEqual(doubledSlots(cluster), []);
  });

  it('two disks on two servers lost for the same files: one task rebuilds both archives; critical files start before degraded ones', async () => {
    const a = w.onDisk(5, 0);
    const b = w.onDisk(6, 1);
    const both = a.filter((f) => b.includes(f));
    const one = [...a, ...b].filter((f) => !both.includes(f));
    assert.ok(both.length >= 20, `${both.length} files lose two archives`);
    const before = new Set(w.tasks().map((t) => t.taskId));
    w.admin(['repair', 'pause']);
    w.removeDisk(5, 0);
    w.removeDisk(6, 1);
    const fresh = (): RepairTaskInfo[] => w.tasks().filter((t) => !before.has(t.taskId));
    await w.until('every task queued', () => fresh().filter((t) => t.state === 'queued').length === both.length + one.length);
    const queued = fresh();
    for (const f of both) {
      const mine = queued.filter((t) => t.lfn === f.lfn);
      assert.equal(mine.length, 1, `${f.lfn}: one task`);
      assert.equal(mine[0]?.targets.length, 2, `${f.lfn}: both archives in that task`);
      assert.equal(mine[0]?.redundancy, 0);
    }
    w.admin(['repair', 'throttle', '--cluster-tasks', '2']);
    w.admin(['repair', 'resume']);
    await w.until('all healthy again', () => w.allHealthy());
    w.admin(['repair', 'throttle', '--cluster-tasks', '64']);
    const started = fresh().filter((t) => t.state === 'done');
    assert.equal(started.length, both.length + one.length);
    const lastCritical = Math.max(...started.filter((t) => t.redundancy === 0).map((t) => t.startedMs));
    const firstDegraded = Math.min(...started.filter((t) => t.redundancy > 0).map((t) => t.startedMs));
    assert.ok(lastCritical <= firstDegraded, `critical tasks all started (last at ${lastCritical}) before any degraded one (first at ${firstDegraded})`);
    for (const f of both.slice(0, 30)) {
      const rebuilt = [linkedArchive(cluster, 5, f.lfn), linkedArchive(cluster, 6, f.lfn)] as string[];
      const p = w.profileOf(f);
      const others = f.servers.filter((s) => s !== 5 && s !== 6).map((s) => linkedArchive(cluster, s, f.lfn) as string);
      assert.ok(await decodesTo(f.lfn, f.size, [...rebuilt, ...others.slice(0, p.nbData - 2)], p), `${f.lfn} decodes with both rebuilt archives`);
    }
    assert.deepEqual(doubledSlots(cluster), []);
  });

  it('agents killed: nothing planned in the grace, critical files after server.criticalAfter, `server lost` plans at once', async () => {
    await killScenario(w);
  });

  it('kill -9 of the executing agent at every phase and of the coordinator mid-task: all healthy, no temp file, no slot twice, survivors untouched', async () => {
    const phases: [string, number][] = [['repair-fetching', 10], ['repair-decoding', 11], ['repair-writing-temp', 0], ['repair-after-rename', 1]];
    for (const [phase, server] of phases) {
      await cluster.killAgent(server, 'SIGTERM');
      cluster.startAgent(server, { ECGUARD_FAULT_KILL_AT: phase });
      await w.until(`srv${server} back`, () => w.allHealthy());
      const prints = fingerprints(cluster);
      const disk = cluster.sites[server]?.disks[0] as string;
      const exited = cluster.agentExit(server);
      w.removeDisk(server, 0);
      await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error(`srv${server} did not die at ${phase}\n${cluster.logTail(`srv${String(server).padStart(2, '0')}`)}`)), 60_000))]);
      cluster.startAgent(server);
      await w.until(`all healthy after the kill at ${phase}`, () => w.allHealthy());
      assert.deepEqual(tempFiles(cluster), [], `no temp file after ${phase}`);
      assert.deepEqual(doubledSlots(cluster), [], `no slot written twice after ${phase}`);
      const now = fingerprints(cluster);
      for (const [p, print] of prints) if (!p.startsWith(disk + '/')) assert.equal(now.get(p), print, `survivor ${p} untouched (${phase})`);
    }
    // The coordinator, mid-task: slow the executors down so tasks are running when it dies.
    const prints = fingerprints(cluster);
    w.admin(['repair', 'throttle', '--mbps', '0.3']);
    w.removeDisk(7, 0);
    await w.until('a task running', () => w.tasks().some((t) => t.state === 'running'));
    await cluster.killCoordinator('SIGKILL');
    cluster.startCoordinator();
    await w.until('coordinator back', () => w.admin<StatusReply>(['status']).servers.length === 12);
    w.admin(['repair', 'throttle', '--mbps', '100']);
    await w.until('all healthy after the coordinator restart', () => w.allHealthy());
    assert.deepEqual(tempFiles(cluster), []);
    assert.deepEqual(doubledSlots(cluster), []);
    const now = fingerprints(cluster);
    for (const [p, print] of prints) if (!p.startsWith(`${cluster.sites[7]?.disks[0]}/`)) assert.equal(now.get(p), print, `survivor ${p} untouched`);
  });

  it('a corrupt source entry is found by its CRC and another source used; with fewer than N good stripes the task fails with that reason and writes nothing', async () => {
    await corruptionScenario(w);
  });
});
