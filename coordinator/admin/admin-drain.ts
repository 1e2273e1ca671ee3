// Admin handlers of `ecguard drain ...`.
import type { AdminServer, DrainStartRequest } from '../../proto/gen/ecguard/v1/admin.js';
import { EcguardError } from '../../shared/errors.js';
import type { DrainKind } from '../repair/drain-book.js';
import type { RepairManager } from '../repair/repair-manager.js';
import type { AdminWrap } from './admin-call.js';

type DrainHandlers = Pick<AdminServer, 'drainStart' | 'drainStop' | 'drainStatus'>;

/** The one place a request names: a server or a disk, never both or neither. */
function placeOf(req: Pick<DrainStartRequest, 'serverId' | 'diskId'>): { kind: DrainKind; id: string } {
  if (req.serverId && req.diskId) throw new EcguardError('USAGE', 'name a server (--server ID) or a disk (--disk SERVER:PATH), not both');
  if (req.serverId) return { kind: 'server', id: req.serverId };
  if (req.diskId) return { kind: 'disk', id: req.diskId };
  throw new EcguardError('USAGE', 'name what to drain: --server ID or --disk SERVER:PATH (see ecguard servers, ecguard disks)');
}

export function drainHandlers(r: RepairManager, wrap: AdminWrap): DrainHandlers {
  return {
    drainStart: wrap(async (req) => {
      const p = placeOf(req);
      const message = await r.drain.start(p.kind, p.id, req.reason);
      r.kick();
      return { message };
    }),
    drainStop: wrap(async (req) => {
      const p = placeOf(req);
      return { message: await r.drain.stop(p.kind, p.id) };
    }),
    drainStatus: wrap(async () => {
      const s = await r.drain.status();
      return {
        drains: s.drains.map((d) => ({
          kind: d.drain.kind, id: d.drain.id, sinceMs: d.drain.since, reason: d.drain.reason, drained: d.drained,
          disks: d.disks.map((x) => ({
            diskId: x.diskId, state: x.state, remaining: x.remaining, remainingCapped: x.remainingCapped, metadataCopies: x.metadataCopies,
            ...(x.lastPass ? { lastPass: { candidates: x.lastPass.candidates, planned: x.lastPass.planned, blocked: x.lastPass.blocked, examples: x.lastPass.examples, startedMs: x.lastPass.startedAt, endedMs: x.lastPass.endedAt ?? 0 } } : {}),
          })),
        })),
        activeTasks: s.activeTasks, runningTasks: s.runningTasks, gate: r.gate() ?? '',
      };
    }),
  };
}
