// The scale-out catalog: CatalogStore on PostgreSQL (DESIGN.md §4, §9), with the SQLite store's
// semantics exactly (the store contract in test/coordinator/catalog runs against both). Every
// write method is one transaction; batches go as arrays, one statement per batch. Methods run
// in call order (pg-call-order.ts), as the synchronous SQLite store's do. The store connects on
// first use (or open()): creating it needs no server, so openCatalogStore stays synchronous.
import os from 'node:os';
import pg from 'pg';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { FILE_STATES, type FileState } from '../../shared/domain/file-health.js';
import type { RepairTaskFilter, RepairTaskRow, RepairTaskState } from '../../shared/domain/repair-task.js';
import { EcguardError } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import type { ArchiveRemoval, CatalogStore, LfnPage, RoleFilter, StateCount } from './catalog-store.js';
import type { ArchiveRoleRow, ArchiveRow, ArchiveState, DiskRow, FileFilter, FileRow, ReplacedArchive, ServerRow, Tombstone } from './catalog-types.js';
import { archiveStatesOf, archivesOf, listArchiveRoles } from './pg-archive-reads.js';
import { removeArchives, sweepOlder, sweepOlderOf, upsertArchives } from './pg-archive-writer.js';
import { CallOrder } from './pg-call-order.js';
import { describePgTarget, pgConfig } from './pg-connection.js';
import { pgFileQuery } from './pg-file-query.js';
import { PgInventory } from './pg-inventory.js';
import type { LeaderFence } from './pg-leader-lease.js';
import * as tasks from './pg-repair-tasks.js';
import { rounds } from './pg-rounds.js';
import { applyPgSchema } from './pg-schema.js';
import { PgSession, type Sql } from './pg-session.js';
import { ARCHIVE_SELECT, byArchiveKey, rowToArchive, type ArchiveCells } from './sqlite-archive-row.js';
import { cellsToFile, diskParams, fileParams, rowToDisk, rowToFile, rowToServer, rowToTombstone, serverParams, FILE_COLUMNS, type DiskDbRow, type FileDbRow, type ServerDbRow, type TombstoneDbRow } from './sqlite-rows.js';

const log = getLogger('catalog');

// A row without a reclassify marker keeps the stored one (coalesce): only clearing removes it.
const SERVER_UPSERT = `INSERT INTO servers (server_id, state, since, last_seen, applied_seq, instance_id, inventoried, reclassify_pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (server_id) DO UPDATE SET state = excluded.state, since = excluded.since, last_seen = excluded.last_seen, applied_seq = excluded.applied_seq,
    instance_id = excluded.instance_id, inventoried = excluded.inventoried, reclassify_pending = coalesce(excluded.reclassify_pending, servers.reclassify_pending)`;
const DISK_UPSERT = `INSERT INTO disks (disk_id, server_id, path, space, state, since, uuid, evidence, reclassify_pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (disk_id) DO UPDATE SET server_id = excluded.server_id, path = excluded.path, space = excluded.space, state = excluded.state, since = excluded.since,
    uuid = excluded.uuid, evidence = excluded.evidence, reclassify_pending = coalesce(excluded.reclassify_pending, disks.reclassify_pending)`;
const FILE_TYPES = ['text', 'text', 'int', 'bigint', 'bigint', 'int', 'int', 'text', 'bigint', 'bigint', 'bigint', 'bigint'];
const FILE_UPSERT = `INSERT INTO files (${FILE_COLUMNS}) SELECT * FROM unnest(${FILE_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
  ON CONFLICT (lfn) DO UPDATE SET ${FILE_COLUMNS.split(', ').slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}`;
// set a role on the archives named, current as NULL (the bulk of the archives carries none)
const SET_ROLES = `UPDATE archives a SET role = nullif(x.role, 'current'), role_reason = CASE WHEN x.role = 'current' THEN NULL ELSE x.reason END
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(server_id, disk_id, data_path, role, reason)
  WHERE a.server_id = x.server_id AND a.disk_id = x.disk_id AND a.data_path = x.data_path`;

const columnsOf = (rows: readonly unknown[][], width: number): unknown[][] => Array.from({ length: width }, (_, c) => rows.map((r) => r[c]));
const roleKey = (r: ArchiveRoleRow): string => `${r.serverId}\u0000${r.diskId}\u0000${r.dataPath}`;

export class PgCatalogStore implements CatalogStore {
  private readonly db: PgSession;
  private readonly order = new CallOrder();
  private readonly inventory = new PgInventory();
  private opened: Promise<void> | undefined;
  private closed = false;
  private fence: LeaderFence | undefined;

  constructor(private readonly url: string) {
    const pool = new pg.Pool(pgConfig(url, { applicationName: `ecguard-coordinator ${os.hostname()} ${process.pid}` }));
    // an idle connection the server dropped: the next query gets a new one (or the error)
    pool.on('error', (err) => log.warn(`catalog connection to ${describePgTarget(url)} lost while idle: ${err.message}`));
    this.db = new PgSession(pool, url);
  }

  /** Connects, creates the schema where missing and refuses a newer one. Idempotent; retried after a failure. */
  open(): Promise<void> {
    const opening = (this.opened ??= this.db.tx('catalog schema', async (sql) => {
      await applyPgSchema(sql);
      await this.inventory.load(sql);
    }).then(() => {
      log.debug('catalog opened', { at: describePgTarget(this.url) });
    }, (err: unknown) => {
      this.opened = undefined;
      throw err;
    }));
    return opening;
  }

  /**
   * From now on every write first checks that `fence`'s session still holds the leader lock
   * (pg-leader-lease.ts) and fails with STORE_FENCED, writing nothing, when it does not: a
   * coordinator that lost the lock cannot write beside the one that took over, even in the
   * seconds before it notices.
   */
  setLeaderFence(fence: LeaderFence): void {
    this.fence = fence;
  }

  private read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.order.read(async () => {
      await this.open();
      return this.db.once(fn);
    });
  }

  private write<T>(what: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.order.write(async () => {
      await this.open();
      return this.db.tx(what, async (sql) => {
        if (this.fence) await this.checkFence(sql, this.fence);
        return fn(sql);
      });
    });
  }

  private async checkFence(sql: Sql, f: LeaderFence): Promise<void> {
    const held = await sql.run(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1 AND pid = $2`, [f.key, f.backendPid]);
    if (held === 0) throw new EcguardError('STORE_FENCED', `this coordinator no longer holds the catalog lock at ${describePgTarget(this.url)} (another may be active): write refused`);
  }

  // --- servers and disks

  putServer(row: ServerRow): Promise<void> {
    return this.write(`server ${row.serverId}`, async (sql) => void (await sql.run(SERVER_UPSERT, serverParams(row))));
  }

  async getServer(serverId: string): Promise<ServerRow | undefined> {
    const [d] = await this.read((sql) => sql.rows<ServerDbRow>('SELECT * FROM servers WHERE server_id = $1', [serverId]));
    return d === undefined ? undefined : rowToServer(d);
  }

  async listServers(): Promise<ServerRow[]> {
    return (await this.read((sql) => sql.rows<ServerDbRow>('SELECT * FROM servers ORDER BY server_id'))).map(rowToServer);
  }

  putDisk(row: DiskRow): Promise<void> {
    return this.write(`disk ${row.diskId}`, async (sql) => void (await sql.run(DISK_UPSERT, diskParams(row))));
  }

  forgetDisk(diskId: string): Promise<string[]> {
    return this.write(`forget disk ${diskId}`, async (sql) => {
      // the delete trigger takes the rows off disk_archive_counts; the emptied row goes after
      const rows = await sql.arrays('DELETE FROM archives WHERE disk_id = $1 RETURNING lfn', [diskId]);
      await sql.run('DELETE FROM disk_archive_counts WHERE disk_id = $1', [diskId]);
      await sql.run('DELETE FROM disks WHERE disk_id = $1', [diskId]);
      return lfnsOf(rows);
    });
  }

  forgetServer(serverId: string): Promise<string[]> {
    return this.write(`forget server ${serverId}`, async (sql) => {
      const rows = await sql.arrays('DELETE FROM archives WHERE server_id = $1 RETURNING lfn', [serverId]);
      await sql.run('DELETE FROM disk_archive_counts WHERE disk_id IN (SELECT disk_id FROM disks WHERE server_id = $1)', [serverId]);
      await sql.run('DELETE FROM disks WHERE server_id = $1', [serverId]);
      await sql.run('DELETE FROM servers WHERE server_id = $1', [serverId]);
      return lfnsOf(rows);
    });
  }

  async getDisk(diskId: string): Promise<DiskRow | undefined> {
    const [d] = await this.read((sql) => sql.rows<DiskDbRow>('SELECT * FROM disks WHERE disk_id = $1', [diskId]));
    return d === undefined ? undefined : rowToDisk(d);
  }

  async listDisks(serverId?: string): Promise<DiskRow[]> {
    const rows = await this.read((sql) => (serverId === undefined ? sql.rows<DiskDbRow>('SELECT * FROM disks ORDER BY disk_id') : sql.rows<DiskDbRow>('SELECT * FROM disks WHERE server_id = $1 ORDER BY disk_id', [serverId])));
    return rows.map(rowToDisk);
  }

  clearReclassifyPending(kind: 'server' | 'disk', id: string, token: number): Promise<boolean> {
    const stmt = kind === 'server' ? 'UPDATE servers SET reclassify_pending = NULL WHERE server_id = $1 AND reclassify_pending = $2' : 'UPDATE disks SET reclassify_pending = NULL WHERE disk_id = $1 AND reclassify_pending = $2';
    return this.write('reclassify marker', async (sql) => (await sql.run(stmt, [id, token])) > 0);
  }

  // --- archives

  applyArchiveChanges(serverId: string, upserts: readonly ArchiveRecord[], removals: readonly ArchiveRemoval[], appliedSeq?: number): Promise<string[]> {
    return this.write(`changes of server ${serverId}`, async (sql) => {
      await this.inventory.checkBatch(sql, serverId, upserts);
      const touched = new Set<string>();
      // upserts before removals, as on SQLite: for a key in both, a missing archive beats a phantom one
      await upsertArchives(sql, serverId, upserts, this.inventory.generation, touched);
      await removeArchives(sql, serverId, removals, touched);
      if (appliedSeq !== undefined) await sql.run('UPDATE servers SET applied_seq = $1 WHERE server_id = $2', [appliedSeq, serverId]);
      return [...touched];
    });
  }

  async beginInventory(serverId: string, diskIds: readonly string[]): Promise<void> {
    const gen = await this.write(`inventory of server ${serverId}`, (sql) => this.inventory.begin(sql, serverId, diskIds));
    this.inventory.committed(gen);
  }

  inventoryBatch(serverId: string, records: readonly ArchiveRecord[]): Promise<string[]> {
    return this.write(`inventory batch of server ${serverId}`, async (sql) => {
      await this.inventory.checkBatch(sql, serverId, records);
      await this.inventory.requireRunning(sql, serverId);
      const touched = new Set<string>();
      await upsertArchives(sql, serverId, records, this.inventory.generation, touched);
      return [...touched];
    });
  }

  endInventory(serverId: string, asOfSeq: number, only?: readonly ArchiveRemoval[], keep?: readonly ArchiveRemoval[]): Promise<string[]> {
    return this.write(`end of the inventory of server ${serverId}`, async (sql) => {
      const { gen, diskIds } = await this.inventory.requireRunning(sql, serverId);
      for (let i = 0; i < (keep?.length ?? 0); i += 10_000) {
        const part = (keep as readonly ArchiveRemoval[]).slice(i, i + 10_000);
        await sql.arrays(`UPDATE archives a SET inv_gen = $4 FROM unnest($2::text[], $3::text[]) AS k(disk_id, data_path)
          WHERE a.server_id = $1 AND a.disk_id = k.disk_id AND a.data_path = k.data_path`, [serverId, part.map((k) => k.diskId), part.map((k) => k.dataPath), gen]);
      }
      const touched = new Set<string>();
      if (only) await sweepOlderOf(sql, serverId, diskIds, gen, only, touched);
      else await sweepOlder(sql, serverId, diskIds, gen, touched);
      await this.inventory.finish(sql, serverId, asOfSeq);
      return [...touched];
    });
  }

  async archivesOnDisk(serverId: string, diskId: string, after: string, limit: number): Promise<ArchiveRow[]> {
    const rows = await this.read((sql) => sql.arrays(`SELECT ${ARCHIVE_SELECT} FROM archives WHERE server_id = $1 AND disk_id = $2 AND data_path > $3 ORDER BY data_path LIMIT $4`, [serverId, diskId, after, limit]));
    return rows.map((d) => rowToArchive(d as ArchiveCells));
  }

  async archivePathsOnDisk(serverId: string, diskId: string, after: string, limit: number): Promise<string[]> {
    const rows = await this.read((sql) => sql.arrays('SELECT data_path FROM archives WHERE server_id = $1 AND disk_id = $2 AND data_path > $3 ORDER BY data_path LIMIT $4', [serverId, diskId, after, limit]));
    return rows.map((r) => r[0] as string);
  }

  archivesOf(lfns: readonly string[]): Promise<Map<string, ArchiveRow[]>> {
    return this.read((sql) => archivesOf(sql, lfns));
  }

  archiveStatesOf(lfns: readonly string[]): Promise<Map<string, ArchiveState[]>> {
    return this.read((sql) => archiveStatesOf(sql, lfns));
  }

  async lfnsOfArchives(serverId: string, keys: readonly ArchiveRemoval[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.read((sql) => sql.arrays(`SELECT a.lfn FROM archives a JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(disk_id, data_path, ord)
      ON a.server_id = $1 AND a.disk_id = k.disk_id AND a.data_path = k.data_path WHERE a.lfn IS NOT NULL ORDER BY k.ord`, [serverId, keys.map((k) => k.diskId), keys.map((k) => k.dataPath)]));
    return [...new Set(rows.map((r) => r[0] as string))];
  }

  lfnsOnDisk(diskId: string): Promise<string[]> {
    return this.lfnList('SELECT DISTINCT lfn FROM archives WHERE disk_id = $1 AND lfn IS NOT NULL ORDER BY lfn', [diskId]);
  }

  lfnsCountedOnDisk(diskId: string, page: LfnPage = {}): Promise<string[]> {
    const limit = page.limit !== undefined ? ' LIMIT $3' : '';
    return this.lfnList(`SELECT DISTINCT lfn FROM archives WHERE disk_id = $1 AND lfn IS NOT NULL AND lfn > $2 AND (role IS NULL OR role = 'current') ORDER BY lfn${limit}`, page.limit !== undefined ? [diskId, page.after ?? '', page.limit] : [diskId, page.after ?? '']);
  }

  lfnsOnServer(serverId: string): Promise<string[]> {
    return this.lfnList('SELECT DISTINCT lfn FROM archives WHERE server_id = $1 AND lfn IS NOT NULL ORDER BY lfn', [serverId]);
  }

  allLfns(): Promise<string[]> {
    // files too: a file whose last archive went away still needs reclassifying
    return this.lfnList('SELECT lfn FROM archives WHERE lfn IS NOT NULL UNION SELECT lfn FROM files ORDER BY 1', []);
  }

  private async lfnList(stmt: string, params: unknown[]): Promise<string[]> {
    return (await this.read((sql) => sql.arrays(stmt, params))).map((r) => r[0] as string);
  }

  async unattributedArchives(limit: number): Promise<ArchiveRow[]> {
    const rows = await this.read((sql) => sql.arrays(`SELECT ${ARCHIVE_SELECT} FROM archives WHERE lfn IS NULL LIMIT $1`, [limit]));
    return rows.map((d) => rowToArchive(d as ArchiveCells)).sort(byArchiveKey);
  }

  // from the trigger-kept counts (pg-schema.ts), not a count of the archives
  async archiveCount(): Promise<number> {
    return Number((await this.read((sql) => sql.arrays('SELECT coalesce(sum(n), 0) FROM disk_archive_counts')))[0]?.[0] ?? 0);
  }

  async archiveCountsByDisk(): Promise<Map<string, number>> {
    return new Map(((await this.read((sql) => sql.arrays('SELECT disk_id, n FROM disk_archive_counts WHERE n > 0'))) as [string, number | string][]).map(([d, n]) => [d, Number(n)]));
  }

  // --- files and roles

  putFiles(rows: readonly FileRow[]): Promise<void> {
    return this.write('file rows', async (sql) => {
      for (const round of rounds(rows, (f) => f.lfn)) await sql.run(FILE_UPSERT, columnsOf(round.map(fileParams), FILE_TYPES.length));
    });
  }

  deleteFiles(lfns: readonly string[]): Promise<void> {
    return this.write('file deletions', async (sql) => void (lfns.length > 0 && (await sql.run('DELETE FROM files WHERE lfn = ANY($1::text[])', [[...lfns]]))));
  }

  async getFile(lfn: string): Promise<FileRow | undefined> {
    const [d] = await this.read((sql) => sql.rows<FileDbRow>(`SELECT ${FILE_COLUMNS} FROM files WHERE lfn = $1`, [lfn]));
    return d === undefined ? undefined : rowToFile(d);
  }

  async filesOf(lfns: readonly string[]): Promise<Map<string, FileRow>> {
    const out = new Map<string, FileRow>();
    if (lfns.length === 0) return out;
    for (const d of await this.read((sql) => sql.arrays(`SELECT ${FILE_COLUMNS} FROM files WHERE lfn = ANY($1::text[])`, [[...new Set(lfns)]]))) {
      const f = cellsToFile(d as (string | number | null)[]);
      out.set(f.lfn, f);
    }
    return out;
  }

  async listFiles(filter: FileFilter): Promise<FileRow[]> {
    const { sql: stmt, params } = pgFileQuery(filter);
    return (await this.read((sql) => sql.rows<FileDbRow>(stmt, params))).map(rowToFile);
  }

  async fileCounts(): Promise<Record<FileState, StateCount>> {
    const out = Object.fromEntries(FILE_STATES.map((s) => [s, { count: 0, bytes: 0 }])) as Record<FileState, StateCount>;
    // kept by triggers (pg-schema.ts), not counted on read
    for (const [state, count, bytes] of await this.read((sql) => sql.arrays('SELECT state, n, bytes FROM file_state_counts'))) {
      if (state as string in out) out[state as FileState] = { count: Number(count), bytes: Number(bytes) };
    }
    return out;
  }

  putArchiveRoles(lfns: readonly string[], rows: readonly ArchiveRoleRow[]): Promise<void> {
    return this.write('archive roles', async (sql) => {
      if (lfns.length > 0) await sql.run('UPDATE archives SET role = NULL, role_reason = NULL WHERE lfn = ANY($1::text[]) AND role IS NOT NULL', [[...new Set(lfns)]]);
      await this.setRoles(sql, rows.filter((r) => r.role !== 'current'));
    });
  }

  updateArchiveRoles(rows: readonly ArchiveRoleRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.write('archive roles', (sql) => this.setRoles(sql, rows));
  }

  /** UPDATE … FROM takes one of several rows for a key: the last named wins, as statement by statement. */
  private async setRoles(sql: Sql, rows: readonly ArchiveRoleRow[]): Promise<void> {
    const last = [...new Map(rows.map((r) => [roleKey(r), r])).values()];
    if (last.length > 0) await sql.run(SET_ROLES, [last.map((r) => r.serverId), last.map((r) => r.diskId), last.map((r) => r.dataPath), last.map((r) => r.role), last.map((r) => r.reason)]);
  }

  listArchiveRoles(roles: readonly ArchiveRoleRow['role'][], limit: number, filter?: RoleFilter): Promise<ArchiveRoleRow[]> {
    return this.read((sql) => listArchiveRoles(sql, roles, limit, filter));
  }

  // --- tombstones and replaced archives

  addTombstones(rows: readonly Tombstone[]): Promise<void> {
    return this.write('tombstones', async (sql) => {
      if (rows.length > 0) await sql.run('INSERT INTO tombstones (lfn, strpver, at, reason) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) ON CONFLICT DO NOTHING',
        [rows.map((t) => t.lfn), rows.map((t) => t.strpver ?? null), rows.map((t) => t.at), rows.map((t) => t.reason)]);
    });
  }

  async tombstonesFor(lfns: readonly string[]): Promise<Map<string, Tombstone[]>> {
    const out = new Map<string, Tombstone[]>(lfns.map((l) => [l, []]));
    if (out.size === 0) return out;
    const rows = await this.read((sql) => sql.rows<TombstoneDbRow>('SELECT lfn, strpver, at, reason FROM tombstones WHERE lfn = ANY($1::text[]) ORDER BY lfn, at, id', [[...out.keys()]]));
    for (const d of rows) out.get(d.lfn)?.push(rowToTombstone(d));
    return out;
  }

  addReplacedArchives(rows: readonly ReplacedArchive[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.write(`${rows.length} replaced archive(s)`, (sql) => tasks.addReplacedArchives(sql, rows));
  }

  replacedFor(lfns: readonly string[]): Promise<Map<string, ReplacedArchive[]>> {
    return this.read((sql) => tasks.replacedFor(sql, lfns));
  }

  // --- repair tasks

  putRepairTasks(rows: readonly RepairTaskRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.write(`${rows.length} repair task(s)`, (sql) => tasks.putRepairTasks(sql, rows));
  }

  getRepairTask(taskId: string): Promise<RepairTaskRow | undefined> {
    return this.read((sql) => tasks.getRepairTask(sql, taskId));
  }

  listRepairTasks(filter: RepairTaskFilter): Promise<RepairTaskRow[]> {
    return this.read((sql) => tasks.listRepairTasks(sql, filter));
  }

  repairTaskCounts(): Promise<Record<RepairTaskState, number>> {
    return this.read((sql) => tasks.repairTaskCounts(sql));
  }

  pruneRepairTasks(before: number): Promise<number> {
    return this.write('prune repair tasks', (sql) => tasks.pruneRepairTasks(sql, before));
  }

  // --- misc

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.read((sql) => sql.arrays('SELECT value FROM meta WHERE key = $1', [key]));
    return row?.[0] as string | undefined;
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.write(`meta ${key}`, async (sql) => void (await sql.run('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value])));
  }

  /** As on SQLite: archives (with roles) and files go; servers and disks stay, none inventoried. */
  clearAgentData(): Promise<void> {
    return this.write('clear agent data', async (sql) => {
      await sql.run('TRUNCATE archives, files, disk_archive_counts, file_state_counts'); // TRUNCATE fires no delete trigger
      await sql.run('UPDATE servers SET applied_seq = 0, inventoried = 0, inventory_gen = NULL, inventory_disks = NULL');
    });
  }

  /** Waits for every call made so far, then closes the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.order.idle();
    await this.db.pool.end();
  }
}

/** The distinct, sorted, non-null LFNs of `RETURNING lfn` rows. */
function lfnsOf(rows: readonly unknown[][]): string[] {
  return [...new Set(rows.map((r) => r[0]).filter((l): l is string => typeof l === 'string'))].sort();
}
