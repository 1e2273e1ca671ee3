// The embedded catalog: CatalogStore on one SQLite file (better-sqlite3, WAL, synchronous=NORMAL).
// better-sqlite3 is synchronous, so each method runs to completion (a batch is one transaction)
// before another can start; the async signatures are for the PostgreSQL store (pg-store.ts).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { FileState } from '../../shared/domain/file-health.js';
import { EcguardError, errnoCode, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import type { ArchiveRemoval, CatalogStore, LfnPage, RoleFilter, StateCount } from './catalog-store.js';
import type { ArchiveRoleRow, ArchiveRow, ArchiveState, DiskRow, FileFilter, FileRow, ReplacedArchive, ServerRow, Tombstone } from './catalog-types.js';
import { ARCHIVE_SELECT, byArchiveKey, rowToArchive, type ArchiveCells } from './sqlite-archive-row.js';
import { archiveStatesOf, updateArchiveRoles } from './sqlite-archive-states.js';
import { ArchiveWriter } from './sqlite-archive-writer.js';
import { fileQuery } from './sqlite-file-query.js';
import { FileWriter } from './sqlite-file-writer.js';
import { eachForLfns, isEmpty } from './sqlite-lfn-batch.js';
import { InventoryTracker } from './sqlite-inventory.js';
import { DISK_UPSERT, FILE_COLUMNS, SERVER_UPSERT, cellsToFile, diskParams, rowToDisk, rowToFile, rowToServer, rowToTombstone, serverParams, type DiskDbRow, type FileDbRow, type ServerDbRow, type TombstoneDbRow } from './sqlite-rows.js';
import { applySchema } from './sqlite-schema.js';
import { RepairTaskTable, ReplacedArchiveTable } from './sqlite-repair-tasks.js';
import type { RepairTaskFilter, RepairTaskRow, RepairTaskState } from '../../shared/domain/repair-task.js';
import { StatementCache } from './sqlite-statements.js';

const log = getLogger('catalog');


// An inventory batch dirties pages all over the archive indexes (tens of thousands per 10k-row
// commit at a million archives). With SQLite's default (a checkpoint once the WAL passes 1000
// pages) every commit was followed by a checkpoint copying all of them back; checkpointing every
// 128 MiB of WAL copies a page dirtied by several batches once. Commits still go to the WAL
// first, so what a commit acknowledged is as durable as before; the WAL file is cut back to that
// size when a checkpoint resets it (by default it would keep its largest size for good).
const WAL_CHECKPOINT_BYTES = 128 * 1024 * 1024;

export interface SqliteCatalogOptions {
  /** SQLite page cache; the archive indexes are written at random places, so a small cache thrashes. */
  readonly cacheMiB?: number;
}

export class SqliteCatalogStore implements CatalogStore {
  private readonly q: StatementCache;
  private readonly archives: ArchiveWriter;
  private readonly files: FileWriter;
  private readonly inventory: InventoryTracker;
  private readonly tasks: RepairTaskTable;
  private readonly replaced: ReplacedArchiveTable;

  constructor(private readonly db: Database.Database) {
    applySchema(db);
    this.q = new StatementCache(db);
    this.archives = new ArchiveWriter(db);
    this.files = new FileWriter(db);
    this.inventory = new InventoryTracker(db, this.q);
    this.tasks = new RepairTaskTable(db, this.q);
    this.replaced = new ReplacedArchiveTable(this.q);
  }

  /**
   * Runs `fn` as one transaction. A malformed row (a constraint violation, or a value SQLite
   * cannot bind) rolls everything back and becomes STORE_REJECTED (DESIGN.md §8.6).
   */
  private tx(what: string, fn: () => void): void {
    try {
      this.db.transaction(fn)();
    } catch (err) {
      if (errnoCode(err)?.startsWith('SQLITE_CONSTRAINT') || err instanceof TypeError || err instanceof RangeError) {
        throw new EcguardError('STORE_REJECTED', `${what} rejected, nothing applied: ${errorText(err)}`, { cause: err });
      }
      throw err;
    }
  }

  // --- servers and disks

  async putServer(row: ServerRow): Promise<void> {
    this.tx(`server ${row.serverId}`, () => this.q.get(SERVER_UPSERT).run(...serverParams(row)));
  }

  async getServer(serverId: string): Promise<ServerRow | undefined> {
    const d = this.q.get('SELECT * FROM servers WHERE server_id = ?').get(serverId) as ServerDbRow | undefined;
    return d === undefined ? undefined : rowToServer(d);
  }

  async listServers(): Promise<ServerRow[]> {
    return (this.q.get('SELECT * FROM servers ORDER BY server_id').all() as ServerDbRow[]).map(rowToServer);
  }

  async putDisk(row: DiskRow): Promise<void> {
    this.tx(`disk ${row.diskId}`, () => this.q.get(DISK_UPSERT).run(...diskParams(row)));
  }

  async getDisk(diskId: string): Promise<DiskRow | undefined> {
    const d = this.q.get('SELECT * FROM disks WHERE disk_id = ?').get(diskId) as DiskDbRow | undefined;
    return d === undefined ? undefined : rowToDisk(d);
  }

  async forgetDisk(diskId: string): Promise<string[]> {
    let lfns: string[] = [];
    this.tx(`forget disk ${diskId}`, () => {
      lfns = this.q.get('SELECT DISTINCT lfn FROM archives WHERE disk_id = ? AND lfn IS NOT NULL ORDER BY lfn').pluck().all(diskId) as string[];
      this.q.get('DELETE FROM archives WHERE disk_id = ?').run(diskId);
      this.q.get('DELETE FROM disk_archive_counts WHERE disk_id = ?').run(diskId);
      this.q.get('DELETE FROM disks WHERE disk_id = ?').run(diskId);
    });
    return lfns;
  }

  async forgetServer(serverId: string): Promise<string[]> {
    let lfns: string[] = [];
    this.tx(`forget server ${serverId}`, () => {
      lfns = this.q.get('SELECT DISTINCT lfn FROM archives WHERE server_id = ? AND lfn IS NOT NULL ORDER BY lfn').pluck().all(serverId) as string[];
      this.q.get('DELETE FROM archives WHERE server_id = ?').run(serverId);
      this.q.get('DELETE FROM disk_archive_counts WHERE disk_id IN (SELECT disk_id FROM disks WHERE server_id = ?)').run(serverId);
      this.q.get('DELETE FROM disks WHERE server_id = ?').run(serverId);
      this.q.get('DELETE FROM servers WHERE server_id = ?').run(serverId);
    });
    return lfns;
  }

  async clearReclassifyPending(kind: 'server' | 'disk', id: string, token: number): Promise<boolean> {
    const sql = kind === 'server' ? 'UPDATE servers SET reclassify_pending = NULL WHERE server_id = ? AND reclassify_pending = ?' : 'UPDATE disks SET reclassify_pending = NULL WHERE disk_id = ? AND reclassify_pending = ?';
    return this.q.get(sql).run(id, token).changes > 0;
  }

  async listDisks(serverId?: string): Promise<DiskRow[]> {
    const rows = serverId === undefined ? this.q.get('SELECT * FROM disks ORDER BY disk_id').all() : this.q.get('SELECT * FROM disks WHERE server_id = ? ORDER BY disk_id').all(serverId);
    return (rows as DiskDbRow[]).map(rowToDisk);
  }

  // --- archives

  async applyArchiveChanges(serverId: string, upserts: readonly ArchiveRecord[], removals: readonly ArchiveRemoval[], appliedSeq?: number): Promise<string[]> {
    this.inventory.checkBatch(serverId, upserts);
    const touched = new Set<string>();
    // Upserts before removals: the arrays carry no order between them, and for a key in both
    // a missing archive (the file looks worse, so it is repaired) beats a phantom one.
    this.tx(`changes of server ${serverId}`, () => {
      const gen = this.inventory.generation;
      this.archives.beginCounts();
      for (const r of upserts) this.archives.upsert(serverId, r, gen, touched);
      for (const x of removals) this.archives.removeOne(serverId, x.diskId, x.dataPath, touched);
      this.archives.writeCounts();
      if (appliedSeq !== undefined) this.q.get('UPDATE servers SET applied_seq = ? WHERE server_id = ?').run(appliedSeq, serverId);
    });
    return [...touched];
  }

  async beginInventory(serverId: string, diskIds: readonly string[]): Promise<void> {
    this.inventory.begin(serverId, diskIds);
  }

  async inventoryBatch(serverId: string, records: readonly ArchiveRecord[]): Promise<string[]> {
    this.inventory.checkBatch(serverId, records);
    this.inventory.requireRunning(serverId);
    const touched = new Set<string>();
    this.tx(`inventory batch of server ${serverId}`, () => {
      const gen = this.inventory.generation;
      this.archives.beginCounts();
      for (const r of records) this.archives.upsert(serverId, r, gen, touched);
      this.archives.writeCounts();
    });
    return [...touched];
  }

  async endInventory(serverId: string, asOfSeq: number, only?: readonly ArchiveRemoval[], keep?: readonly ArchiveRemoval[]): Promise<string[]> {
    const touched = new Set<string>();
    this.db.transaction(() => {
      const { gen, diskIds } = this.inventory.requireRunning(serverId);
      if (keep?.length) {
        const mark = this.q.get('UPDATE archives SET inv_gen = ? WHERE server_id = ? AND disk_id = ? AND data_path = ?');
        for (const k of keep) mark.run(gen, serverId, k.diskId, k.dataPath);
      }
      this.archives.beginCounts();
      if (only) this.archives.sweepOlderOf(serverId, diskIds, gen, only, touched);
      else this.archives.sweepOlder(serverId, diskIds, gen, touched);
      this.archives.writeCounts();
      this.inventory.finish(serverId, asOfSeq);
    })();
    return [...touched];
  }

  async archivesOnDisk(serverId: string, diskId: string, after: string, limit: number): Promise<ArchiveRow[]> {
    const rows = this.q.get(`SELECT ${ARCHIVE_SELECT} FROM archives WHERE server_id = ? AND disk_id = ? AND data_path > ? ORDER BY data_path LIMIT ?`).raw().all(serverId, diskId, after, limit) as ArchiveCells[];
    return rows.map((d) => rowToArchive(d));
  }

  async archivePathsOnDisk(serverId: string, diskId: string, after: string, limit: number): Promise<string[]> {
    return this.q.get('SELECT data_path FROM archives WHERE server_id = ? AND disk_id = ? AND data_path > ? ORDER BY data_path LIMIT ?').pluck().all(serverId, diskId, after, limit) as string[];
  }

  async archivesOf(lfns: readonly string[]): Promise<Map<string, ArchiveRow[]>> {
    const out = new Map<string, ArchiveRow[]>(lfns.map((l) => [l, []]));
    // no ORDER BY: without statistics the planner would walk the key index in order instead
    eachForLfns(this.q, lfns, (list) => `SELECT ${ARCHIVE_SELECT} FROM archives WHERE lfn IN (${list})`, (d) => {
      const a = rowToArchive(d as ArchiveCells);
      out.get(a.lfn as string)?.push(a);
    }, true);
    for (const list of out.values()) if (list.length > 1) list.sort(byArchiveKey);
    return out;
  }

  async archiveStatesOf(lfns: readonly string[]): Promise<Map<string, ArchiveState[]>> {
    return archiveStatesOf(this.q, lfns);
  }

  async lfnsOfArchives(serverId: string, keys: readonly ArchiveRemoval[]): Promise<string[]> {
    const stmt = this.q.get('SELECT lfn FROM archives WHERE server_id = ? AND disk_id = ? AND data_path = ?').pluck();
    const out = new Set<string>();
    for (const k of keys) {
      const lfn = stmt.get(serverId, k.diskId, k.dataPath) as string | null | undefined;
      if (typeof lfn === 'string') out.add(lfn);
    }
    return [...out];
  }

  async lfnsOnDisk(diskId: string): Promise<string[]> {
    return this.q.get('SELECT DISTINCT lfn FROM archives WHERE disk_id = ? AND lfn IS NOT NULL ORDER BY lfn').pluck().all(diskId) as string[];
  }

  async lfnsCountedOnDisk(diskId: string, page: LfnPage = {}): Promise<string[]> {
    const sql = `SELECT DISTINCT lfn FROM archives WHERE disk_id = ? AND lfn IS NOT NULL AND lfn > ? AND (role IS NULL OR role = 'current') ORDER BY lfn${page.limit !== undefined ? ' LIMIT ?' : ''}`;
    const args: unknown[] = [diskId, page.after ?? ''];
    if (page.limit !== undefined) args.push(page.limit);
    return this.q.get(sql).pluck().all(...args) as string[];
  }

  async lfnsOnServer(serverId: string): Promise<string[]> {
    return this.q.get('SELECT DISTINCT lfn FROM archives WHERE server_id = ? AND lfn IS NOT NULL ORDER BY lfn').pluck().all(serverId) as string[];
  }

  async allLfns(): Promise<string[]> {
    // files too: a file whose last archive went away still needs reclassifying
    return this.q.get('SELECT lfn FROM archives WHERE lfn IS NOT NULL UNION SELECT lfn FROM files ORDER BY 1').pluck().all() as string[];
  }

  async unattributedArchives(limit: number): Promise<ArchiveRow[]> {
    const rows = this.q.get(`SELECT ${ARCHIVE_SELECT} FROM archives WHERE lfn IS NULL LIMIT ?`).raw().all(limit) as ArchiveCells[];
    return rows.map((d) => rowToArchive(d)).sort(byArchiveKey);
  }

  // from the counts the archive writer keeps (sqlite-schema.ts), not a scan of the archives
  async archiveCount(): Promise<number> {
    return this.q.get('SELECT coalesce(sum(n), 0) FROM disk_archive_counts').pluck().get() as number;
  }

  async archiveCountsByDisk(): Promise<Map<string, number>> {
    const rows = this.q.get('SELECT disk_id, n FROM disk_archive_counts WHERE n > 0').raw().all() as [string, number][];
    return new Map(rows);
  }

  // --- files and roles

  async putFiles(rows: readonly FileRow[]): Promise<void> {
    // in key order: neighbouring rows share pages (a shuffled batch took half again as long)
    const sorted = [...rows].sort((a, b) => (a.lfn < b.lfn ? -1 : a.lfn > b.lfn ? 1 : 0));
    this.tx('file rows', () => this.files.put(sorted));
  }

  async deleteFiles(lfns: readonly string[]): Promise<void> {
    this.db.transaction(() => this.files.remove(lfns))();
  }

  async getFile(lfn: string): Promise<FileRow | undefined> {
    const d = this.q.get(`SELECT ${FILE_COLUMNS} FROM files WHERE lfn = ?`).get(lfn) as FileDbRow | undefined;
    return d === undefined ? undefined : rowToFile(d);
  }

  async filesOf(lfns: readonly string[]): Promise<Map<string, FileRow>> {
    const out = new Map<string, FileRow>();
    eachForLfns(this.q, lfns, (list) => `SELECT ${FILE_COLUMNS} FROM files WHERE lfn IN (${list})`, (d) => {
      const f = cellsToFile(d as (string | number | null)[]);
      out.set(f.lfn, f);
    }, true);
    return out;
  }

  async listFiles(filter: FileFilter): Promise<FileRow[]> {
    const { sql, params } = fileQuery(filter);
    return (this.q.get(sql).all(...params) as FileDbRow[]).map(rowToFile);
  }

  // kept as file rows are written (sqlite-file-writer.ts), not counted on read
  async fileCounts(): Promise<Record<FileState, StateCount>> {
    return this.files.counts();
  }

  async putArchiveRoles(lfns: readonly string[], rows: readonly ArchiveRoleRow[]): Promise<void> {
    // 'current' is stored as NULL: the bulk of the archives costs no write at all
    const clear = this.q.get('UPDATE archives INDEXED BY archives_roled SET role = NULL, role_reason = NULL WHERE lfn = ? AND role IS NOT NULL');
    const set = this.q.get('UPDATE archives SET role = ?, role_reason = ? WHERE server_id = ? AND disk_id = ? AND data_path = ?');
    this.tx('archive roles', () => {
      for (const lfn of lfns) clear.run(lfn);
      for (const r of rows) if (r.role !== 'current') set.run(r.role, r.reason, r.serverId, r.diskId, r.dataPath);
    });
  }

  async updateArchiveRoles(rows: readonly ArchiveRoleRow[]): Promise<void> {
    if (rows.length > 0) this.tx('archive roles', () => updateArchiveRoles(this.q, rows));
  }

  async listArchiveRoles(roles: readonly ArchiveRoleRow['role'][], limit: number, filter: RoleFilter = {}): Promise<ArchiveRoleRow[]> {
    if (roles.length === 0) return [];
    const others = roles.filter((r) => r !== 'current');
    const where: string[] = [];
    // the role index leaves 'current' out: say so in the query when it is not asked for
    if (others.length > 0) where.push(`(role IN (${others.map(() => '?').join(', ')}) AND role <> 'current')`);
    // a classified current archive has role NULL (an older catalog may say 'current'); its reason is its version
    if (roles.includes('current')) where.push(`(role IS NULL AND lfn IS NOT NULL) OR role = 'current'`);
    const params: (string | number)[] = [...others];
    let narrow = '';
    if (filter.serverId !== undefined) {
      narrow += ' AND server_id = ?';
      params.push(filter.serverId);
    }
    if (filter.lfnPrefix !== undefined) {
      narrow += ' AND substr(lfn, 1, ?) = ?'; // not LIKE: % and _ are ordinary characters in an LFN
      params.push(filter.lfnPrefix.length, filter.lfnPrefix);
    }
    const sql = `SELECT server_id AS serverId, disk_id AS diskId, data_path AS dataPath, coalesce(lfn, '') AS lfn, coalesce(role, 'current') AS role,
      coalesce(role_reason, 'strpver ' || strpver, 'current') AS reason
      FROM archives WHERE (${where.join(' OR ')})${narrow} ORDER BY role, lfn LIMIT ?`;
    return this.q.get(sql).all(...params, limit) as ArchiveRoleRow[];
  }

  // --- tombstones

  async addTombstones(rows: readonly Tombstone[]): Promise<void> {
    const stmt = this.q.get('INSERT OR IGNORE INTO tombstones (lfn, strpver, at, reason) VALUES (?, ?, ?, ?)');
    this.tx('tombstones', () => {
      for (const t of rows) stmt.run(t.lfn, t.strpver ?? null, t.at, t.reason);
    });
  }

  async tombstonesFor(lfns: readonly string[]): Promise<Map<string, Tombstone[]>> {
    const out = new Map<string, Tombstone[]>(lfns.map((l) => [l, []]));
    if (isEmpty(this.q, 'tombstones')) return out; // most catalogs: no probe per LFN at all
    eachForLfns(this.q, lfns, (list) => `SELECT lfn, strpver, at, reason FROM tombstones WHERE lfn IN (${list}) ORDER BY lfn, at, id`, (d) => out.get((d as TombstoneDbRow).lfn)?.push(rowToTombstone(d as TombstoneDbRow)));
    return out;
  }

  // --- misc

  // --- archives a repair replaced

  async addReplacedArchives(rows: readonly ReplacedArchive[]): Promise<void> {
    if (rows.length > 0) this.tx(`${rows.length} replaced archive(s)`, () => this.replaced.add(rows));
  }

  async replacedFor(lfns: readonly string[]): Promise<Map<string, ReplacedArchive[]>> {
    return this.replaced.forLfns(lfns);
  }

  // --- repair tasks

  async putRepairTasks(rows: readonly RepairTaskRow[]): Promise<void> {
    if (rows.length > 0) this.tx(`${rows.length} repair task(s)`, () => this.tasks.put(rows));
  }

  async getRepairTask(taskId: string): Promise<RepairTaskRow | undefined> {
    return this.tasks.get(taskId);
  }

  async listRepairTasks(filter: RepairTaskFilter): Promise<RepairTaskRow[]> {
    return this.tasks.list(filter);
  }

  async repairTaskCounts(): Promise<Record<RepairTaskState, number>> {
    return this.tasks.counts();
  }

  async pruneRepairTasks(before: number): Promise<number> {
    let n = 0;
    this.tx('prune repair tasks', () => {
      n = this.tasks.prune(before);
    });
    return n;
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.q.get('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.q.get('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * Archives (with their roles) and files go; server and disk rows stay (the operator's `lost`
   * and disk history are the coordinator's own), but no server counts as inventoried any more.
   */
  async clearAgentData(): Promise<void> {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM archives; DELETE FROM files; DELETE FROM disk_archive_counts; DELETE FROM file_state_counts;
        UPDATE servers SET applied_seq = 0, inventoried = 0, inventory_gen = NULL, inventory_disks = NULL;`);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating when needed) the catalog in one SQLite file; ':memory:' for tests. */
export function openSqliteCatalog(path: string, options: SqliteCatalogOptions = {}): SqliteCatalogStore {
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_CHECKPOINT_BYTES / (db.pragma('page_size', { simple: true }) as number))}`);
    db.pragma(`journal_size_limit = ${WAL_CHECKPOINT_BYTES}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = -${Math.round((options.cacheMiB ?? 256) * 1024)}`);
    const store = new SqliteCatalogStore(db);
    log.debug('catalog opened', { path });
    return store;
  } catch (err) {
    db?.close();
    if (err instanceof EcguardError) throw err;
    throw new EcguardError('STORE_OPEN', `cannot open the catalog ${path}: ${errorText(err)}`, { cause: err });
  }
}
