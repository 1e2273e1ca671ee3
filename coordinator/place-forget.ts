// `ecguard server forget` and `ecguard disk forget`: a retired server or disk leaves the catalog
// for good (DESIGN.md §5 forget). Only one whose archives no longer count: a server declared
// lost, a disk missing or failed. Its archives already count as gone, so no file's state gets
// worse; the rows go, listings and status stop showing it, and a drain of it ends. If it ever
// reports again it is a new server or disk (full inventory).
import { EcguardError } from '../shared/errors.js';
import { getLogger } from '../shared/logger.js';
import type { ClusterState } from './cluster-state.js';
import type { CatalogStore } from './catalog/catalog-store.js';
import type { ArchiveRow } from './catalog/catalog-types.js';
import type { Drain, DrainKind } from './repair/drain-book.js';

const log = getLogger('coordinator');

export interface ForgetContext {
  readonly cluster: ClusterState;
  readonly store: Pick<CatalogStore, 'filesOf' | 'archivesOf' | 'lfnsOnServer' | 'lfnsOnDisk' | 'archiveCountsByDisk'>;
  connected(serverId: string): boolean;
  reclassify(lfns: readonly string[]): void;
  readonly drains: { drains(): readonly Drain[]; stop(kind: DrainKind, id: string): Promise<string> };
  readonly events?: { forgotten(kind: 'server' | 'disk', subject: { serverId: string; diskId?: string }, archives: number, files: number): void };
}

export async function forgetServer(c: ForgetContext, serverId: string): Promise<string> {
  const s = c.cluster.server(serverId);
  if (!s) throw new EcguardError('UNKNOWN_SERVER', `no server ${serverId} in the catalog (see ecguard servers)`);
  if (c.connected(serverId)) throw new EcguardError('SERVER_CONNECTED', `server ${serverId} is connected right now: stop its agent (and retire it) first`);
  if (s.state !== 'lost') throw new EcguardError('SERVER_NOT_LOST', `server ${serverId} is ${s.state}: its archives still count; declare it lost first (ecguard server lost ${serverId}), after draining it if it still holds needed archives (ecguard drain start --server ${serverId})`);
  const disks = c.cluster.listDisks(serverId).map((d) => d.diskId);
  await refuseLastArchives(c, `server ${serverId}`, await c.store.lfnsOnServer(serverId), (a) => a.serverId === serverId);
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
  await refuseLastArchives(c, `disk ${diskId}`, await c.store.lfnsOnDisk(diskId), (a) => a.diskId === diskId);
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
    if (c.drains.drains().some((x) => x.kind === kind && x.id === id)) await c.drains.stop(kind, id);
  }
}

/**
 * Refuses when the place holds the last archives of some file's newest version: without their
 * rows the file would look deleted (or an older version current), not lost.
 */
async function refuseLastArchives(c: ForgetContext, what: string, lfns: readonly string[], there: (a: ArchiveRow) => boolean): Promise<void> {
  const last: string[] = [];
  for (let i = 0; i < lfns.length; i += 1000) {
    const part = lfns.slice(i, i + 1000);
    const files = await c.store.filesOf(part);
    const archives = await c.store.archivesOf(part);
    for (const lfn of part) {
      const latest = files.get(lfn)?.latestStrpver;
      if (latest === undefined) continue;
      if (!(archives.get(lfn) ?? []).some((a) => !there(a) && a.strpver === latest)) last.push(lfn);
    }
  }
  if (last.length > 0) {
    throw new EcguardError('LAST_ARCHIVES', `${what} holds the last archives of the newest version of ${last.length} file(s) (${last.slice(0, 5).join(', ')}${last.length > 5 ? ', …' : ''}): forgetting them would make those files look deleted, not lost. Bring it back, or remove those files through xrootd if they are gone for good (ecguard files --state lost lists them), then forget it`);
  }
}

async function countOn(c: ForgetContext, diskIds: readonly string[]): Promise<number> {
  const counts = await c.store.archiveCountsByDisk();
  return diskIds.reduce((n, id) => n + (counts.get(id) ?? 0), 0);
}
