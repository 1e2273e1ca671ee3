// listFiles as PostgreSQL SQL: the filters of sqlite-file-query.ts with numbered parameters,
// ordered by LFN (COLLATE "C"), keyset pagination (`after`). An LFN prefix is a key range
// [prefix, next string after every extension), so the primary key index serves it; no LIKE, so
// % and _ in a prefix are plain characters.
import type { FileFilter } from './catalog-types.js';
import { prefixUpperBound } from './sqlite-file-query.js';
import { FILE_COLUMNS } from './sqlite-rows.js';

export interface PgFileQuery {
  readonly sql: string;
  readonly params: unknown[];
}

export function pgFileQuery(filter: FileFilter): PgFileQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (filter.states !== undefined) where.push(filter.states.length === 0 ? 'false' : `state = ANY(${p([...filter.states])}::text[])`);
  if (filter.prefix !== undefined && filter.prefix !== '') {
    const upper = prefixUpperBound(filter.prefix);
    where.push(`lfn >= ${p(filter.prefix)}`);
    where.push(upper === undefined ? `starts_with(lfn, ${p(filter.prefix)})` : `lfn < ${p(upper)}`);
  }
  if (filter.createdSince !== undefined) where.push(`created_at >= ${p(filter.createdSince)}`);
  if (filter.after !== undefined) where.push(`lfn > ${p(filter.after)}`);
  if (filter.diskId !== undefined) where.push(`lfn IN (SELECT lfn FROM archives WHERE disk_id = ${p(filter.diskId)})`);
  if (filter.serverId !== undefined) where.push(`lfn IN (SELECT lfn FROM archives WHERE server_id = ${p(filter.serverId)})`);
  let sql = `SELECT ${FILE_COLUMNS} FROM files`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY lfn';
  if (filter.limit !== undefined) sql += ` LIMIT ${p(filter.limit)}`;
  return { sql, params };
}
