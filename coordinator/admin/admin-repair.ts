// Admin handlers of `ecguard repair ...`.
import type { AdminServer, RepairPlanInfo, RepairTaskInfo } from '../../proto/gen/ecguard/v1/admin.js';
import { REPAIR_TASK_STATES, type RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { RepairManager } from '../repair/repair-manager.js';
import type { PlanOutcome } from '../repair/repair-planner.js';
import type { RepairThrottleSettings } from '../repair/repair-settings.js';
import type { AdminWrap } from './admin-call.js';

type RepairHandlers = Pick<AdminServer, 'repairStatus' | 'repairRun' | 'repairPause' | 'repairRetry' | 'repairThrottle'>;

const src = (s: { serverId: string; diskId: string; dataPath: string }): string => `${s.diskId.startsWith(`${s.serverId}:`) ? s.diskId : `${s.serverId}:${s.diskId}`}/${s.dataPath}`;
const wireThrottles = (t: RepairThrottleSettings) => ({ perAgentTasks: t.perAgentTasks, perSourceStreams: t.perSourceStreams, perAgentMbPerS: t.perAgentMBps, clusterTasks: t.clusterTasks });
const tgt = (t: { serverId: string; diskId: string; slot: number }): string => `${t.diskId.startsWith(`${t.serverId}:`) ? t.diskId : `${t.serverId}:${t.diskId}`} (slot ${t.slot})`;

export function taskInfo(t: RepairTaskRow, held?: string): RepairTaskInfo {
  return {
    taskId: t.taskId, lfn: t.lfn, state: t.state, redundancy: t.redundancy, executor: t.executor ?? '', attempt: t.attempt, phase: t.progress?.phase ?? '',
    blocksDone: t.progress?.blocksDone ?? 0, blocksTotal: t.progress?.blocksTotal ?? 0, bytesRead: t.progress?.bytesRead ?? 0, bytesWritten: t.progress?.bytesWritten ?? 0,
    bytesPlanned: t.plan.bytesWritten, createdMs: t.createdAt, startedMs: t.startedAt ?? 0, updatedMs: t.updatedAt, error: t.error ? `${t.errorCode ? `${t.errorCode}: ` : ''}${t.error}` : '',
    sources: t.plan.sources.map(src), targets: t.plan.targets.map(tgt), degradedSinceMs: t.degradedSince, nextAttemptMs: t.nextAttemptAt ?? 0, sourceProblems: [...(t.sourceProblems ?? [])],
    held: held ?? '',
  };
}

function planInfo(o: PlanOutcome): RepairPlanInfo {
  const d = o.decision;
  if (d.kind === 'plan') {
    return { lfn: o.lfn, decision: 'planned', reason: d.reason, sources: d.plan.sources.map(src), targets: d.plan.targets.map(tgt), bytesRead: d.plan.bytesRead, bytesWritten: d.plan.bytesWritten, redundancy: d.redundancy, taskId: o.task?.taskId ?? '' };
  }
  if (d.kind === 'queued') {
    return { lfn: o.lfn, decision: 'queued', reason: `task ${d.task.taskId} is ${d.task.state}`, sources: d.task.plan.sources.map(src), targets: d.task.plan.targets.map(tgt), bytesRead: d.task.plan.bytesRead, bytesWritten: d.task.plan.bytesWritten, redundancy: d.task.redundancy, taskId: d.task.taskId };
  }
  return { lfn: o.lfn, decision: d.kind === 'none' ? 'healthy' : d.kind, reason: d.reason, sources: [], targets: [], bytesRead: 0, bytesWritten: 0, redundancy: 0, taskId: '' };
}

export function repairHandlers(r: RepairManager, wrap: AdminWrap): RepairHandlers {
  return {
    repairStatus: wrap(async (req) => {
      const s = await r.status(Math.min(req.limit || 50, 10_000), req.includeFinished);
      return {
        paused: s.paused, gate: s.gate ?? '', tasksByState: REPAIR_TASK_STATES.map((st) => ({ state: st, count: s.counts[st], bytes: 0 })),
        tasks: s.tasks.map((t) => taskInfo(t, s.held.get(t.taskId))), throttles: wireThrottles(s.throttles), bytesPerS: s.bytesPerSecond, bytesRebuilt: s.bytesRebuilt, tasksDone: s.counts.done,
        waiting: s.waiting, waitingExamples: s.waitingExamples,
      };
    }),
    repairRun: wrap(async (req) => {
      const plans = await r.run({ ...(req.lfn ? { lfn: req.lfn } : {}), ...(req.diskId ? { diskId: req.diskId } : {}), all: req.all, dryRun: req.dryRun });
      const queued = plans.filter((p) => p.task).length;
      return { plans: plans.slice(0, 10_000).map(planInfo), queued, message: req.dryRun ? `dry run: ${plans.filter((p) => p.decision.kind === 'plan').length} of ${plans.length} file(s) would be repaired; nothing queued` : `${queued} repair task(s) queued for ${plans.length} file(s)` };
    }),
    repairPause: wrap(async (req) => ({ message: await r.setPaused(req.paused) })),
    repairRetry: wrap(async (req) => ({ message: await r.retry(req.taskId) })),
    repairThrottle: wrap(async (req) => {
      const t = await r.setThrottles({
        ...(req.perAgentTasks !== undefined ? { perAgentTasks: req.perAgentTasks } : {}), ...(req.perSourceStreams !== undefined ? { perSourceStreams: req.perSourceStreams } : {}),
        ...(req.perAgentMbPerS !== undefined ? { perAgentMBps: req.perAgentMbPerS } : {}), ...(req.clusterTasks !== undefined ? { clusterTasks: req.clusterTasks } : {}),
      });
      return { throttles: wireThrottles(t), message: `throttles now: ${t.perAgentTasks} task(s) per agent, ${t.perSourceStreams} read stream(s) per source, ${t.perAgentMBps} MB/s per agent, ${t.clusterTasks} task(s) in the cluster` };
    }),
  };
}
