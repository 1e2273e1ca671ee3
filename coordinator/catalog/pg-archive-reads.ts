// Archive reads on PostgreSQL: many LFNs in one statement (`lfn = ANY($1)`: one array
// parameter, where SQLite needed IN lists in chunks), rows as arrays, each list sorted into
// archive key order in JS as the SQLite store does.
import type { ParseStatus } from '../../shared/domain/archive-record.js';
import type { ArchiveRole } from '../../shared/domain/file-health.js';
import type { ArchiveRoleRow, ArchiveRow, ArchiveState } from './catalog-types.js';
import type { RoleFilter } from './catalog-store.js';
import type { Cell, Sql } from './pg-session.js';
import { ARCHIVE_SELECT, byArchiveKey, rowToArchive, type ArchiveCells } from './sqlite-archive-row.js';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: ArchiveState, b: ArchiveState): number => cmp(a.serverId, b.serverId) || cmp(a.diskId, b.diskId) || cmp(a.dataPath, b.dataPath);

/** Archives of these LFNs (every LFN asked has an entry), each list in key order. */
export async function archivesOf(sql: Sql, lfns: readonly string[]): Promise<Map<string, ArchiveRow[]>> {
  const out = new Map<string, ArchiveRow[]>(lfns.map((l) => [l, []]));
  if (out.size === 0) return out;
  for (const d of await sql.arrays(`SELECT ${ARCHIVE_SELECT} FROM archives WHERE lfn = ANY($1::text[])`, [[...out.keys()]])) {
    const a = rowToArchive(d as ArchiveCells);
    out.get(a.lfn as string)?.push(a);
  }
  for (const list of out.values()) if (list.length > 1) list.sort(byArchiveKey);
  return out;
}

const STATE_SELECT = 'lfn, server_id, disk_id, data_path, mtime_ms, strpver, filesize, nblocks, cd_digest, regular, parse_status, stripe_map, parse_error, role, role_reason';

function cellsToState(d: readonly Cell[]): ArchiveState {
  const r: { -readonly [K in keyof ArchiveState]: ArchiveState[K] } = {
    lfn: d[0] as string,
    serverId: d[1] as string,
    diskId: d[2] as string,
    dataPath: d[3] as string,
    mtimeMs: d[4] as number,
    nblocks: d[7] as number,
    regular: d[9] === 1,
    parseStatus: d[10] as ParseStatus,
  };
  if (d[5] !== null) r.strpver = d[5] as number;
  if (d[6] !== null) r.filesize = d[6] as number;
  if (d[8] !== null) r.cdDigest = d[8] as string;
  if (d[11] !== null) r.stripeMap = JSON.parse(d[11] as string) as Record<number, number[]>;
  if (d[12] !== null) r.parseError = d[12] as string;
  if (d[13] !== null) r.role = d[13] as ArchiveRole;
  if (d[14] !== null) r.roleReason = d[14] as string;
  return r;
}

/** What classification reads of the archives of these LFNs, with stored roles, in key order. */
export async function archiveStatesOf(sql: Sql, lfns: readonly string[]): Promise<Map<string, ArchiveState[]>> {
  const out = new Map<string, ArchiveState[]>(lfns.map((l) => [l, []]));
  if (out.size === 0) return out;
  for (const d of await sql.arrays(`SELECT ${STATE_SELECT} FROM archives WHERE lfn = ANY($1::text[])`, [[...out.keys()]])) {
    const a = cellsToState(d);
    out.get(a.lfn as string)?.push(a);
  }
  for (const list of out.values()) if (list.length > 1) list.sort(byKey);
  return out;
}

/** Archives with one of these roles; a current archive is stored as role NULL (or 'current' by older writers). */
export async function listArchiveRoles(sql: Sql, roles: readonly ArchiveRoleRow['role'][], limit: number, filter: RoleFilter = {}): Promise<ArchiveRoleRow[]> {
  if (roles.length === 0) return [];
  const others = roles.filter((r) => r !== 'current');
  const where: string[] = [];
  const params: unknown[] = [limit];
  // the role index leaves 'current' out: say so in the query when it is not asked for
  if (others.length > 0) {
    params.push(others);
    where.push(`(role = ANY($${params.length}::text[]) AND role <> 'current')`);
  }
  if (roles.includes('current')) where.push(`(role IS NULL AND lfn IS NOT NULL) OR role = 'current'`);
  let narrow = '';
  if (filter.serverId !== undefined) {
    params.push(filter.serverId);
    narrow += ` AND server_id = $${params.length}`;
  }
  if (filter.lfnPrefix !== undefined) {
    params.push(filter.lfnPrefix);
    narrow += ` AND starts_with(lfn, $${params.length})`; // not LIKE: % and _ are ordinary characters in an LFN
  }
  const rows = await sql.arrays(`SELECT server_id, disk_id, data_path, coalesce(lfn, '') AS lfn, coalesce(role, 'current') AS role,
      coalesce(role_reason, 'strpver ' || strpver, 'current') AS reason
    FROM archives WHERE (${where.join(' OR ')})${narrow} ORDER BY coalesce(role, 'current'), coalesce(lfn, '') LIMIT $1`, params);
  return rows.map(([serverId, diskId, dataPath, lfn, role, reason]) => ({ serverId: serverId as string, diskId: diskId as string, dataPath: dataPath as string, lfn: lfn as string, role: role as ArchiveRole, reason: reason as string }));
}
