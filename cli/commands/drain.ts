// `ecguard drain start|stop|status`: move every archive off a disk or a whole server before the
// hardware is retired (DESIGN.md §5 server/disk drain). Runs against the coordinator.
import type { Command } from 'commander';
import type { DrainStatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { UsageError } from '../../shared/errors.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { EXIT } from '../exit-codes.js';
import { printJson, table } from '../output.js';

type Place = AdminFlags & { server?: string; disk?: string };

function place(f: Place): { serverId: string; diskId: string } {
  if ((f.server === undefined) === (f.disk === undefined)) throw new UsageError('give exactly one of --server ID or --disk SERVER:PATH (see ecguard servers, ecguard disks)');
  return { serverId: f.server ?? '', diskId: f.disk ?? '' };
}

export function drainStatusText(s: DrainStatusReply): string {
  if (s.drains.length === 0) return 'no drain (ecguard drain start --server ID | --disk SERVER:PATH)\n';
  let out = s.gate ? `DRAINS HELD: ${s.gate}\n` : '';
  out += `${s.activeTasks} task(s) moving archives (${s.runningTasks} running); they run after the repairs\n`;
  for (const d of s.drains) {
    out += `\n${d.kind} ${d.id}: ${d.drained ? 'DRAINED' : 'draining'} since ${new Date(d.sinceMs).toISOString()}${d.reason ? ` (${d.reason})` : ''}\n`;
    out += table(['disk', 'state', 'files still counting it', 'last pass: seen', 'planned', 'blocked'], d.disks.map((x) => [
      x.diskId, x.state, `${x.remaining}${x.remainingCapped ? '+' : ''}`,
      x.lastPass ? x.lastPass.candidates : '-', x.lastPass ? x.lastPass.planned : '-', x.lastPass ? x.lastPass.blocked : '-',
    ]));
    for (const x of d.disks) for (const e of x.lastPass?.examples ?? []) out += `  blocked on ${x.diskId}: ${e}\n`;
    for (const x of d.disks.filter((y) => y.metadataCopies > 0)) {
      out += `  ${x.metadataCopies} .mt cop${x.metadataCopies === 1 ? 'y' : 'ies'} of objects stay on ${x.diskId}: a drain does not move them; copy each to another disk of the server (with its xattrs) and re-point its link before removing the disk\n`;
    }
    if (d.drained) {
      out += `every file has its archives elsewhere now. What is left there is duplicates: ecguard debris lists them, ecguard debris quarantine --server ${d.kind === 'server' ? d.id : d.id.split(':')[0]} moves them aside. Take the ${d.kind === 'server' ? 'server out of the cluster' : 'disk out of xrootd\'s oss.space'} before removing it, or xrootd places new files there again.\n`;
    }
  }
  return out;
}

export function registerDrain(program: Command): void {
  const drain = program.command('drain').description('move every archive off a disk or a server before retiring it: start, stop, status');

  addAdminOptions(drain.command('start').description('drain a disk or a server: no new placements there, and each archive there rebuilt elsewhere (after the repairs)'))
    .option('--server <id>', 'every disk of this server: archives go to servers that hold none of the file')
    .option('--disk <id>', 'this disk (server:path): archives go to the same server\'s other disks first, the namespace link moving along')
    .option('--reason <text>', 'why (one line, shown in status)', '')
    .action(async (f: Place & { reason: string }) => {
      const c = adminClient(f);
      const r = await call(c, c.drainStart, { ...place(f), reason: f.reason });
      if (f.json) printJson(r);
      else process.stdout.write(`${r.message}\n`);
    });

  addAdminOptions(drain.command('stop').description('stop a drain: the place takes placements again; queued moves are dropped, running ones finish'))
    .option('--server <id>', 'the drained server')
    .option('--disk <id>', 'the drained disk (server:path)')
    .action(async (f: Place) => {
      const c = adminClient(f);
      const r = await call(c, c.drainStop, place(f));
      if (f.json) printJson(r);
      else process.stdout.write(`${r.message}\n`);
    });

  addAdminOptions(drain.command('status').description('each drain: files still counting an archive there, what the last pass planned and what blocks')).action(async (f: AdminFlags) => {
    const c = adminClient(f);
    const s = await call(c, c.drainStatus, {});
    if (f.json) printJson(s);
    else process.stdout.write(drainStatusText(s));
    // scripts wait for exit 0: every drain done
    process.exitCode = s.drains.every((d) => d.drained) ? EXIT.OK : EXIT.PROBLEMS;
  });
}
