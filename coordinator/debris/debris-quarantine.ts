// `ecguard debris quarantine`: moves debris aside (DESIGN.md §8.1). Decided on complete evidence
// only (debris-evidence.ts), each archive re-classified from the catalog as it is now (a role
// written minutes ago may be stale: the file rewritten again, a server back with a newer
// version), then ordered to its holder, which re-checks the data file itself before moving it.
// Orphans are never moved: nothing explains them. The catalog learns of each move from the
// holder's own delta (the data file left its bucket), like any other change.
import { randomUUID } from 'node:crypto';
import type { QuarantineOrder, QuarantineResult } from '../../shared/domain/debris-order.js';
import { EcguardError } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { ArchiveRoleRow, ArchiveRow } from '../catalog/catalog-types.js';
import type { ClusterState } from '../cluster-state.js';
import { classifyFile } from '../health/health-engine.js';
import { replacedMap } from '../health/reclassifier.js';
import { evidenceGaps } from './debris-evidence.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

const log = getLogger('debris');

export interface DebrisSession {
  sendQuarantine(order: QuarantineOrder): void;
}

export interface DebrisEvents {
  debrisQuarantined(a: { lfn: string; serverId: string; diskId: string; dataPath: string; size: number }, r: QuarantineResult): void;
}

export interface DebrisHost {
  readonly store: CatalogStore;
  readonly cluster: ClusterState;
  profileFor(lfn: string): EcProfile | undefined;
  /** Why nothing may be acted on now (safe mode, a server still sending its inventory or replay), or undefined. */
  gate(): string | undefined;
  session(serverId: string): DebrisSession | undefined;
  readonly events?: DebrisEvents;
}

export interface QuarantineRequest {
  readonly serverId?: string;
  readonly prefix?: string;
  readonly limit: number;
  readonly dryRun: boolean;
}

export type DebrisOutcome = 'planned' | 'quarantined' | 'refused' | 'failed' | 'skipped';

export interface DebrisAction {
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly lfn: string;
  readonly size: number;
  readonly outcome: DebrisOutcome;
  readonly code?: string;
  readonly reason: string;
  readonly quarantinePath?: string;
  readonly linkRemoved?: string;
}

const SCAN_ROLES = 100_000;
/** Orders in flight per holder. */
const PER_SERVER = 4;

export class DebrisQuarantine {
  private readonly waiting = new Map<string, { serverId: string; done: (r: QuarantineResult) => void }>();
  private busy = false;

  constructor(private readonly host: DebrisHost, private readonly resultTimeoutMs = 60_000) {}

  /** A holder's answer (unknown or foreign order ids are ignored: a late answer after a timeout). */
  onResult(serverId: string, r: QuarantineResult): void {
    const w = this.waiting.get(r.orderId);
    if (!w || w.serverId !== serverId) return;
    this.waiting.delete(r.orderId);
    w.done(r);
  }

  async run(req: QuarantineRequest): Promise<DebrisAction[]> {
    if (this.busy) throw new EcguardError('BUSY', 'a debris quarantine is already running: wait for it to finish, then run this again');
    this.busy = true;
    try {
      return await this.decideAndAct(req);
    } finally {
      this.busy = false;
    }
  }

  private async gate(): Promise<void> {
    // the stored rows: the cached ones do not follow `inventoried` (the store advances it)
    const gate = this.host.gate();
    const gaps = evidenceGaps({ servers: await this.host.store.listServers(), connected: (id) => this.host.session(id) !== undefined, ...(gate !== undefined ? { gate } : {}) });
    if (gaps.length > 0) {
      throw new EcguardError('EVIDENCE_INCOMPLETE', `no debris is moved without complete evidence: ${gaps.join('; ')}. Wait until every server has reported, or declare a dead server lost (ecguard server lost ID); nothing was moved`);
    }
  }

  private async decideAndAct(req: QuarantineRequest): Promise<DebrisAction[]> {
    await this.gate();
    // filtered in the query: with many debris rows elsewhere, a --server or --prefix run still finds its own
    const roles = await this.host.store.listArchiveRoles(['debris'], Math.min(req.limit, SCAN_ROLES), {
      ...(req.serverId !== undefined ? { serverId: req.serverId } : {}), ...(req.prefix !== undefined ? { lfnPrefix: req.prefix } : {}),
    });
    const decided = await this.recheck(roles);
    if (req.dryRun) return decided.map((d) => d.action);
    // the evidence may have changed while the catalog was read
    await this.gate();
    // a few orders in flight per holder (each waits for its answer): a thousand at once would all
    // share one timeout while the agent works through them
    const results: DebrisAction[] = decided.map((d) => d.action);
    const byServer = new Map<string, number[]>();
    decided.forEach((d, i) => {
      if (d.order) byServer.set(d.action.serverId, [...(byServer.get(d.action.serverId) ?? []), i]);
    });
    await Promise.all([...byServer.values()].map(async (idx) => {
      const lanes = Array.from({ length: Math.min(PER_SERVER, idx.length) }, async (_, lane) => {
        for (let k = lane; k < idx.length; k += PER_SERVER) {
          const i = idx[k] as number;
          const d = decided[i];
          if (d?.order) results[i] = await this.order(d.action, d.order);
        }
      });
      await Promise.all(lanes);
    }));
    const moved = results.filter((a) => a.outcome === 'quarantined').length;
    log.info(`debris quarantine: ${moved} of ${results.length} archive(s) moved aside`);
    return results;
  }

  /** Re-classifies the files of these archives now; an order for each that is still debris. */
  private async recheck(roles: readonly ArchiveRoleRow[]): Promise<{ action: DebrisAction; order?: QuarantineOrder }[]> {
    const { store, cluster } = this.host;
    const lfns = [...new Set(roles.map((r) => r.lfn))].sort();
    const [rows, states, tombs, replaced, files] = await Promise.all([store.archivesOf(lfns), store.archiveStatesOf(lfns), store.tombstonesFor(lfns), store.replacedFor(lfns), store.filesOf(lfns)]);
    const out: { action: DebrisAction; order?: QuarantineOrder }[] = [];
    const now = Date.now();
    const rolesOf = new Map<string, ArchiveRoleRow[]>();
    for (const r of roles) rolesOf.set(r.lfn, [...(rolesOf.get(r.lfn) ?? []), r]);
    for (const lfn of lfns) {
      const profile = this.host.profileFor(lfn);
      const prev = files.get(lfn);
      const verdict = profile === undefined ? undefined : classifyFile({
        lfn, archives: states.get(lfn) ?? [], profile, serverState: cluster.serverState, diskState: cluster.diskState, nowMs: now,
        tombstones: tombs.get(lfn) ?? [], replaced: replacedMap(replaced.get(lfn)), wasComplete: (sv) => prev?.createdAt !== undefined && prev.latestStrpver === sv,
      });
      const roleOf = new Map(verdict?.archives.map((v) => [`${v.archive.serverId}\0${v.archive.diskId}\0${v.archive.dataPath}`, v]) ?? []);
      const full = new Map((rows.get(lfn) ?? []).map((a) => [`${a.serverId}\0${a.diskId}\0${a.dataPath}`, a]));
      for (const r of rolesOf.get(lfn) ?? []) {
        const key = `${r.serverId}\0${r.diskId}\0${r.dataPath}`;
        const a = full.get(key);
        const v = roleOf.get(key);
        const base = { serverId: r.serverId, diskId: r.diskId, dataPath: r.dataPath, lfn, size: a?.size ?? 0 };
        const skip = (why: string): void => void out.push({ action: { ...base, outcome: 'skipped', reason: why } });
        if (!a) skip('the catalog no longer holds this archive');
        else if (!profile) skip(`the EC profile of ${lfn} is unknown`);
        else if (v?.role !== 'debris') skip(`no longer debris: ${v ? `${v.role} (${v.reason})` : 'not classified'}`);
        else if (verdict?.state === undefined && readable(states.get(lfn) ?? [], a.strpver, profile.nbData)) {
          // A tombstone is an inference (every archive on the servers that were up was unlinked):
          // a partition longer than server.downAfter while one stripe was lost looks the same. If
          // what is left could still be read, moving it could destroy a file: a person decides.
          skip(`${lfn} is recorded as deleted, but ${profile.nbData} or more archives of strpver ${a.strpver} are left, enough to read it: not moved (if it really was deleted, remove it through xrootd)`);
        }
        // a downgraded disk is readable and writable (it only takes no new placements)
        else if (!diskReadable(cluster.diskState(r.diskId))) skip(`its disk ${r.diskId} is ${cluster.diskState(r.diskId) ?? 'unknown'}`);
        else out.push({ action: { ...base, outcome: 'planned', reason: v.reason }, order: orderFor(a, lfn, v.reason) });
      }
    }
    return out;
  }

  private async order(action: DebrisAction, order: QuarantineOrder): Promise<DebrisAction> {
    const s = this.host.session(action.serverId);
    if (!s) return { ...action, outcome: 'failed', code: 'NOT_CONNECTED', reason: `${action.serverId} is not connected: nothing was ordered` };
    const r = await new Promise<QuarantineResult>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(order.orderId);
        resolve({ orderId: order.orderId, outcome: 'failed', code: 'NO_ANSWER', message: `${action.serverId} did not answer within ${Math.round(this.resultTimeoutMs / 1000)} s (its inventory will show whether the archive moved; run the quarantine again)` });
      }, this.resultTimeoutMs);
      this.waiting.set(order.orderId, { serverId: action.serverId, done: (x) => { clearTimeout(timer); resolve(x); } });
      s.sendQuarantine(order);
    });
    if (r.outcome === 'quarantined') this.host.events?.debrisQuarantined(action, r);
    return {
      ...action, outcome: r.outcome, reason: r.outcome === 'quarantined' ? `${action.reason}; ${r.message}` : r.message,
      ...(r.code !== undefined ? { code: r.code } : {}), ...(r.quarantinePath !== undefined ? { quarantinePath: r.quarantinePath } : {}), ...(r.linkRemoved !== undefined ? { linkRemoved: r.linkRemoved } : {}),
    };
  }
}

function orderFor(a: ArchiveRow, lfn: string, reason: string): QuarantineOrder {
  return {
    orderId: randomUUID(), lfn, diskId: a.diskId, dataPath: a.dataPath, inode: a.inode, size: a.size, mtimeMs: a.mtimeMs, reason,
    ...(a.strpver !== undefined ? { strpver: a.strpver } : {}), ...(a.pfn !== undefined ? { pfn: a.pfn } : {}), ...(a.nsPath !== undefined ? { nsPath: a.nsPath } : {}),
  };
}

/** At least n usable archives of `strpver` (any server): the version could still be read. */
function readable(archives: readonly { strpver?: number; parseStatus: string }[], strpver: number | undefined, n: number): boolean {
  return archives.filter((x) => x.strpver === strpver && (x.parseStatus === 'ok' || x.parseStatus === 'empty')).length >= n;
}
