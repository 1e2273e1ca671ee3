// listFiles as SQL: every FileFilter field, ordered by LFN, keyset pagination (`after`). The SQL
// text depends only on which fields are set, so a handful of statements cover every filter.
import type { FileFilter } from './catalog-types.js';
import { FILE_COLUMNS } from './sqlite-rows.js';

export interface FileQuery {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * The smallest string above every string that starts with `prefix` (BINARY order is code point
 * order in UTF-8): the prefix with its last code point incremented. Undefined when there is none.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1; // skip the surrogate range
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export function fileQuery(filter: FileFilter): FileQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.states !== undefined) {
    // an empty list matches nothing, as `IN ()` would
    where.push(filter.states.length === 0 ? '0' : `state IN (${filter.states.map(() => '?').join(', ')})`);
    params.push(...filter.states);
  }
  if (filter.prefix !== undefined && filter.prefix !== '') {
    const upper = prefixUpperBound(filter.prefix);
    where.push('lfn >= ?');
    params.push(filter.prefix);
    if (upper === undefined) {
      where.push('substr(lfn, 1, length(?)) = ?');
      params.push(filter.prefix, filter.prefix);
    } else {
      where.push('lfn < ?');
      params.push(upper);
    }
  }
  if (filter.createdSince !== undefined) {
    where.push('created_at >= ?');
    params.push(filter.createdSince);
  }
  if (filter.after !== undefined) {
    where.push('lfn > ?');
    params.push(filter.after);
  }
  if (filter.diskId !== undefined) {
    where.push('lfn IN (SELECT lfn FROM archives WHERE disk_id = ?)');
    params.push(filter.diskId);
  }
  if (filter.serverId !== undefined) {
    where.push('lfn IN (SELECT lfn FROM archives WHERE server_id = ?)');
    params.push(filter.serverId);
  }
  let sql = `SELECT ${FILE_COLUMNS} FROM files`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY lfn';
  if (filter.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(filter.limit);
  }
  return { sql, params };
}
