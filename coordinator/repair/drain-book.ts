// The operators' drains (`ecguard drain start|stop`): disks or whole servers whose archives move
// elsewhere before the hardware is retired. Kept in the catalog's meta (the coordinator's own
// state, like the repair throttles), so a restart keeps draining. A drained place takes no new
// placements; the planner rebuilds each of its archives elsewhere (a disk drain: on the same
// server's other disks, the namespace link moving with it) and the archive left behind becomes
// a duplicate, removed only through debris quarantine (DESIGN.md §8 invariant 1).
import { z } from 'zod';
import { EcguardError } from '../../shared/errors.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { ClusterState } from '../cluster-state.js';
import type { DiskRow, ServerRow } from '../catalog/catalog-types.js';
import type { PlanInput } from './repair-plan.js';

export type DrainKind = 'server' | 'disk';

export interface Drain {
  readonly kind: DrainKind;
  /** Server id, or disk id (server:path). */
  readonly id: string;
  readonly since: number;
  readonly reason: string;
  /** When a pass first found nothing counting there (drain.completed was sent). */
  readonly completedAt?: number;
}

/** What the planner asks: is this place being emptied, and why. */
export interface DrainView {
  why(serverId: string, diskId: string): string | undefined;
  serverDraining(serverId: string): boolean;
}

/** The PlanInput fields of the drains (none without a drain view). */
export function drainInput(v: DrainView | undefined): Pick<PlanInput, 'draining' | 'serverDraining'> {
  return v ? { draining: (serverId, diskId) => v.why(serverId, diskId), serverDraining: (serverId) => v.serverDraining(serverId) } : {};
}

/** The one rule for where new archives may go: an up, not drained server; an online, not drained disk. */
export function takesPlacements(server: Pick<ServerRow, 'serverId' | 'state'>, drains: DrainView): boolean {
  return server.state === 'up' && !drains.serverDraining(server.serverId);
}

export function diskTakesPlacements(disk: Pick<DiskRow, 'serverId' | 'diskId' | 'state'>, drains: DrainView): boolean {
  return disk.state === 'online' && drains.why(disk.serverId, disk.diskId) === undefined;
}

/** Up servers that take new archives (the insufficient-storage indicator). */
export function placeableServers(cluster: Pick<ClusterState, 'listServers' | 'listDisks'>, drains: DrainView): number {
  const disks = cluster.listDisks();
  return cluster.listServers().filter((s) => takesPlacements(s, drains) && disks.some((d) => d.serverId === s.serverId && diskTakesPlacements(d, drains))).length;
}

const META_DRAINS = 'drain.list';
const MAX_REASON = 500;

const drainSchema = z.strictObject({ kind: z.enum(['server', 'disk']), id: z.string().min(1).max(4096), since: z.number().int().nonnegative(), reason: z.string().max(MAX_REASON), completedAt: z.number().int().nonnegative().optional() });
const listSchema = z.array(drainSchema).max(10_000);

export class DrainBook implements DrainView {
  private list: Drain[] = [];

  constructor(private readonly store: Pick<CatalogStore, 'getMeta' | 'setMeta'>, private readonly cluster: Pick<ClusterState, 'server' | 'disk' | 'listDisks'>) {}

  async load(): Promise<void> {
    const saved = await this.store.getMeta(META_DRAINS);
    if (saved === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(saved);
    } catch (err) {
      throw new EcguardError('CATALOG_CORRUPT', `the catalog's drain list (meta ${META_DRAINS}) is not JSON: fix or delete that meta row`, { cause: err });
    }
    const r = listSchema.safeParse(parsed);
    if (!r.success) throw new EcguardError('CATALOG_CORRUPT', `the catalog's drain list (meta ${META_DRAINS}) is malformed: ${r.error.issues[0]?.message ?? 'invalid'}`);
    this.list = r.data;
  }

  drains(): readonly Drain[] {
    return this.list;
  }

  get active(): boolean {
    return this.list.length > 0;
  }

  why(serverId: string, diskId: string): string | undefined {
    for (const d of this.list) {
      if ((d.kind === 'server' && d.id === serverId) || (d.kind === 'disk' && d.id === diskId)) return `${d.kind} ${d.id} is being drained${d.reason ? ` (${d.reason})` : ''}`;
    }
    return undefined;
  }

  serverDraining(serverId: string): boolean {
    return this.list.some((d) => d.kind === 'server' && d.id === serverId);
  }

  /** The disks a drain empties (a server's: every disk the catalog knows of it). */
  disksOf(d: Drain): string[] {
    return d.kind === 'disk' ? [d.id] : this.cluster.listDisks(d.id).map((x) => x.diskId);
  }

  async start(kind: DrainKind, id: string, reason: string, now: number): Promise<{ drain: Drain; created: boolean }> {
    // as for disk downgrade: one line of plain text (it goes into logs, events and tables)
    // eslint-disable-next-line no-control-regex
    if (reason.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(reason)) throw new EcguardError('USAGE', `--reason must be one line of plain text (no control characters) of at most ${MAX_REASON} characters`);
    if (kind === 'server') {
      const s = this.cluster.server(id);
      if (!s) throw new EcguardError('UNKNOWN_SERVER', `no server ${id} in the catalog (see ecguard servers)`);
      if (s.state === 'lost') throw new EcguardError('SERVER_LOST', `server ${id} is declared lost: its archives are already being rebuilt elsewhere; nothing to drain`);
    } else {
      const d = this.cluster.disk(id);
      if (!d) throw new EcguardError('UNKNOWN_DISK', `no disk ${id} in the catalog (see ecguard disks; a disk id is server:path)`);
      if (d.state === 'failed' || d.state === 'missing') throw new EcguardError('DISK_GONE', `disk ${id} is ${d.state}: its archives are already being rebuilt; nothing to drain`);
    }
    const found = this.list.find((d) => d.kind === kind && d.id === id);
    if (found) return { drain: found, created: false };
    const drain: Drain = { kind, id, since: now, reason };
    await this.save([...this.list, drain]);
    return { drain, created: true };
  }

  async stop(kind: DrainKind, id: string): Promise<Drain> {
    const found = this.list.find((d) => d.kind === kind && d.id === id);
    if (!found) throw new EcguardError('NOT_DRAINING', `${kind} ${id} is not being drained (see ecguard drain status)`);
    await this.save(this.list.filter((d) => d !== found));
    return found;
  }

  /** Records that the drain is complete; false when it already was (or is gone). */
  async markCompleted(d: Drain, now: number): Promise<boolean> {
    const found = this.list.find((x) => x.kind === d.kind && x.id === d.id);
    if (!found || found.completedAt !== undefined) return false;
    await this.save(this.list.map((x) => (x === found ? { ...x, completedAt: now } : x)));
    return true;
  }

  /** The event subject of a drain: its server, and its disk for a disk drain. */
  subjectOf(d: Drain): { serverId: string; diskId?: string } {
    return d.kind === 'server' ? { serverId: d.id } : { serverId: this.cluster.disk(d.id)?.serverId ?? d.id.split(':')[0] ?? d.id, diskId: d.id };
  }

  private async save(next: Drain[]): Promise<void> {
    // stored first: a failed write leaves the drains as they were
    await this.store.setMeta(META_DRAINS, JSON.stringify(next));
    this.list = next;
  }
}
