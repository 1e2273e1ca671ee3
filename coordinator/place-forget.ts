// `ecguard server forget` and `ecguard disk forget`: a retired server or disk leaves the catalog
// for good (DESIGN.md §5 forget). Only one whose archives no longer count: a server declared
// lost, a disk missing or failed. Its archives already count as gone, so no file's state gets
// worse; the rows go, listings and status stop showing it, and a drain of it ends. If it ever
// reports again it is a new server or disk (full inventory).
import { EcguardError } from '../shared/errors.js';
import { getLogger } from '../shared/logger.js';
import type { ClusterState } from './cluster-state.js';
import type { DrainManager } from './repair/drain-manager.js';

const log = getLogger('coordinator');

export interface ForgetContext {
  readonly cluster: ClusterState;
  connected(serverId: string): boolean;
  reclassify(lfns: readonly string[]): void;
  archiveCountsByDisk(): Promise<Map<string, number>>;
  readonly drain: DrainManager;
  readonly events?: { forgotten(kind: 'server' | 'disk', subject: { serverId: string; diskId?: string }, archives: number, files: number): void };
}

export async function forgetServer(c: ForgetContext, serverId: string): Promise<string> {
  const s = c.cluster.server(serverId);
  if (!s) throw new EcguardError('UNKNOWN_SERVER', `no server ${serverId} in the catalog (see ecguard servers)`);
  if (c.connected(serverId)) throw new EcguardError('SERVER_CONNECTED', `server ${serverId} is connected right now: stop its agent (and retire it) first`);
  if (s.state !== 'lost') throw new EcguardError('SERVER_NOT_LOST', `server ${serverId} is ${s.state}: its archives still count; declare it lost first (ecguard server lost ${serverId}), after draining it if it still holds needed archives (ecguard drain start --server ${serverId})`);
  const disks = c.cluster.listDisks(serverId).map((d) => d.diskId);
  await endDrains(c, [['server', serverId], ...disks.map((d) => ['disk', d] as const)]);
  const archives = await countOn(c, disks);
  const lfns = await c.cluster.forgetServer(serverId);
  c.reclassify(lfns);
  c.events?.forgotten('server', { serverId }, archives, lfns.length);
  log.warn(`server ${serverId} forgotten: ${disks.length} disk(s), ${lfns.length} file(s) reclassified`);
  return `server ${serverId} forgotten: ${disks.length} disk(s) and the archive rows of ${lfns.length} file(s) dropped from the catalog; if it reports again it is a new server`;
}

export async function forgetDisk(c: ForgetContext, diskId: string): Promise<string> {
  const d = c.cluster.disk(diskId);
  if (!d) throw new EcguardError('UNKNOWN_DISK', `no disk ${diskId} in the catalog (see ecguard disks; a disk id is server:path)`);
  if (d.state !== 'missing' && d.state !== 'failed') {
    throw new EcguardError('DISK_PRESENT', `disk ${diskId} is ${d.state}: its archives still count; drain it (ecguard drain start --disk ${diskId}), take it out of xrootd's oss.space and the server, then forget it once it is missing`);
  }
  await endDrains(c, [['disk', diskId]]);
  const archives = await countOn(c, [diskId]);
  const lfns = await c.cluster.forgetDisk(diskId);
  c.reclassify(lfns);
  c.events?.forgotten('disk', { serverId: d.serverId, diskId }, archives, lfns.length);
  log.warn(`disk ${diskId} forgotten: ${lfns.length} file(s) reclassified`);
  const still = c.connected(d.serverId) ? ` If ${d.serverId}'s agent still lists the disk (its xrootd config names it), it reports it again: take it out of oss.space and restart the agent.` : '';
  return `disk ${diskId} forgotten: the archive rows of ${lfns.length} file(s) dropped from the catalog.${still}`;
}

async function endDrains(c: ForgetContext, places: readonly (readonly ['server' | 'disk', string])[]): Promise<void> {
  for (const [kind, id] of places) {
    if (c.drain.book.drains().some((x) => x.kind === kind && x.id === id)) await c.drain.stop(kind, id);
  }
}

async function countOn(c: ForgetContext, diskIds: readonly string[]): Promise<number> {
  const counts = await c.archiveCountsByDisk();
  return diskIds.reduce((n, id) => n + (counts.get(id) ?? 0), 0);
}
