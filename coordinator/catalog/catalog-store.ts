// The catalog store interface (Nomad's state/ idea): one contract, implemented on SQLite (the
// embedded default, sqlite-store.ts), PostgreSQL (scale-out, pg-store.ts) and a fault-injecting
// wrapper for tests. All methods are synchronous on SQLite; the interface is async so
// PostgreSQL fits too, where methods still run in call order (pg-call-order.ts).
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { FileState } from '../../shared/domain/file-health.js';
import type { RepairTaskFilter, RepairTaskRow, RepairTaskState } from '../../shared/domain/repair-task.js';
import type { ArchiveRoleRow, ArchiveRow, ArchiveState, DiskRow, FileFilter, FileRow, ReplacedArchive, ServerRow, Tombstone } from './catalog-types.js';

/** Narrows listArchiveRoles in the query itself (before its limit). */
export interface RoleFilter {
  readonly serverId?: string;
  /** LFNs starting with this text. */
  readonly lfnPrefix?: string;
}

export interface ArchiveRemoval {
  readonly diskId: string;
  readonly dataPath: string;
}

export interface StateCount {
  readonly count: number;
  readonly bytes: number;
}

export interface CatalogStore {
  // --- servers and disks
  /**
   * Writes the row. Its reclassifyPending marker is written with it (one row, one transaction);
   * a row without one keeps the stored marker: only clearReclassifyPending removes it.
   */
  putServer(row: ServerRow): Promise<void>;
  getServer(serverId: string): Promise<ServerRow | undefined>;
  listServers(): Promise<ServerRow[]>;
  /** As putServer, markers included. */
  putDisk(row: DiskRow): Promise<void>;
  getDisk(diskId: string): Promise<DiskRow | undefined>;
  listDisks(serverId?: string): Promise<DiskRow[]>;
  /**
   * Forgets a disk for good (`ecguard disk forget`): its row and every archive row on it, in one
   * transaction. Returns the LFNs whose archives went (to reclassify).
   */
  forgetDisk(diskId: string): Promise<string[]>;
  /** Forgets a server, its disks and every archive row of it, in one transaction; returns the LFNs touched. */
  forgetServer(serverId: string): Promise<string[]>;
  /** Removes the row's reclassifyPending marker if it is still `token` (no newer change); true if removed. */
  clearReclassifyPending(kind: 'server' | 'disk', id: string, token: number): Promise<boolean>;

  // --- archives (the cache of what agents hold)
  /**
   * Applies one batch of an agent's changes in one transaction and records `appliedSeq` on the
   * server row (when given). Returns every LFN whose archives changed (old and new LFN of a
   * re-pointed archive), so only those files are reclassified.
   */
  applyArchiveChanges(serverId: string, upserts: readonly ArchiveRecord[], removals: readonly ArchiveRemoval[], appliedSeq?: number): Promise<string[]>;
  /** Starts a full inventory of `diskIds` of a server: archives not re-sent before endInventory are dropped. */
  beginInventory(serverId: string, diskIds: readonly string[]): Promise<void>;
  inventoryBatch(serverId: string, records: readonly ArchiveRecord[]): Promise<string[]>;
  /**
   * Drops what the inventory did not mention; sets appliedSeq and inventoried; returns touched
   * LFNs. With `only` (a digest resync, which re-sent some buckets), only those archives may be
   * dropped, when not re-sent since beginInventory. Archives in `keep` are never dropped: the
   * agent sent them, but the coordinator refused the records, so their old rows stand.
   */
  endInventory(serverId: string, asOfSeq: number, only?: readonly ArchiveRemoval[], keep?: readonly ArchiveRemoval[]): Promise<string[]>;
  /** A page of the server's archives on one disk, in data path order, after `after` (digest resync). */
  archivesOnDisk(serverId: string, diskId: string, after: string, limit: number): Promise<ArchiveRow[]>;
  /** The same page's data paths only (cheaper, for the resync's second pass). */
  archivePathsOnDisk(serverId: string, diskId: string, after: string, limit: number): Promise<string[]>;
  /** Archives of these LFNs, all servers. */
  archivesOf(lfns: readonly string[]): Promise<Map<string, ArchiveRow[]>>;
  /**
   * What classification reads of the archives of these LFNs (every LFN asked has an entry, in
   * archive key order like archivesOf), with each archive's stored role.
   */
  archiveStatesOf(lfns: readonly string[]): Promise<Map<string, ArchiveState[]>>;
  /** LFNs of these archives of a server, as the catalog has them now (before a removal). */
  lfnsOfArchives(serverId: string, keys: readonly ArchiveRemoval[]): Promise<string[]>;
  /** LFNs with an archive on this disk / server. */
  lfnsOnDisk(diskId: string): Promise<string[]>;
  lfnsOnServer(serverId: string): Promise<string[]>;
  /**
   * LFNs with an archive on this disk that counts toward its file (role current, or not
   * classified yet), in order: the files losing the disk damages, answered from the last
   * classification before their states are recomputed.
   */
  lfnsCountedOnDisk(diskId: string, page?: LfnPage): Promise<string[]>;
  /** Every LFN known (for a full reclassification), in order. */
  allLfns(): Promise<string[]>;
  /** Archives no LFN could be given to (no symlink, hostile or missing Pfn). */
  unattributedArchives(limit: number): Promise<ArchiveRow[]>;
  archiveCount(): Promise<number>;
  /** Archives per disk (for metrics). */
  archiveCountsByDisk(): Promise<Map<string, number>>;

  // --- files and archive roles (derived by the health engine)
  putFiles(rows: readonly FileRow[]): Promise<void>;
  deleteFiles(lfns: readonly string[]): Promise<void>;
  getFile(lfn: string): Promise<FileRow | undefined>;
  /** File rows of these LFNs (absent ones are missing from the map). */
  filesOf(lfns: readonly string[]): Promise<Map<string, FileRow>>;
  listFiles(filter: FileFilter): Promise<FileRow[]>;
  fileCounts(): Promise<Record<FileState, StateCount>>;
  /** Replaces the roles of every archive of these LFNs. */
  putArchiveRoles(lfns: readonly string[], rows: readonly ArchiveRoleRow[]): Promise<void>;
  /** Sets the roles of just these archives (one transaction); others keep theirs. */
  updateArchiveRoles(rows: readonly ArchiveRoleRow[]): Promise<void>;
  listArchiveRoles(roles: readonly ArchiveRoleRow['role'][], limit: number, filter?: RoleFilter): Promise<ArchiveRoleRow[]>;

  // --- tombstones (coordinator's own state)
  addTombstones(rows: readonly Tombstone[]): Promise<void>;
  tombstonesFor(lfns: readonly string[]): Promise<Map<string, Tombstone[]>>;

  // --- archives a repair replaced (coordinator's own state, kept like tombstones)
  addReplacedArchives(rows: readonly ReplacedArchive[]): Promise<void>;
  replacedFor(lfns: readonly string[]): Promise<Map<string, ReplacedArchive[]>>;

  // --- repair tasks (coordinator's own state)
  /** Inserts or replaces whole tasks, in one transaction. */
  putRepairTasks(rows: readonly RepairTaskRow[]): Promise<void>;
  getRepairTask(taskId: string): Promise<RepairTaskRow | undefined>;
  /** In queue order: lowest redundancy first, then longest degraded, then oldest. */
  listRepairTasks(filter: RepairTaskFilter): Promise<RepairTaskRow[]>;
  repairTaskCounts(): Promise<Record<RepairTaskState, number>>;
  /** Forgets done and cancelled tasks last updated before `before`. */
  pruneRepairTasks(before: number): Promise<number>;

  // --- misc
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** Forgets everything the agents told (servers' archives, files, roles), keeping tombstones and events. */
  clearAgentData(): Promise<void>;
  close(): Promise<void>;
}

/** A page of an LFN list: LFNs after `after` (in LFN order), at most `limit`. */
export interface LfnPage {
  readonly after?: string;
  readonly limit?: number;
}
