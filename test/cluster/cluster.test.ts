// The cluster as it runs at a site: a coordinator and 12 agent processes over mTLS on loopback,
// each agent with its own namespace and two disks, 300+ XrdEc objects (8+2 and 4+2, 0 bytes to
// several blocks). Failures are real: directories vanish, processes are killed with -9.
import assert from 'node:assert/strict';
import { renameSync, unlinkSync, rmSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LocalCluster, type PlacedFile } from '../../cli/demo/local-cluster.js';
import type { ListDebrisReply, ListFilesReply, ListServersReply, QuarantineDebrisReply, StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { AgentSessionClient, type CoordinatorMessage } from '../../proto/gen/ecguard/v1/agent.js';
import { hasDaemonNodeFlags } from '../../shared/daemon-node-flags.js';
import { clientCredentials } from '../../shared/tls/tls-identity.js';
import { readZipDirectoryFile } from '../../shared/xrdec/archive-io.js';
import { scrubArchive } from '../../agent/scrub/archive-scrub.js';
import { getCodec } from '../../shared/codec/index.js';
import { createHash } from 'node:crypto';

const P82 = { nbData: 8, nbParity: 2, chunkSize: 4096 };
const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };

describe('cluster: coordinator + 12 agent processes over mTLS', function () {
  this.timeout(300_000);
  let cluster: LocalCluster;
  let files: PlacedFile[];

  const admin = <T>(args: string[]): T => {
    const r = cluster.cli([...args, '--json']);
    if (r.code !== 0 && r.code !== 1) throw new Error(`ecguard ${args.join(' ')} exit ${r.code}: ${r.stderr}\ncoordinator log:\n${cluster.logTail('coordinator')}`);
    const json = JSON.parse(r.stdout) as T & { error?: { message: string } };
    if (json.error) throw new Error(`ecguard ${args.join(' ')}: ${json.error.message}`);
    return json;
  };
  const until = async (what: string, ok: () => boolean, ms = 30_000): Promise<number> => {
    const t0 = Date.now();
    const check = (): boolean => {
      try {
        return ok();
      } catch {
        return false; // e.g. the coordinator is not listening yet
      }
    };
    while (!check()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}\ncoordinator log:\n${cluster.logTail('coordinator')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Date.now() - t0;
  };
  const count = (s: StatusReply, state: string): number => s.filesByState.find((x) => x.state === state)?.count ?? 0;
  const allHealthy = (): boolean => {
    const s = admin<StatusReply>(['status']);
    return !s.safeMode?.active && count(s, 'healthy') === files.length;
  };

  before(async () => {
    // Detection is watched here without repair racing it (repair has its own cluster test).
    cluster = new LocalCluster({ servers: 12, profile: P82, tls: true, heartbeat: '300ms', downAfter: '4s', extraCoordinatorArgs: ['--profile', '/data/ec42/=4+2:4096', '--no-repair-auto'], scrub: { mbps: 1000, interval: '2s' } });
    files = [];
    const sizes = [0, 1, 4095, 4096, 20_000, 32_768, 32_769, 100_000];
    for (let i = 0; i < 200; i++) files.push(cluster.placeFile(`/data/ec82/f${i}`, sizes[i % sizes.length] as number, { first: i % 12, crc32c: i % 3 === 0 }));
    for (let i = 0; i < 120; i++) files.push(cluster.placeFileWith(P42, `/data/ec42/g${i}`, sizes[i % sizes.length] as number, { first: i % 12, crc32c: i % 2 === 0 }));
    await cluster.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('all 320 files healthy once every agent has reported', async () => {
    await until('all healthy', allHealthy, 60_000);
    const servers = admin<ListServersReply>(['servers']).servers;
    assert.equal(servers.length, 12);
    assert.ok(servers.every((s) => s.connected && s.fullInventories === 1));
    // The agents run as the launcher starts them in production: with the daemons' V8 flags.
    for (let i = 0; i < 12; i++) {
      const argv = readFileSync(`/proc/${cluster.agentPid(i) as number}/cmdline`, 'utf8').split('\0');
      assert.ok(hasDaemonNodeFlags(argv), `agent ${i}: ${argv.join(' ')}`);
    }
  });

  it('a disk directory removed: exactly the files with an archive there are degraded, quickly', async () => {
    const site = cluster.sites[5];
    const disk = site?.disks[0] as string;
    const expected = files.filter((f) => f.paths.some((p) => p.startsWith(disk + '/'))).map((f) => f.lfn).sort();
    assert.ok(expected.length > 10);
    renameSync(disk, disk + '.gone');
    let got: string[] = [];
    const ms = await until('degraded list', () => {
      got = admin<ListFilesReply>(['files', '--state', 'degraded']).files.map((f) => f.lfn).sort();
      return got.length === expected.length;
    }, 10_000);
    assert.deepEqual(got, expected);
    process.stderr.write(`      (disk loss → complete degraded list in ${ms} ms)\n`);
    assert.equal(admin<ListFilesReply>(['files', '--state', 'lost,critical,unavailable']).files.length, 0);
    renameSync(disk + '.gone', disk);
    await until('healthy again', allHealthy);
  });

  it('agent killed -9: its files degraded, never lost; restarted: journal replay, no full inventory', async () => {
    await cluster.killAgent(7, 'SIGKILL');
    await until('srv07 down', () => admin<ListServersReply>(['servers']).servers.find((s) => s.serverId === 'srv07')?.state === 'down');
    const s = admin<StatusReply>(['status']);
    assert.equal(count(s, 'lost'), 0);
    assert.ok(count(s, 'degraded') > 0);
    cluster.startAgent(7);
    await until('healthy after restart', allHealthy);
    const srv7 = admin<ListServersReply>(['servers']).servers.find((x) => x.serverId === 'srv07');
    assert.equal(srv7?.fullInventories, 1, 'no second full inventory');
    assert.equal(srv7?.replays, 1, 'the restart replayed the journal');
  });

  it('coordinator killed and restarted: safe mode until every agent reported; never a wrong lost or degraded', async () => {
    await cluster.killCoordinator('SIGKILL');
    cluster.startCoordinator();
    let sawSafeMode = false;
    const wrong: string[] = [];
    await until('safe mode over and all healthy', () => {
      let s: StatusReply;
      try {
        s = admin<StatusReply>(['status']);
      } catch {
        return false; // not listening yet
      }
      if (s.safeMode?.active) sawSafeMode = true;
      else for (const st of ['degraded', 'critical', 'lost', 'unavailable', 'incomplete']) if (count(s, st) > 0) wrong.push(`${count(s, st)} ${st}`);
      const page = admin<ListFilesReply>(['files', '--state', 'lost,degraded,critical']);
      if (!page.pendingEvidence && page.files.length > 0) wrong.push(`listed ${page.files[0]?.lfn} ${page.files[0]?.state}`);
      return !s.safeMode?.active && count(s, 'healthy') === files.length;
    }, 60_000);
    assert.ok(sawSafeMode, 'safe mode was shown after the restart');
    assert.deepEqual(wrong, []);
  });

  it('a file deleted while an agent is away: its leftover is debris (tombstone); with the catalog wiped, an orphan', async () => {
    const victim = files.find((f) => f.lfn.startsWith('/data/ec82/') && f.size > 0 && f.servers.includes(3)) as PlacedFile;
    const away = victim.servers.indexOf(3);
    await cluster.killAgent(3, 'SIGTERM');
    await until('srv03 down', () => admin<ListServersReply>(['servers']).servers.find((s) => s.serverId === 'srv03')?.state === 'down');
    victim.paths.forEach((p, i) => {
      if (i !== away) {
        unlinkSync(p);
        const link = join(cluster.sites[victim.servers[i] as number]?.localroot ?? '', victim.lfn);
        if (existsSync(link)) unlinkSync(link);
      }
    });
    await until('deleted file gone', () => admin<ListFilesReply>(['files', '--prefix', victim.lfn]).files.every((f) => f.lfn !== victim.lfn));
    cluster.startAgent(3);
    await until('leftover debris', () => admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === victim.lfn && a.role === 'debris' && a.serverId === 'srv03'));
    // wipe the catalog: the tombstone is gone with it
    await cluster.killCoordinator('SIGKILL');
    for (const f of ['catalog.db', 'catalog.db-wal', 'catalog.db-shm']) rmSync(join(cluster.root, f), { force: true });
    cluster.startCoordinator();
    await until('leftover orphan', () => {
      try {
        return admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === victim.lfn && a.role === 'orphan');
      } catch {
        return false;
      }
    }, 60_000);
    const roles = admin<ListDebrisReply>(['debris']).archives.filter((a) => a.lfn === victim.lfn).map((a) => a.role);
    assert.ok(!roles.includes('debris'), 'without a tombstone it is never called debris');
  });

  it('namespace lost on a server: rebuild confirmed by the coordinator restores live files, never a deleted one', async () => {
    const site = cluster.sites[3];
    assert.ok(site);
    const victim = files.find((f) => f.lfn.startsWith('/data/ec82/') && f.size > 0 && f.servers.includes(3)) as PlacedFile;
    const mine = files.filter((f) => f.servers.includes(3) && f.lfn !== victim.lfn).map((f) => f.lfn);
    // the previous test restarted the coordinator: confirmation needs safe mode to be over
    await until('safe mode over', () => !admin<StatusReply>(['status']).safeMode?.active, 60_000);
    for (const d of ['ec82', 'ec42']) rmSync(join(site.localroot, 'data', d), { recursive: true, force: true });
    const r = cluster.cli(['namespace', 'rebuild', '--xrootd-config', site.xrootdConfig, '--server-id', 'srv03', '--apply', '--json']);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(0, 2000)}`);
    const out = JSON.parse(r.stdout) as { created: number; skipped: { lfn?: string; reason: string }[] };
    assert.equal(out.created, mine.length, 'every live file of srv03 is linked again');
    const skipped = out.skipped.find((x) => x.lfn === victim.lfn);
    assert.match(skipped?.reason ?? '', /not confirmed by the coordinator/, 'the deleted file does not come back');
    for (const l of mine) assert.ok(existsSync(join(site.localroot, l)), `${l} linked`);
    assert.equal(existsSync(join(site.localroot, victim.lfn)), false);
  });

  it('debris quarantine: refused while a server is away; moves the leftover and its symlink aside, never an orphan; restore puts it back', async () => {
    await until('safe mode over', () => !admin<StatusReply>(['status']).safeMode?.active, 60_000);
    // the orphan of the test before (catalog wiped): nothing explains it, so it must stay
    const orphan = admin<ListDebrisReply>(['debris']).archives.find((a) => a.role === 'orphan');
    const victim = files.find((f) => f.lfn.startsWith('/data/ec42/') && f.size > 0 && f.servers.includes(5)) as PlacedFile;
    const away = victim.servers.indexOf(5);
    const leftover = victim.paths[away] as string;
    const link = join(cluster.sites[5]?.localroot ?? '', victim.lfn);
    // `files` without --state lists every state (it once listed nothing: this wait was vacuous)
    assert.deepEqual(admin<ListFilesReply>(['files', '--prefix', victim.lfn]).files.filter((f) => f.lfn === victim.lfn).map((f) => f.state), ['healthy']);
    assert.equal(admin<ListFilesReply>(['files']).files.length, files.length);
    // deleted right after srv05 died, before liveness marks it down: the coordinator must still
    // see a deletion (not a lost file), and the leftover must become debris
    await cluster.killAgent(5, 'SIGTERM');
    victim.paths.forEach((p, i) => {
      if (i === away) return;
      unlinkSync(p);
      const l = join(cluster.sites[victim.servers[i] as number]?.localroot ?? '', victim.lfn);
      if (existsSync(l)) unlinkSync(l);
    });
    let sawLost = false;
    await until('deleted file gone', () => {
      const f = admin<ListFilesReply>(['files', '--prefix', victim.lfn]).files.find((x) => x.lfn === victim.lfn);
      if (f?.state === 'lost' || f?.state === 'unavailable') sawLost = true;
      return f === undefined;
    });
    assert.equal(sawLost, false, 'never shown lost or unavailable while it was being deleted');
    const refused = cluster.cli(['debris', 'quarantine', '--json']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stdout, /EVIDENCE_INCOMPLETE[\s\S]*srv05/);
    cluster.startAgent(5);
    await until('leftover debris', () => admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === victim.lfn && a.role === 'debris'), 60_000);
    await until('srv05 inventoried', () => !admin<StatusReply>(['status']).safeMode?.active && admin<ListServersReply>(['servers']).servers.every((s) => s.state === 'up' && s.connected));

    const dry = admin<QuarantineDebrisReply>(['debris', 'quarantine', '--dry-run']);
    assert.deepEqual(dry.actions.filter((a) => a.lfn === victim.lfn).map((a) => [a.outcome, a.serverId]), [['planned', 'srv05']]);
    assert.ok(existsSync(leftover), 'a dry run moves nothing');
    const ino = statSync(leftover).ino;

    const r = admin<QuarantineDebrisReply>(['debris', 'quarantine']);
    const mine = r.actions.find((a) => a.lfn === victim.lfn);
    assert.equal(mine?.outcome, 'quarantined', JSON.stringify(r.actions));
    assert.equal(existsSync(leftover), false);
    assert.equal(statSync(mine?.quarantinePath ?? '').ino, ino, 'the same file, moved aside');
    assert.equal(lstatSync(link, { throwIfNoEntry: false }), undefined, 'its namespace symlink went with it');
    if (orphan) {
      assert.ok(!r.actions.some((a) => a.lfn === orphan.lfn && a.outcome === 'quarantined'), 'an orphan is never moved');
      assert.ok(existsSync(join(orphan.diskId.slice(orphan.diskId.indexOf(':') + 1), orphan.dataPath)), 'the orphan is where it was');
    }
    await until('the catalog saw it go', () => !admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === victim.lfn));
    const events = admin<{ events: { subject: { lfn?: string }; data: { quarantinePath: string; linkRemoved?: string } }[] }>(['events', '--type', 'debris.quarantined']).events;
    const ev = events.find((e) => e.subject.lfn === victim.lfn);
    assert.equal(ev?.data.quarantinePath, mine?.quarantinePath);
    assert.equal(ev?.data.linkRemoved, link);

    const site = cluster.sites[5];
    const back = cluster.cli(['debris', 'restore', '--all', '--xrootd-config', site?.xrootdConfig ?? '', '--server-id', 'srv05', '--json'], false);
    assert.equal(back.code, 0, back.stderr + back.stdout);
    assert.equal(statSync(leftover).ino, ino, 'restored in place');
    assert.equal(readlinkSync(link), leftover, 'and its symlink');
    await until('debris again once restored', () => admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === victim.lfn && a.role === 'debris'));
  });

  it('a bit flipped in an archive: the holder\'s scrub reports corruption.found with the stripe, downgrades the disk, the file is degraded and rebuilt on that server\'s other disk; the damaged archive then is debris, quarantined; the operator clears the downgrade', async () => {
    const site = cluster.sites[7];
    const diskPath = site?.disks[1] as string;
    const victim = files.find((f) => f.size >= 20_000 && f.paths.some((p) => p.startsWith(diskPath + '/'))) as PlacedFile;
    assert.ok(victim, 'a file with an archive on srv07\'s second disk');
    const path = victim.paths.find((p) => p.startsWith(diskPath + '/')) as string;
    const entry = (await readZipDirectoryFile(path)).entries[0];
    assert.ok(entry && entry.size > 2);
    const bytes = readFileSync(path);
    const dataAt = entry.lfhOffset + 30 + bytes.readUInt16LE(entry.lfhOffset + 26) + bytes.readUInt16LE(entry.lfhOffset + 28);
    bytes[dataAt + 1] = (bytes[dataAt + 1] as number) ^ 0x01;
    writeFileSync(path, bytes);
    const disksNow = (): { disk?: { diskId: string; state: string } }[] => admin<{ disks: { disk?: { diskId: string; state: string } }[] }>(['disks']).disks;
    type Ev = { subject: { lfn?: string; serverId?: string; diskId?: string }; data: { detectedBy: string; dataPath: string; entries: { block: number; stripe: number; expectedCrc?: string }[] } };
    let ev: Ev | undefined;
    await until('corruption.found from the scrub', () => {
      ev = admin<{ events: Ev[] }>(['events', '--type', 'corruption.found']).events.find((e) => e.subject.lfn === victim.lfn);
      return ev !== undefined;
    });
    assert.equal(ev?.subject.serverId, 'srv07');
    assert.equal(ev?.data.detectedBy, 'scrub');
    assert.equal(`${diskPath}/${ev?.data.dataPath ?? ''}`, path);
    assert.deepEqual(ev?.data.entries.map((e) => [e.block, e.stripe]), [[entry.stripe?.block, entry.stripe?.stripe]]);
    assert.equal(ev?.data.entries[0]?.expectedCrc, (entry.crc >>> 0).toString(16).padStart(8, '0'));
    await until('the disk downgraded', () => disksNow().find((d) => d.disk?.diskId === ev?.subject.diskId)?.disk?.state === 'downgraded');
    assert.match(cluster.cli(['disks']).stdout, /1 disk\(s\) downgraded by the scrub: .*ecguard disk accept PATH --config agent\.yaml --clear-downgrade/, 'the table says how to clear it');
    type Down = { subject: { diskId?: string }; data: { corruptStripes: number; by: string } };
    let downgraded: Down | undefined;
    await until('the disk.downgraded event', () => {
      downgraded = admin<{ events: Down[] }>(['events', '--type', 'disk.downgraded']).events.find((e) => e.subject.diskId === ev?.subject.diskId);
      return downgraded !== undefined;
    });
    assert.equal(downgraded?.data.by, 'corruption');
    assert.ok((downgraded?.data.corruptStripes ?? 0) >= 1);
    // Only that disk: srv07's other disk and every other server's stay online.
    assert.deepEqual(disksNow().filter((d) => d.disk?.state !== 'online').map((d) => d.disk?.diskId), [ev?.subject.diskId]);
    // The archive no longer counts: the file is degraded, and its rebuild is planned.
    await until('the file degraded', () => admin<ListFilesReply>(['files', '--state', 'degraded']).files.some((f) => f.lfn === victim.lfn));
    const plan = admin<{ plans: { lfn: string; decision: string; reason: string; sources: string[]; targets: string[] }[] }>(['repair', 'run', '--file', victim.lfn, '--dry-run']).plans.find((p) => p.lfn === victim.lfn);
    assert.equal(plan?.decision, 'planned');
    assert.equal(plan?.targets.length, 1);
    assert.ok(!plan?.sources.some((x) => x.includes(path.slice(diskPath.length + 1))), `the damaged archive is no source: ${plan?.sources.join(', ')}`);
    // as for a failed disk: srv07's other disk, where readers look for that archive (its link is replaced)
    assert.deepEqual(plan?.targets, [`srv07:${site?.disks[0] ?? ''} (slot 0)`]);
    assert.match(plan?.reason ?? '', /unreadable \(scrub: 1 corrupt or unreadable stripe entry/);

    // Repaired: a new archive on srv07's other disk, the file's link moved to it, its entries those
    // of the damaged one and every CRC right; the damaged archive itself is left as it is.
    const link = readlinkSync(`${site?.localroot ?? ''}${victim.lfn}`);
    assert.equal(link, path, 'premise: srv07 links the damaged archive');
    const damaged = createHash('sha256').update(readFileSync(path)).digest('hex');
    admin(['repair', 'run', '--file', victim.lfn]);
    await until('the file healthy again', () => admin<ListFilesReply>(['files', '--prefix', victim.lfn]).files.find((f) => f.lfn === victim.lfn)?.state === 'healthy', 60_000);
    const rebuilt = readlinkSync(`${site?.localroot ?? ''}${victim.lfn}`);
    assert.ok(rebuilt.startsWith(`${site?.disks[0] ?? ''}/`), `the link now points at ${rebuilt}`);
    const r = await scrubArchive(rebuilt, getCodec());
    assert.deepEqual(r.problems, []);
    const names = (p: string): Promise<string[]> => readZipDirectoryFile(p).then((d) => d.entries.map((e) => `${e.name}:${e.size}:${e.crc >>> 0}`));
    assert.deepEqual(await names(rebuilt), await names(path));
    assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), damaged, 'the damaged archive is not touched');

    // The file whole without it, the damaged archive is debris: listed, then moved aside (not
    // deleted) by the quarantine, though its disk is downgraded.
    type Row = { lfn: string; serverId: string; role: string; reason: string; dataPath: string };
    await until('the damaged archive listed as debris', () => admin<{ archives: Row[] }>(['debris']).archives.some((a) => a.lfn === victim.lfn && a.serverId === 'srv07' && a.role === 'debris'));
    const row = admin<{ archives: Row[] }>(['debris']).archives.find((a) => a.lfn === victim.lfn && a.role === 'debris');
    assert.match(row?.reason ?? '', /damaged \(scrub: 1 corrupt.*not needed/);
    assert.equal(`${diskPath}/${row?.dataPath ?? ''}`, path);
    const q = admin<QuarantineDebrisReply>(['debris', 'quarantine', '--server', 'srv07', '--prefix', victim.lfn]);
    const moved = q.actions.find((a) => a.lfn === victim.lfn);
    assert.equal(moved?.outcome, 'quarantined', JSON.stringify(q.actions));
    assert.ok(!existsSync(path), 'gone from its bucket');
    assert.equal(createHash('sha256').update(readFileSync(moved?.quarantinePath ?? '')).digest('hex'), damaged, 'kept whole in the quarantine');
    assert.equal(readlinkSync(`${site?.localroot ?? ''}${victim.lfn}`), rebuilt, 'the link to the rebuilt archive stays');
    assert.equal(admin<ListFilesReply>(['files', '--prefix', victim.lfn]).files.find((f) => f.lfn === victim.lfn)?.state, 'healthy');

    // The operator has looked at the disk: its downgrade is cleared and it takes placements again.
    const acc = cluster.cli(['disk', 'accept', diskPath, '--config', join(site?.root ?? '', 'agent.yaml'), '--clear-downgrade', '--json'], false);
    assert.equal(acc.code, 0, acc.stderr);
    assert.equal((JSON.parse(acc.stdout) as { downgradeCleared: boolean }).downgradeCleared, true);
    await until('the disk online again', () => disksNow().find((d) => d.disk?.diskId === ev?.subject.diskId)?.disk?.state === 'online');

    // An operator downgrades it by hand (the event says so), and clears that too.
    const agentYaml = join(site?.root ?? '', 'agent.yaml');
    const dg = cluster.cli(['disk', 'downgrade', diskPath, '--config', agentYaml, '--reason', 'SMART: 12 pending sectors', '--json'], false);
    assert.equal(dg.code, 0, dg.stderr);
    await until('disk.downgraded by the operator', () => admin<{ events: { subject: { diskId?: string }; data: { by: string } }[] }>(['events', '--type', 'disk.downgraded']).events
      .some((e) => e.subject.diskId === ev?.subject.diskId && e.data.by === 'operator'));
    await until('downgraded by the operator', () => disksNow().find((d) => d.disk?.diskId === ev?.subject.diskId)?.disk?.state === 'downgraded');
    assert.equal(cluster.cli(['disk', 'accept', diskPath, '--config', agentYaml, '--clear-downgrade'], false).code, 0);
    await until('online once more', () => disksNow().find((d) => d.disk?.diskId === ev?.subject.diskId)?.disk?.state === 'online');
  });

  it('an agent presenting another server\'s certificate is refused', async () => {
    const dir = cluster.certDir;
    const creds = clientCredentials({ ca: join(dir, 'ca.pem'), cert: join(dir, 'agent-srv01.pem'), key: join(dir, 'agent-srv01.key') });
    const client = new AgentSessionClient(`localhost:${cluster.port}`, creds);
    const reason = await new Promise<string>((resolve) => {
      const s = client.connect();
      s.on('data', (m: CoordinatorMessage) => {
        if (m.msg?.$case === 'refusal') resolve(`${m.msg.value.code}: ${m.msg.value.reason}`);
      });
      s.on('error', (e: grpc.ServiceError) => resolve(`error ${e.details}`));
      s.write({ msg: { $case: 'hello', value: { serverId: 'srv00', instanceId: 'evil', ackedSeq: 0, lastSeq: 0, journalGap: false, disks: [], agentVersion: 'x', stripesAddress: '', runningTasks: [], digestResync: false } } });
    });
    client.close();
    assert.match(reason, /^IDENTITY: agent claims server srv00 but its certificate names server srv01/);
    assert.equal(admin<ListServersReply>(['servers']).servers.find((s) => s.serverId === 'srv00')?.connected, true);
  });
});
