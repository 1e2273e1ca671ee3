// The repair_tasks table: indexed columns for the queue order and lookups, the rest as JSON (a
// task is read and written whole, and its shape grows with the protocol).
import type Database from 'better-sqlite3';
import { REPAIR_TASK_STATES, type RepairTaskFilter, type RepairTaskRow, type RepairTaskState } from '../../shared/domain/repair-task.js';
import type { StatementCache } from './sqlite-statements.js';
import { eachForLfns, isEmpty } from './sqlite-lfn-batch.js';
import type { ReplacedArchive } from './catalog-types.js';

export const REPAIR_TASKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS repair_tasks (
  task_id TEXT PRIMARY KEY,
  lfn TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN (${REPAIR_TASK_STATES.map((s) => `'${s}'`).join(', ')})),
  redundancy INTEGER NOT NULL,
  degraded_since INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body TEXT NOT NULL
) WITHOUT ROWID;
-- the queue order within a state, and "the task of this file"
CREATE INDEX IF NOT EXISTS repair_tasks_queue ON repair_tasks (state, redundancy, degraded_since, created_at);
CREATE INDEX IF NOT EXISTS repair_tasks_lfn ON repair_tasks (lfn);

CREATE TABLE IF NOT EXISTS replaced_archives (
  server_id TEXT NOT NULL,
  disk_id TEXT NOT NULL,
  data_path TEXT NOT NULL,
  lfn TEXT NOT NULL,
  strpver INTEGER NOT NULL,
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (server_id, disk_id, data_path, strpver)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replaced_archives_lfn ON replaced_archives (lfn);
`;

const UPSERT = `INSERT INTO repair_tasks (task_id, lfn, state, redundancy, degraded_since, created_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (task_id) DO UPDATE SET lfn = excluded.lfn, state = excluded.state, redundancy = excluded.redundancy,
  degraded_since = excluded.degraded_since, updated_at = excluded.updated_at, body = excluded.body`;

const ORDER = 'ORDER BY redundancy, degraded_since, created_at, task_id';

export class ReplacedArchiveTable {
  constructor(private readonly q: StatementCache) {}

  add(rows: readonly ReplacedArchive[]): void {
    const st = this.q.get('INSERT OR IGNORE INTO replaced_archives (server_id, disk_id, data_path, lfn, strpver, task_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const r of rows) st.run(r.serverId, r.diskId, r.dataPath, r.lfn, r.strpver, r.taskId, Math.round(r.at));
  }

  forLfns(lfns: readonly string[]): Map<string, ReplacedArchive[]> {
    const out = new Map<string, ReplacedArchive[]>(lfns.map((l) => [l, []]));
    if (isEmpty(this.q, 'replaced_archives')) return out; // no repair has replaced anything yet
    const sql = (list: string): string => `SELECT server_id, disk_id, data_path, lfn, strpver, task_id, at FROM replaced_archives WHERE lfn IN (${list}) ORDER BY lfn, at, server_id, disk_id, data_path`;
    eachForLfns(this.q, lfns, sql, (row) => {
      const r = row as { server_id: string; disk_id: string; data_path: string; lfn: string; strpver: number; task_id: string; at: number };
      out.get(r.lfn)?.push({ serverId: r.server_id, diskId: r.disk_id, dataPath: r.data_path, lfn: r.lfn, strpver: r.strpver, taskId: r.task_id, at: r.at });
    });
    return out;
  }
}

export class RepairTaskTable {
  constructor(private readonly db: Database.Database, private readonly q: StatementCache) {}

  put(rows: readonly RepairTaskRow[]): void {
    const st = this.q.get(UPSERT);
    for (const r of rows) st.run(r.taskId, r.lfn, r.state, r.redundancy, Math.round(r.degradedSince), Math.round(r.createdAt), Math.round(r.updatedAt), JSON.stringify(r));
  }

  get(taskId: string): RepairTaskRow | undefined {
    const row = this.q.get('SELECT body FROM repair_tasks WHERE task_id = ?').get(taskId) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as RepairTaskRow) : undefined;
  }

  list(f: RepairTaskFilter): RepairTaskRow[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (f.states && f.states.length > 0) {
      where.push(`state IN (${f.states.map(() => '?').join(', ')})`);
      params.push(...f.states);
    }
    if (f.lfn !== undefined) {
      where.push('lfn = ?');
      params.push(f.lfn);
    }
    const limit = f.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(f.limit))}` : '';
    const sql = `SELECT body FROM repair_tasks${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ${ORDER}${limit}`;
    return (this.db.prepare(sql).all(...params) as { body: string }[]).map((r) => JSON.parse(r.body) as RepairTaskRow);
  }

  counts(): Record<RepairTaskState, number> {
    const out = Object.fromEntries(REPAIR_TASK_STATES.map((s) => [s, 0])) as Record<RepairTaskState, number>;
    for (const r of this.q.get('SELECT state, count(*) AS n FROM repair_tasks GROUP BY state').all() as { state: RepairTaskState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Drops finished tasks (done, cancelled) last updated before `before`; returns how many. */
  prune(before: number): number {
    return this.q.get("DELETE FROM repair_tasks WHERE state IN ('done', 'cancelled') AND updated_at < ?").run(Math.round(before)).changes;
  }
}
