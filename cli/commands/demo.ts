// `ecguard demo`: a local cluster on the embedded default — a coordinator with its SQLite
// catalog and six agents on temp "disks", over mTLS on loopback — then a disk failure, its
// detection, its stripe-level repair (checked with ecguard decode), an agent crash and its
// recovery, debris left by a delete while an agent was down and its quarantine, a flipped bit
// found by the scrub and repaired, and the data-safety events on NATS JetStream.
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ListDebrisReply, ListFilesReply, ListServersReply, QuarantineDebrisReply, RepairStatusReply, StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { fileBytes, LocalCluster, type PlacedFile } from '../demo/local-cluster.js';
import { printJson } from '../output.js';

const PROFILE = { nbData: 4, nbParity: 2, chunkSize: 65536 };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a local cluster (coordinator + 6 agents), fail a disk and an agent, watch ecguard detect, repair and recover')
    .option('--keep', 'keep the cluster directory')
    .option('--json', 'machine-readable summary at the end')
    .action(async (f: { keep?: boolean; json?: boolean }) => {
      const say = (s: string): void => {
        if (!f.json) process.stdout.write(s + '\n');
      };
      const cluster = new LocalCluster({ servers: 6, profile: PROFILE, tls: true, heartbeat: '500ms', downAfter: '3s', keep: f.keep === true, nats: true, scrub: { mbps: 200, interval: '2s' } });
      const summary: Record<string, unknown> = { root: cluster.root };
      const admin = <T>(args: string[]): T => {
        const r = cluster.cli([...args, '--json']);
        if (r.code !== 0 && r.code !== 1) throw new Error(`ecguard ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
        return JSON.parse(r.stdout) as T;
      };
      const waitFor = async (what: string, ok: () => boolean, ms = 30_000): Promise<void> => {
        const end = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > end) throw new Error(`demo: timed out waiting for ${what}; logs in ${join(cluster.root, 'logs')}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      const count = (s: StatusReply, state: string): number => s.filesByState.find((x) => x.state === state)?.count ?? 0;
      try {
        say(`1. Local cluster in ${cluster.root}: 6 data servers × 2 disks, EC 4+2 (64 KiB chunks), mTLS certificates from deploy/make-certs.sh, nats-server -js for events`);
        const files = Array.from({ length: 30 }, (_, i) => cluster.placeFile(`/data/run1/file${i}.root`, [0, 1000, 300_000, 1_000_000, 2_500_000][i % 5] as number, { crc32c: i % 2 === 0 }));
        await cluster.start();
        say(`   coordinator on localhost:${cluster.port} (catalog: SQLite), 6 agents scanning their disks`);
        let status: StatusReply = admin(['status']);
        await waitFor('every agent to report', () => {
          status = admin(['status']);
          return !status.safeMode?.active && count(status, 'healthy') === files.length;
        });
        say(`2. All ${files.length} files healthy; safe mode ended once every agent had reported (ecguard status)`);
        admin(['repair', 'pause']);
        say('   ecguard repair pause: repairs are planned but not started, so the failure can be watched');
        const victim = cluster.sites[2];
        const disk = victim?.disks[1] as string;
        const hit = files.filter((x) => x.paths.some((p) => p.startsWith(disk + '/')));
        const expected = hit.map((x) => x.lfn).sort();
        renameSync(disk, disk + '.failed');
        const t0 = Date.now();
        say(`3. Disk failure: ${victim?.serverId}:${disk} disappears (${expected.length} files had an archive there)`);
        let degraded: ListFilesReply = admin(['files', '--state', 'degraded']);
        await waitFor('the degraded files', () => {
          degraded = admin(['files', '--state', 'degraded']);
          return degraded.files.length === expected.length;
        });
        const got = degraded.files.map((x) => x.lfn).sort();
        say(`   detected in ${((Date.now() - t0) / 1000).toFixed(1)} s: ecguard files --state degraded lists ${got.length} files, ${JSON.stringify(got) === JSON.stringify(expected) ? 'exactly the ones on that disk' : 'NOT the expected set'}`);
        say(`   e.g. ${degraded.files[0]?.lfn}: ${degraded.files[0]?.reason}`);
        summary.degradedDetected = got.length;
        await waitFor('the repair plan', () => admin<RepairStatusReply>(['repair', 'status']).tasksByState.find((x) => x.state === 'queued')?.count === expected.length);
        const queued = admin<RepairStatusReply>(['repair', 'status']).tasks[0];
        say(`4. Repair planned (ecguard repair status): ${expected.length} tasks queued, one per file; e.g. ${queued?.lfn}:`);
        say(`   read the surviving stripes from ${queued?.sources.length} archives on ${[...new Set(queued?.sources.map((x) => x.split(':')[0]))].join(', ')}, write 1 archive to ${queued?.targets[0]} (the failed disk's server keeps its archive)`);
        const t1 = Date.now();
        admin(['repair', 'resume']);
        await waitFor('the repairs', () => count(admin<StatusReply>(['status']), 'healthy') === files.length, 120_000);
        const rs = admin<RepairStatusReply>(['repair', 'status', '--all', '--limit', '1000']);
        say(`5. ecguard repair resume: all ${expected.length} files rebuilt in ${((Date.now() - t1) / 1000).toFixed(1)} s (${(rs.bytesRebuilt / 1e6).toFixed(1)} MB written; only the lost archives, no file was copied whole); every file healthy`);
        summary.repaired = rs.tasksDone;
        const pick = hit.find((x) => x.size > 0) ?? hit[0];
        if (pick) {
          // Decode from the rebuilt archive and just enough survivors: the rebuilt one is needed.
          const rebuilt = readlinkSync(`${victim?.localroot}${pick.lfn}`);
          const survivors = pick.paths.filter((p) => !p.startsWith(disk + '/')).slice(0, PROFILE.nbData - 1);
          const out = join(cluster.root, 'check.root');
          const r = cluster.cli(['decode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '65536', '--out', out, rebuilt, ...survivors], false);
          const same = r.code === 0 && createHash('sha256').update(readFileSync(out)).digest('hex') === createHash('sha256').update(fileBytes(pick.lfn, pick.size)).digest('hex');
          say(`   ecguard decode of ${pick.lfn} from its rebuilt archive + ${survivors.length} survivors: ${same ? 'byte-identical to the original' : 'MISMATCH'}`);
          summary.rebuiltDecodes = same;
        }
        await cluster.killAgent(4);
        say('6. Agent crash: kill -9 of srv04\'s agent');
        await waitFor('srv04 down', () => (admin<StatusReply>(['status']).servers.find((s) => s.serverId === 'srv04')?.state === 'down'));
        status = admin(['status']);
        const waiting = admin<RepairStatusReply>(['repair', 'status']);
        say(`   srv04 marked down after 3 s without heartbeats; files: ${status.filesByState.filter((x) => x.count > 0).map((x) => `${x.count} ${x.state}`).join(', ')} — none lost, and no repair: ${waiting.waiting} file(s) wait for the server's grace (server.lostAfter, 1 h; \`ecguard server lost\` ends it)`);
        cluster.startAgent(4);
        await waitFor('srv04 back', () => (admin<StatusReply>(['status']).servers.find((s) => s.serverId === 'srv04')?.state === 'up'));
        const srv4 = admin<ListServersReply>(['servers']).servers.find((s) => s.serverId === 'srv04');
        await waitFor('all healthy again', () => count(admin<StatusReply>(['status']), 'healthy') === files.length);
        say(`   agent restarted, srv04 up again: ${srv4?.replays === 1 && srv4.fullInventories === 1 ? 'it replayed its journal (no second full inventory)' : `sync: ${srv4?.fullInventories} full inventories, ${srv4?.replays} replays`}; every file healthy`);
        // 7. debris: a file deleted while its server's agent is away leaves a leftover there
        const gone = files.find((x) => x.size > 0 && x.servers.includes(3) && !hit.includes(x)) as PlacedFile; // its paths are still where placeFile put them
        await cluster.killAgent(3);
        await waitFor('srv03 down', () => (admin<StatusReply>(['status']).servers.find((s) => s.serverId === 'srv03')?.state === 'down'));
        gone.paths.forEach((p, i) => {
          if (gone.servers[i] === 3) return;
          unlinkSync(p);
          rmSync(join(cluster.sites[gone.servers[i] as number]?.localroot ?? '', gone.lfn), { force: true });
        });
        await waitFor('the deletion seen', () => !admin<ListFilesReply>(['files', '--prefix', gone.lfn]).files.some((x) => x.lfn === gone.lfn));
        cluster.startAgent(3);
        await waitFor('the leftover called debris', () => admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === gone.lfn && a.role === 'debris'));
        say(`7. ${gone.lfn} deleted while srv03's agent was down: its archive on srv03 is debris (a tombstone explains it; without one it would be an orphan, never touched)`);
        await waitFor('srv03 reported', () => !admin<StatusReply>(['status']).safeMode?.active && admin<ListServersReply>(['servers']).servers.every((s) => s.state === 'up' && s.connected));
        const q = admin<QuarantineDebrisReply>(['debris', 'quarantine']);
        const moved = q.actions.find((a) => a.lfn === gone.lfn);
        say(`   ecguard debris quarantine: ${moved?.outcome ?? 'not found'} — srv03 re-checked it and moved it to ${moved?.quarantinePath ?? '?'}${moved?.linkRemoved ? ` (its symlink ${moved.linkRemoved} too)` : ''}; purged after debris.retention (7 days), \`ecguard debris restore\` undoes it`);
        summary.quarantined = moved?.outcome === 'quarantined';
        // 8. silent corruption: one bit of a stripe flips on a disk that otherwise works
        const failedServer = cluster.sites.indexOf(victim as (typeof cluster.sites)[number]);
        const rot = files.find((x) => x.size >= 300_000 && !hit.includes(x) && x !== gone && x.servers.some((s) => s !== failedServer && s !== 3)) as PlacedFile;
        const slot = rot.servers.findIndex((s) => s !== failedServer && s !== 3);
        const rotPath = rot.paths[slot] as string;
        const rotSite = cluster.sites[rot.servers[slot] as number];
        flipOneBit(rotPath);
        say(`8. Silent corruption: one bit flipped inside a stripe of ${rot.lfn} on ${rotSite?.serverId} (the disk itself works; nothing else notices)`);
        const t2 = Date.now();
        let found: { reason: string } | undefined;
        await waitFor('the scrub to find it', () => (found = admin<{ events: { reason: string; subject: { lfn?: string } }[] }>(['events', '--type', 'corruption.found']).events.find((e) => e.subject.lfn === rot.lfn)) !== undefined, 60_000);
        say(`   found by ${rotSite?.serverId}'s background scrub (CRC of every stripe entry, scrub.mbps) in ${((Date.now() - t2) / 1000).toFixed(1)} s: ${found?.reason}`);
        await waitFor('the damaged archive rebuilt', () => {
          try {
            return readlinkSync(join(rotSite?.localroot ?? '', rot.lfn)) !== rotPath && admin<ListFilesReply>(['files', '--prefix', rot.lfn]).files.find((x) => x.lfn === rot.lfn)?.state === 'healthy';
          } catch {
            return false;
          }
        }, 60_000);
        const newPath = readlinkSync(join(rotSite?.localroot ?? '', rot.lfn));
        say(`   its disk downgraded (no new placements), the archive counted unreadable, the file degraded and repaired at once: rebuilt on ${rotSite?.serverId}'s other disk (${newPath}), the symlink moved`);
        summary.corruptionRepaired = true;
        // the file whole without it, the damaged archive is debris: moved aside, not deleted
        await waitFor('the damaged archive called debris', () => admin<ListDebrisReply>(['debris']).archives.some((a) => a.lfn === rot.lfn && a.role === 'debris'));
        const dq = admin<QuarantineDebrisReply>(['debris', 'quarantine', '--server', rotSite?.serverId ?? '', '--prefix', rot.lfn]).actions.find((a) => a.lfn === rot.lfn);
        say(`   the damaged archive, no longer needed, is debris: ecguard debris quarantine: ${dq?.outcome ?? 'not found'} (${dq?.quarantinePath ?? '?'})`);
        summary.damagedQuarantined = dq?.outcome === 'quarantined';
        const rotDisk = rotSite?.disks.find((d) => rotPath.startsWith(`${d}/`)) ?? '';
        const acc = cluster.cli(['disk', 'accept', rotDisk, '--config', join(rotSite?.root ?? '', 'agent.yaml'), '--clear-downgrade', '--json'], false);
        const cleared = acc.code === 0 && (JSON.parse(acc.stdout) as { downgradeCleared?: boolean }).downgradeCleared === true;
        if (cleared) await waitFor('the disk online again', () => admin<{ disks: { disk?: { path: string; state: string } }[] }>(['disks']).disks.some((d) => d.disk?.path === rotDisk && d.disk.state === 'online'));
        say(`   the operator checked ${rotDisk} and trusts it again: ecguard disk accept ${rotDisk} --clear-downgrade: ${cleared ? 'online, placements allowed again' : `failed: ${acc.stderr.trim()}`}`);
        summary.downgradeCleared = cleared;
        const ev = admin<{ events: { type: string; reason: string; subject: Record<string, string> }[] }>(['events']).events;
        const byType = new Map<string, number>();
        for (const e of ev) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
        say(`9. Events (ecguard events; published to NATS JetStream stream ECGUARD at ${cluster.natsUrl}): ${[...byType].map(([t, n]) => `${n} ${t}`).join(', ')}`);
        for (const e of [...new Map(ev.filter((x) => x.type !== 'file.created').map((x) => [x.type, x])).values()]) say(`   ${e.type.padEnd(14)} ${e.subject.lfn ?? e.subject.diskId ?? e.subject.serverId ?? ''}: ${e.reason}`);
        summary.events = Object.fromEntries(byType);
        if (f.json) printJson(summary);
      } finally {
        await cluster.stop();
        if (f.keep) say(`kept ${cluster.root}`);
      }
    });
}

/** Flips one bit in the middle of the first entry's data of an XrdEc archive (the demo's rot). */
function flipOneBit(path: string): void {
  const b = readFileSync(path);
  // local header of entry 0 at offset 0: 30 bytes, then the name and extra field, then its data
  const at = 30 + b.readUInt16LE(26) + b.readUInt16LE(28) + 100;
  b[at] = (b[at] as number) ^ 0x08;
  writeFileSync(path, b);
}
