// Repair tasks and replaced archives on PostgreSQL, as sqlite-repair-tasks.ts: indexed columns
// for the queue order and lookups, the task itself as JSON. Writes go as arrays (one statement
// per batch); call them inside a transaction.
import { REPAIR_TASK_STATES, type RepairTaskFilter, type RepairTaskRow, type RepairTaskState } from '../../shared/domain/repair-task.js';
import type { ReplacedArchive } from './catalog-types.js';
import { rounds } from './pg-rounds.js';
import type { Sql } from './pg-session.js';

const UPSERT = `INSERT INTO repair_tasks (task_id, lfn, state, redundancy, degraded_since, created_at, updated_at, body)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
  ON CONFLICT (task_id) DO UPDATE SET lfn = excluded.lfn, state = excluded.state, redundancy = excluded.redundancy,
    degraded_since = excluded.degraded_since, updated_at = excluded.updated_at, body = excluded.body`;

const ORDER = 'ORDER BY redundancy, degraded_since, created_at, task_id';

export async function putRepairTasks(sql: Sql, rows: readonly RepairTaskRow[]): Promise<void> {
  for (const tasks of rounds(rows, (r) => r.taskId)) {
    await sql.run(UPSERT, [
      tasks.map((r) => r.taskId), tasks.map((r) => r.lfn), tasks.map((r) => r.state), tasks.map((r) => r.redundancy),
      tasks.map((r) => Math.round(r.degradedSince)), tasks.map((r) => Math.round(r.createdAt)), tasks.map((r) => Math.round(r.updatedAt)), tasks.map((r) => JSON.stringify(r)),
    ]);
  }
}

export async function getRepairTask(sql: Sql, taskId: string): Promise<RepairTaskRow | undefined> {
  const [row] = await sql.arrays('SELECT body FROM repair_tasks WHERE task_id = $1', [taskId]);
  return row ? (JSON.parse(row[0] as string) as RepairTaskRow) : undefined;
}

export async function listRepairTasks(sql: Sql, f: RepairTaskFilter): Promise<RepairTaskRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.states && f.states.length > 0) {
    params.push([...f.states]);
    where.push(`state = ANY($${params.length}::text[])`);
  }
  if (f.lfn !== undefined) {
    params.push(f.lfn);
    where.push(`lfn = $${params.length}`);
  }
  const limit = f.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(f.limit))}` : '';
  const rows = await sql.arrays(`SELECT body FROM repair_tasks${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ${ORDER}${limit}`, params);
  return rows.map((r) => JSON.parse(r[0] as string) as RepairTaskRow);
}

export async function repairTaskCounts(sql: Sql): Promise<Record<RepairTaskState, number>> {
  const out = Object.fromEntries(REPAIR_TASK_STATES.map((s) => [s, 0])) as Record<RepairTaskState, number>;
  for (const [state, n] of await sql.arrays('SELECT state, count(*) FROM repair_tasks GROUP BY state')) out[state as RepairTaskState] = n as number;
  return out;
}

/** Drops finished tasks (done, cancelled) last updated before `before`; returns how many. */
export function pruneRepairTasks(sql: Sql, before: number): Promise<number> {
  return sql.run("DELETE FROM repair_tasks WHERE state IN ('done', 'cancelled') AND updated_at < $1", [Math.round(before)]);
}

export async function addReplacedArchives(sql: Sql, rows: readonly ReplacedArchive[]): Promise<void> {
  await sql.run(`INSERT INTO replaced_archives (server_id, disk_id, data_path, lfn, strpver, task_id, at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[]) ON CONFLICT DO NOTHING`, [
    rows.map((r) => r.serverId), rows.map((r) => r.diskId), rows.map((r) => r.dataPath), rows.map((r) => r.lfn), rows.map((r) => r.strpver), rows.map((r) => r.taskId), rows.map((r) => Math.round(r.at)),
  ]);
}

export async function replacedFor(sql: Sql, lfns: readonly string[]): Promise<Map<string, ReplacedArchive[]>> {
  const out = new Map<string, ReplacedArchive[]>(lfns.map((l) => [l, []]));
  if (lfns.length === 0) return out;
  const rows = await sql.arrays(`SELECT server_id, disk_id, data_path, lfn, strpver, task_id, at FROM replaced_archives
    WHERE lfn = ANY($1::text[]) ORDER BY lfn, at, server_id, disk_id, data_path`, [[...new Set(lfns)]]);
  for (const [serverId, diskId, dataPath, lfn, strpver, taskId, at] of rows) {
    out.get(lfn as string)?.push({ serverId: serverId as string, diskId: diskId as string, dataPath: dataPath as string, lfn: lfn as string, strpver: strpver as number, taskId: taskId as string, at: at as number });
  }
  return out;
}
