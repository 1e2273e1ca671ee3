// `ecguard repair status|run|pause|resume|retry|throttle`: the repair queue for operators.
import type { Command } from 'commander';
import type { RepairStatusReply, RepairTaskInfo } from '../../proto/gen/ecguard/v1/admin.js';
import { UsageError } from '../../shared/errors.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { EXIT } from '../exit-codes.js';
import { parseIntFlag } from '../options.js';
import { formatBytes, printJson, table } from '../output.js';

function bar(done: number, total: number, width = 20): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${Math.round(f * 100)}%`;
}

function eta(t: RepairTaskInfo, now: number): string {
  if (t.blocksTotal === 0 || t.blocksDone === 0 || t.startedMs === 0) return '';
  const left = ((now - t.startedMs) / t.blocksDone) * (t.blocksTotal - t.blocksDone);
  return left < 1000 ? '<1s' : `${Math.round(left / 1000)}s`;
}

export function repairStatusText(s: RepairStatusReply, now = Date.now()): string {
  const th = s.throttles;
  let out = s.gate ? `REPAIR HELD: ${s.gate}\n` : s.paused ? 'REPAIR PAUSED\n' : '';
  out += `tasks: ${s.tasksByState.filter((x) => x.count > 0).map((x) => `${x.count} ${x.state}`).join(', ') || 'none'}\n`;
  out += `throughput ${formatBytes(s.bytesPerS)}/s; ${formatBytes(s.bytesRebuilt)} rebuilt since the coordinator started; ${s.tasksDone} task(s) done\n`;
  if (th) out += `throttles: ${th.perAgentTasks} task(s)/agent, ${th.clusterTasks} in the cluster, ${th.perAgentMbPerS} MB/s/agent, ${th.perSourceStreams} read stream(s)/source\n`;
  if (s.waiting > 0) out += `${s.waiting} file(s) waiting for a down server's grace, e.g.:\n${s.waitingExamples.map((w) => `  ${w}\n`).join('')}`;
  const running = s.tasks.filter((t) => ['assigned', 'running', 'verifying'].includes(t.state));
  if (running.length) {
    out += '\nrunning:\n' + table(['task', 'lfn', 'executor', 'phase', 'progress', 'written', 'eta'],
      running.map((t) => [t.taskId, t.lfn, t.executor, t.state === 'verifying' ? 'awaiting inventory' : t.phase || t.state, bar(t.blocksDone, t.blocksTotal), `${formatBytes(t.bytesWritten)}/${formatBytes(t.bytesPlanned)}`, eta(t, now)]));
  }
  const queued = s.tasks.filter((t) => t.state === 'queued');
  if (queued.length) {
    const anyHeld = queued.some((t) => t.held !== '');
    out += '\nqueue (by priority):\n' + table(['task', 'lfn', 'redundancy', 'targets', 'bytes', ...(anyHeld ? ['held because'] : [])],
      queued.map((t) => [t.taskId, t.lfn, t.redundancy, t.targets.join(' '), formatBytes(t.bytesPlanned), ...(anyHeld ? [t.held || '-'] : [])]));
  }
  const bad = s.tasks.filter((t) => t.state === 'failed' || t.state === 'parked');
  if (bad.length) {
    out += '\nfailed / parked:\n' + table(['task', 'lfn', 'state', 'attempt', 'error'], bad.map((t) => [t.taskId, t.lfn, t.state, t.attempt, t.error]));
    if (bad.some((t) => t.state === 'parked')) out += "parked tasks wait for an operator: fix the cause, then 'ecguard repair retry TASK'\n";
  }
  return out;
}

export function registerRepair(program: Command): void {
  const repair = program.command('repair').description('rebuild missing archives: queue, plans, throttles');

  addAdminOptions(repair.command('status').description('queue by priority, running tasks with progress, throughput, throttles'))
    .option('--limit <n>', 'tasks to list', '50')
    .option('--all', 'include done and cancelled tasks')
    .action(async (f: AdminFlags & { limit: string; all?: boolean }) => {
      const c = adminClient(f);
      const s = await call(c, c.repairStatus, { limit: parseIntFlag('--limit', f.limit, 1), includeFinished: f.all === true });
      if (f.json) printJson(s);
      else process.stdout.write(repairStatusText(s));
      const parked = s.tasksByState.find((x) => x.state === 'parked')?.count ?? 0;
      process.exitCode = parked > 0 ? EXIT.PROBLEMS : EXIT.OK;
    });

  addAdminOptions(repair.command('run').description('plan repairs now (no down-server grace): one file, a disk\'s files, or every unhealthy file'))
    .option('--file <lfn>', 'this file')
    .option('--disk <id>', 'every file with an archive on this disk')
    .option('--all', 'every degraded, critical or unavailable file')
    .option('--dry-run', 'print the plan (sources, targets, bytes) and queue nothing')
    .action(async (f: AdminFlags & { file?: string; disk?: string; all?: boolean; dryRun?: boolean }) => {
      const n = [f.file, f.disk, f.all].filter((x) => x !== undefined && x !== false).length;
      if (n !== 1) throw new UsageError('give exactly one of --file LFN, --disk ID or --all');
      const c = adminClient(f);
      const r = await call(c, c.repairRun, { lfn: f.file ?? '', diskId: f.disk ?? '', all: f.all === true, dryRun: f.dryRun === true }, 120_000);
      if (f.json) printJson(r);
      else {
        process.stdout.write(`${r.message}\n`);
        if (r.plans.length) {
          process.stdout.write(table(['lfn', 'decision', 'read', 'write', 'targets', 'reason'], r.plans.map((p) => [p.lfn, p.decision, formatBytes(p.bytesRead), formatBytes(p.bytesWritten), p.targets.join(' '), p.reason])));
          if (f.dryRun) for (const p of r.plans.filter((x) => x.decision === 'planned').slice(0, 20)) process.stdout.write(`\n${p.lfn}\n  sources: ${p.sources.join('\n           ')}\n  targets: ${p.targets.join(', ')}\n`);
        }
      }
      process.exitCode = r.plans.some((p) => p.decision === 'impossible') ? EXIT.PROBLEMS : EXIT.OK;
    });

  for (const [name, paused] of [['pause', true], ['resume', false]] as const) {
    addAdminOptions(repair.command(name).description(paused ? 'start no new task (they are still planned and queued; running tasks finish)' : 'plan and start repairs again')).action(async (f: AdminFlags) => {
      const c = adminClient(f);
      const r = await call(c, c.repairPause, { paused });
      if (f.json) printJson(r);
      else process.stdout.write(`${r.message}\n`);
    });
  }

  addAdminOptions(repair.command('retry').argument('<task>', 'task id (ecguard repair status)').description('queue a failed or parked task again')).action(async (task: string, f: AdminFlags) => {
    const c = adminClient(f);
    const r = await call(c, c.repairRetry, { taskId: task });
    if (f.json) printJson(r);
    else process.stdout.write(`${r.message}\n`);
  });

  addAdminOptions(repair.command('throttle').description('change repair throttles at run time'))
    .option('--tasks-per-agent <n>', 'tasks one agent runs at once')
    .option('--cluster-tasks <n>', 'tasks running in the whole cluster')
    .option('--mbps <n>', 'source MB/s one executing agent reads')
    .option('--source-streams <n>', 'read streams one agent serves to repairing peers')
    .action(async (f: AdminFlags & { tasksPerAgent?: string; clusterTasks?: string; mbps?: string; sourceStreams?: string }) => {
      const mbps = f.mbps !== undefined ? Number(f.mbps) : undefined;
      if (mbps !== undefined && !(mbps > 0 && Number.isFinite(mbps))) throw new UsageError(`--mbps wants a positive number, got ${f.mbps}`);
      const c = adminClient(f);
      const r = await call(c, c.repairThrottle, {
        ...(f.tasksPerAgent !== undefined ? { perAgentTasks: parseIntFlag('--tasks-per-agent', f.tasksPerAgent, 1) } : {}),
        ...(f.clusterTasks !== undefined ? { clusterTasks: parseIntFlag('--cluster-tasks', f.clusterTasks, 1) } : {}),
        ...(f.sourceStreams !== undefined ? { perSourceStreams: parseIntFlag('--source-streams', f.sourceStreams, 1) } : {}),
        ...(mbps !== undefined ? { perAgentMbPerS: mbps } : {}),
      });
      if (f.json) printJson(r);
      else process.stdout.write(`${r.message}\n`);
    });
}
