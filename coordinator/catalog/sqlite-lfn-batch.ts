// Reads for many LFNs in few statements: `lfn IN (?, …)` over chunks of up to 512 LFNs instead
// of one query per LFN (the per-call cost dominated classification reads). Statement sizes are
// powers of two so a handful of prepared texts cover every batch; the unused slots are NULL,
// which `IN` never matches.
import type Database from 'better-sqlite3';
import type { StatementCache } from './sqlite-statements.js';

const MAX_CHUNK = 512;

const slots = (n: number): number => {
  let s = 8;
  while (s < n) s *= 2;
  return s;
};

/**
 * Runs `sql(inList)` (where inList is "?, ?, …") for every chunk of the distinct `lfns` and
 * passes each result row to `each` (as an array of cells when `raw`).
 */
export function eachForLfns(q: StatementCache, lfns: readonly string[], sql: (inList: string) => string, each: (row: unknown) => void, raw = false): void {
  const uniq = [...new Set(lfns)];
  for (let i = 0; i < uniq.length; i += MAX_CHUNK) {
    const chunk: (string | null)[] = uniq.slice(i, i + MAX_CHUNK);
    const n = slots(chunk.length);
    while (chunk.length < n) chunk.push(null);
    const stmt: Database.Statement = q.get(sql(Array.from({ length: n }, () => '?').join(', ')) + (raw ? ' -- raw' : ''));
    if (raw) stmt.raw(true);
    for (const row of stmt.all(...chunk)) each(row);
  }
}

/** The table has no row (one probe): callers skip their per-LFN reads of tables that are usually empty. */
export function isEmpty(q: StatementCache, table: 'tombstones' | 'replaced_archives'): boolean {
  return q.get(`SELECT EXISTS (SELECT 1 FROM ${table})`).pluck().get() === 0;
}
