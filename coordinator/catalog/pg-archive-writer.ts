// Archive writes on PostgreSQL with touched-LFN tracking, whole batches per statement: a batch
// goes as one array per column (unnest), so 10k records cost one round trip, not 10k. Semantics
// as the SQLite ArchiveWriter's per-record loop: a new key is inserted (its LFN touched); a key
// whose values changed is rewritten (old and new LFN touched); an unchanged re-send touches
// nothing and only refreshes its inventory mark. Call inside a transaction.
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { ArchiveRemoval } from './catalog-store.js';
import { rounds } from './pg-rounds.js';
import type { Sql } from './pg-session.js';
import { ARCHIVE_COLUMNS, ARCHIVE_VALUE_COLUMNS, archiveParams } from './sqlite-archive-row.js';

// Column types for the unnest arrays (ARCHIVE_COLUMNS without server_id, which is one value).
const TYPES: Record<(typeof ARCHIVE_COLUMNS)[number], string> = {
  server_id: 'text', disk_id: 'text', data_path: 'text', space: 'text', ns_path: 'text', pfn: 'text', lfn: 'text', size: 'bigint', mtime_ms: 'float8',
  inode: 'bigint', strpver: 'bigint', filesize: 'bigint', xattr_ns: 'text', nblocks: 'bigint', nentries: 'bigint', crc_kind: 'text', regular: 'smallint',
  stripe_map: 'text', parse_status: 'text', parse_error: 'text', cd_digest: 'text',
};
const SENT = ARCHIVE_COLUMNS.slice(1); // per record; $1 is the server, the last parameter the generation
const GEN_PARAM = `$${SENT.length + 2}`;
const values = (prefix: string): string => `(${ARCHIVE_VALUE_COLUMNS.map((c) => `${prefix}.${c}`).join(', ')})`;

// One statement: `o` reads the stored rows as they were before it (all parts of a statement see
// one snapshot), the insert writes, and the final select says per record what changed.
const UPSERT = `WITH n AS (
  SELECT * FROM unnest(${SENT.map((c, i) => `$${i + 2}::${TYPES[c]}[]`).join(', ')}) WITH ORDINALITY AS n(${SENT.join(', ')}, ord)
), o AS (
  SELECT a.disk_id, a.data_path, a.lfn, ${values('a')} IS DISTINCT FROM ${values('n')} AS changed
  FROM archives a JOIN n ON a.server_id = $1 AND a.disk_id = n.disk_id AND a.data_path = n.data_path
), w AS (
  INSERT INTO archives (${ARCHIVE_COLUMNS.join(', ')}, inv_gen)
  SELECT $1, ${SENT.map((c) => `n.${c}`).join(', ')}, ${GEN_PARAM} FROM n
  ON CONFLICT (server_id, disk_id, data_path) DO UPDATE SET ${ARCHIVE_VALUE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}, inv_gen = excluded.inv_gen
  WHERE ${values('archives')} IS DISTINCT FROM ${values('excluded')} OR archives.inv_gen < excluded.inv_gen
)
SELECT n.lfn, o.lfn AS old_lfn, o.data_path IS NULL AS inserted FROM n LEFT JOIN o ON o.disk_id = n.disk_id AND o.data_path = n.data_path
WHERE o.data_path IS NULL OR o.changed ORDER BY n.ord`;

const REMOVE = `DELETE FROM archives a USING unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(disk_id, data_path, ord)
  WHERE a.server_id = $1 AND a.disk_id = k.disk_id AND a.data_path = k.data_path RETURNING k.ord, a.lfn`;

const SWEEP = 'DELETE FROM archives WHERE server_id = $1 AND disk_id = ANY($2::text[]) AND inv_gen < $3 RETURNING lfn';

/** Stores `records` under `serverId` marked with generation `gen`; adds the LFNs they changed to `touched`, in batch order. */
export async function upsertArchives(sql: Sql, serverId: string, records: readonly ArchiveRecord[], gen: number, touched: Set<string>): Promise<void> {
  for (const round of rounds(records, (r) => `${r.diskId}\u0000${r.dataPath}`)) {
    const columns: unknown[][] = SENT.map(() => []);
    for (const r of round) {
      const p = archiveParams(serverId, r, gen);
      for (let c = 0; c < SENT.length; c++) columns[c]!.push(p[c + 1]);
    }
    const changed = await sql.arrays(UPSERT, [serverId, ...columns, gen]);
    for (const [lfn, oldLfn, inserted] of changed) {
      if (!inserted && typeof oldLfn === 'string') touched.add(oldLfn);
      if (typeof lfn === 'string') touched.add(lfn);
    }
  }
}

/** Removes these archives of `serverId` (unknown ones are no-ops); adds their LFNs to `touched`, in removal order. */
export async function removeArchives(sql: Sql, serverId: string, keys: readonly ArchiveRemoval[], touched: Set<string>): Promise<void> {
  if (keys.length === 0) return;
  const gone = await sql.arrays(REMOVE, [serverId, keys.map((k) => k.diskId), keys.map((k) => k.dataPath)]);
  gone.sort((a, b) => (a[0] as number) - (b[0] as number));
  for (const [, lfn] of gone) if (typeof lfn === 'string') touched.add(lfn);
}

/** Drops the server's archives on `diskIds` not (re)written since generation `gen`. */
export async function sweepOlder(sql: Sql, serverId: string, diskIds: readonly string[], gen: number, touched: Set<string>): Promise<void> {
  for (const [lfn] of await sql.arrays(SWEEP, [serverId, diskIds, gen])) if (typeof lfn === 'string') touched.add(lfn);
}

/** As sweepOlder, for these archives only (a digest resync's buckets). */
export async function sweepOlderOf(sql: Sql, serverId: string, diskIds: readonly string[], gen: number, keys: readonly ArchiveRemoval[], touched: Set<string>): Promise<void> {
  const disks = new Set(diskIds);
  const mine = keys.filter((k) => disks.has(k.diskId));
  for (let i = 0; i < mine.length; i += 10_000) {
    const part = mine.slice(i, i + 10_000);
    const gone = await sql.arrays(`DELETE FROM archives a USING unnest($2::text[], $3::text[]) AS k(disk_id, data_path)
      WHERE a.server_id = $1 AND a.disk_id = k.disk_id AND a.data_path = k.data_path AND a.inv_gen < $4 RETURNING a.lfn`, [serverId, part.map((k) => k.diskId), part.map((k) => k.dataPath), gen]);
    for (const [lfn] of gone) if (typeof lfn === 'string') touched.add(lfn);
  }
}
