// Archive writes with touched-LFN tracking. Call inside a transaction. Inserting first is the
// cheap path for new archives (one statement); an existing key costs a lookup (its old LFN) and
// an update that only writes when something changed, so a re-sent unchanged record touches no
// LFN and only refreshes its inventory mark. It also keeps the archives per disk
// (disk_archive_counts): beginCounts, the writes, then writeCounts, all in one transaction.
import type Database from 'better-sqlite3';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { ArchiveRemoval } from './catalog-store.js';
import { ARCHIVE_COLUMNS, ARCHIVE_KEY_LENGTH, ARCHIVE_VALUE_COLUMNS, archiveParams } from './sqlite-archive-row.js';

const INSERT = `INSERT INTO archives (${ARCHIVE_COLUMNS.join(', ')}, inv_gen)
  VALUES (${[...ARCHIVE_COLUMNS, 'inv_gen'].map(() => '?').join(', ')})
  ON CONFLICT (server_id, disk_id, data_path) DO NOTHING`;
const FIND = 'SELECT rowid AS id, lfn, inv_gen AS gen FROM archives WHERE server_id = ? AND disk_id = ? AND data_path = ?';
// The new values arrive once, as a one-row subquery (better-sqlite3 takes no ?NNN parameters to
// reuse), and the row is only written when one of them differs.
const UPDATE = `UPDATE archives SET ${ARCHIVE_VALUE_COLUMNS.map((c) => `${c} = n.${c}`).join(', ')}, inv_gen = n.inv_gen
  FROM (SELECT ${[...ARCHIVE_VALUE_COLUMNS, 'inv_gen'].map((c) => `? AS ${c}`).join(', ')}) AS n
  WHERE archives.rowid = ? AND NOT (${ARCHIVE_VALUE_COLUMNS.map((c) => `archives.${c} IS n.${c}`).join(' AND ')})`;
const MARK = 'UPDATE archives SET inv_gen = ? WHERE rowid = ?';
const REMOVE = 'DELETE FROM archives WHERE server_id = ? AND disk_id = ? AND data_path = ? RETURNING lfn';
const SWEEP = `DELETE FROM archives WHERE server_id = ? AND disk_id IN (SELECT value FROM json_each(?)) AND inv_gen < ? RETURNING lfn, disk_id`;
const REMOVE_OLDER = 'DELETE FROM archives WHERE server_id = ? AND disk_id = ? AND data_path = ? AND inv_gen < ? RETURNING lfn';
const COUNT = 'INSERT INTO disk_archive_counts (disk_id, n) VALUES (?, ?) ON CONFLICT (disk_id) DO UPDATE SET n = n + excluded.n';

interface Found {
  id: number;
  lfn: string | null;
  gen: number;
}

export class ArchiveWriter {
  private readonly insert: Database.Statement;
  private readonly find: Database.Statement;
  private readonly update: Database.Statement;
  private readonly mark: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly sweep: Database.Statement;
  private readonly removeOlder: Database.Statement;
  private readonly count: Database.Statement;
  /** Archives added (+) and removed (-) per disk since beginCounts. */
  private counts = new Map<string, number>();

  constructor(db: Database.Database) {
    this.insert = db.prepare(INSERT);
    this.find = db.prepare(FIND);
    this.update = db.prepare(UPDATE);
    this.mark = db.prepare(MARK);
    this.remove = db.prepare(REMOVE).pluck();
    this.sweep = db.prepare(SWEEP).raw();
    this.removeOlder = db.prepare(REMOVE_OLDER).pluck();
    this.count = db.prepare(COUNT);
  }

  /** Starts counting the writes of a transaction (drops what a rolled-back one left). */
  beginCounts(): void {
    this.counts = new Map();
  }

  /** Adds the counted writes to disk_archive_counts: call last, inside the same transaction. */
  writeCounts(): void {
    for (const [diskId, n] of this.counts) if (n !== 0) this.count.run(diskId, n);
    this.counts = new Map();
  }

  private counted(diskId: string, n: number): void {
    this.counts.set(diskId, (this.counts.get(diskId) ?? 0) + n);
  }

  /** Stores `r` under `serverId`, marked with generation `gen`; adds the LFNs it changed to `touched`. */
  upsert(serverId: string, r: ArchiveRecord, gen: number, touched: Set<string>): void {
    const p = archiveParams(serverId, r, gen);
    if (this.insert.run(...p).changes === 1) {
      this.counted(r.diskId, 1);
      if (r.lfn !== undefined) touched.add(r.lfn);
      return;
    }
    const old = this.find.get(serverId, r.diskId, r.dataPath) as Found;
    if (this.update.run(...p.slice(ARCHIVE_KEY_LENGTH), old.id).changes === 1) {
      if (old.lfn !== null) touched.add(old.lfn);
      if (r.lfn !== undefined) touched.add(r.lfn);
    } else if (old.gen < gen) {
      this.mark.run(gen, old.id);
    }
  }

  /** Removes one archive; an unknown one is a no-op. */
  removeOne(serverId: string, diskId: string, dataPath: string, touched: Set<string>): void {
    const lfn = this.remove.get(serverId, diskId, dataPath) as string | null | undefined;
    if (lfn !== undefined) this.counted(diskId, -1);
    if (typeof lfn === 'string') touched.add(lfn);
  }

  /** Drops the server's archives on `diskIds` not (re)written since generation `gen`. */
  /** As sweepOlder, for these archives only (a digest resync's buckets). */
  sweepOlderOf(serverId: string, diskIds: readonly string[], gen: number, keys: readonly ArchiveRemoval[], touched: Set<string>): void {
    const disks = new Set(diskIds);
    for (const k of keys) {
      if (!disks.has(k.diskId)) continue;
      const lfn = this.removeOlder.get(serverId, k.diskId, k.dataPath, gen) as string | null | undefined;
      if (lfn === undefined) continue;
      this.counted(k.diskId, -1);
      if (lfn !== null) touched.add(lfn);
    }
  }

  sweepOlder(serverId: string, diskIds: readonly string[], gen: number, touched: Set<string>): void {
    for (const [lfn, diskId] of this.sweep.all(serverId, JSON.stringify(diskIds), gen) as [string | null, string][]) {
      this.counted(diskId, -1);
      if (lfn !== null) touched.add(lfn);
    }
  }
}
