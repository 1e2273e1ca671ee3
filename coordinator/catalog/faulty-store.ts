// A CatalogStore wrapper for tests: makes chosen methods fail or stall, and counts calls.
// Injected failures are EcguardError code STORE_FAULT unless the test passes its own error, so
// a test can tell an injected fault from a real one. A failure 'after' runs the wrapped method
// first (the write happened, the caller never heard): what a crash after commit looks like.
import { setTimeout as sleep } from 'node:timers/promises';
import { EcguardError } from '../../shared/errors.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { RepairTaskFilter, RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { ArchiveRemoval, CatalogStore, LfnPage, RoleFilter } from './catalog-store.js';
import type { ArchiveRoleRow, DiskRow, FileFilter, FileRow, ReplacedArchive, ServerRow, Tombstone } from './catalog-types.js';

export type StoreMethod = keyof CatalogStore;

export type FaultWhen = 'before' | 'after';

interface Fault {
  readonly error?: Error;
  readonly when: FaultWhen;
}

export class FaultyCatalogStore implements CatalogStore {
  private readonly once = new Map<StoreMethod, Fault[]>();
  private readonly always = new Map<StoreMethod, Fault>();
  private readonly delays = new Map<StoreMethod, number>();
  private readonly counts = new Map<StoreMethod, number>();

  constructor(readonly inner: CatalogStore) {}

  /** The next call of `method` fails (queued: call twice to fail the next two calls). */
  failNext(method: StoreMethod, error?: Error, when: FaultWhen = 'before'): this {
    const q = this.once.get(method) ?? [];
    q.push(error === undefined ? { when } : { error, when });
    this.once.set(method, q);
    return this;
  }

  /** Every call of `method` fails until heal(). */
  failAlways(method: StoreMethod, error?: Error, when: FaultWhen = 'before'): this {
    this.always.set(method, error === undefined ? { when } : { error, when });
    return this;
  }

  /** Every call of `method` waits `ms` first, until heal(). */
  delay(method: StoreMethod, ms: number): this {
    this.delays.set(method, ms);
    return this;
  }

  /** Removes every fault and delay (call counts stay). */
  heal(): this {
    this.once.clear();
    this.always.clear();
    this.delays.clear();
    return this;
  }

  /** Calls of `method` so far (failed ones included). */
  calls(method: StoreMethod): number {
    return this.counts.get(method) ?? 0;
  }

  resetCounts(): void {
    this.counts.clear();
  }

  private async call<T>(method: StoreMethod, run: () => Promise<T>): Promise<T> {
    this.counts.set(method, this.calls(method) + 1);
    const ms = this.delays.get(method);
    if (ms !== undefined) await sleep(ms);
    const fault = this.once.get(method)?.shift() ?? this.always.get(method);
    if (fault === undefined) return run();
    if (fault.when === 'after') await run();
    throw fault.error ?? new EcguardError('STORE_FAULT', `injected fault: ${method} ${fault.when === 'after' ? 'applied, then ' : ''}failed`);
  }

  // --- the wrapped interface
  putServer(row: ServerRow) { return this.call('putServer', () => this.inner.putServer(row)); }
  getServer(serverId: string) { return this.call('getServer', () => this.inner.getServer(serverId)); }
  listServers() { return this.call('listServers', () => this.inner.listServers()); }
  putDisk(row: DiskRow) { return this.call('putDisk', () => this.inner.putDisk(row)); }
  getDisk(diskId: string) { return this.call('getDisk', () => this.inner.getDisk(diskId)); }
  listDisks(serverId?: string) { return this.call('listDisks', () => this.inner.listDisks(serverId)); }
  clearReclassifyPending(kind: 'server' | 'disk', id: string, token: number) { return this.call('clearReclassifyPending', () => this.inner.clearReclassifyPending(kind, id, token)); }
  applyArchiveChanges(serverId: string, upserts: readonly ArchiveRecord[], removals: readonly ArchiveRemoval[], appliedSeq?: number) {
    return this.call('applyArchiveChanges', () => this.inner.applyArchiveChanges(serverId, upserts, removals, appliedSeq));
  }
  beginInventory(serverId: string, diskIds: readonly string[]) { return this.call('beginInventory', () => this.inner.beginInventory(serverId, diskIds)); }
  inventoryBatch(serverId: string, records: readonly ArchiveRecord[]) { return this.call('inventoryBatch', () => this.inner.inventoryBatch(serverId, records)); }
  endInventory(serverId: string, asOfSeq: number, only?: readonly ArchiveRemoval[], keep?: readonly ArchiveRemoval[]) { return this.call('endInventory', () => this.inner.endInventory(serverId, asOfSeq, only, keep)); }
  archivesOnDisk(serverId: string, diskId: string, after: string, limit: number) { return this.call('archivesOnDisk', () => this.inner.archivesOnDisk(serverId, diskId, after, limit)); }
  archivePathsOnDisk(serverId: string, diskId: string, after: string, limit: number) { return this.call('archivePathsOnDisk', () => this.inner.archivePathsOnDisk(serverId, diskId, after, limit)); }
  archivesOf(lfns: readonly string[]) { return this.call('archivesOf', () => this.inner.archivesOf(lfns)); }
  archiveStatesOf(lfns: readonly string[]) { return this.call('archiveStatesOf', () => this.inner.archiveStatesOf(lfns)); }
  lfnsOfArchives(serverId: string, keys: readonly ArchiveRemoval[]) { return this.call('lfnsOfArchives', () => this.inner.lfnsOfArchives(serverId, keys)); }
  lfnsOnDisk(diskId: string) { return this.call('lfnsOnDisk', () => this.inner.lfnsOnDisk(diskId)); }
  lfnsOnServer(serverId: string) { return this.call('lfnsOnServer', () => this.inner.lfnsOnServer(serverId)); }
  lfnsCountedOnDisk(diskId: string, page?: LfnPage) { return this.call('lfnsCountedOnDisk', () => this.inner.lfnsCountedOnDisk(diskId, page)); }
  forgetDisk(diskId: string) { return this.call('forgetDisk', () => this.inner.forgetDisk(diskId)); }
  forgetServer(serverId: string) { return this.call('forgetServer', () => this.inner.forgetServer(serverId)); }
  allLfns() { return this.call('allLfns', () => this.inner.allLfns()); }
  unattributedArchives(limit: number) { return this.call('unattributedArchives', () => this.inner.unattributedArchives(limit)); }
  archiveCount() { return this.call('archiveCount', () => this.inner.archiveCount()); }
  archiveCountsByDisk() { return this.call('archiveCountsByDisk', () => this.inner.archiveCountsByDisk()); }
  putFiles(rows: readonly FileRow[]) { return this.call('putFiles', () => this.inner.putFiles(rows)); }
  deleteFiles(lfns: readonly string[]) { return this.call('deleteFiles', () => this.inner.deleteFiles(lfns)); }
  getFile(lfn: string) { return this.call('getFile', () => this.inner.getFile(lfn)); }
  filesOf(lfns: readonly string[]) { return this.call('filesOf', () => this.inner.filesOf(lfns)); }
  listFiles(filter: FileFilter) { return this.call('listFiles', () => this.inner.listFiles(filter)); }
  fileCounts() { return this.call('fileCounts', () => this.inner.fileCounts()); }
  putArchiveRoles(lfns: readonly string[], rows: readonly ArchiveRoleRow[]) { return this.call('putArchiveRoles', () => this.inner.putArchiveRoles(lfns, rows)); }
  updateArchiveRoles(rows: readonly ArchiveRoleRow[]) { return this.call('updateArchiveRoles', () => this.inner.updateArchiveRoles(rows)); }
  listArchiveRoles(roles: readonly ArchiveRoleRow['role'][], limit: number, filter?: RoleFilter) { return this.call('listArchiveRoles', () => this.inner.listArchiveRoles(roles, limit, filter)); }
  addTombstones(rows: readonly Tombstone[]) { return this.call('addTombstones', () => this.inner.addTombstones(rows)); }
  tombstonesFor(lfns: readonly string[]) { return this.call('tombstonesFor', () => this.inner.tombstonesFor(lfns)); }
  addReplacedArchives(rows: readonly ReplacedArchive[]) { return this.call('addReplacedArchives', () => this.inner.addReplacedArchives(rows)); }
  replacedFor(lfns: readonly string[]) { return this.call('replacedFor', () => this.inner.replacedFor(lfns)); }
  putRepairTasks(rows: readonly RepairTaskRow[]) { return this.call('putRepairTasks', () => this.inner.putRepairTasks(rows)); }
  getRepairTask(taskId: string) { return this.call('getRepairTask', () => this.inner.getRepairTask(taskId)); }
  listRepairTasks(filter: RepairTaskFilter) { return this.call('listRepairTasks', () => this.inner.listRepairTasks(filter)); }
  repairTaskCounts() { return this.call('repairTaskCounts', () => this.inner.repairTaskCounts()); }
  pruneRepairTasks(before: number) { return this.call('pruneRepairTasks', () => this.inner.pruneRepairTasks(before)); }
  getMeta(key: string) { return this.call('getMeta', () => this.inner.getMeta(key)); }
  setMeta(key: string, value: string) { return this.call('setMeta', () => this.inner.setMeta(key, value)); }
  clearAgentData() { return this.call('clearAgentData', () => this.inner.clearAgentData()); }
  close() { return this.call('close', () => this.inner.close()); }
}
