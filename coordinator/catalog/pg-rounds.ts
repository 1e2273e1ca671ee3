// Batches by key for INSERT … ON CONFLICT DO UPDATE, which cannot touch one row twice in a
// statement: the rows split into rounds where each key appears once, in batch order, so a key
// sent twice (a row, then its update) is written twice in that order, as the SQLite store's
// statement-per-row loop does.
export function rounds<T>(rows: readonly T[], key: (r: T) => string): T[][] {
  const out: T[][] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    const k = key(r);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(r);
  }
  return out;
}
