// The SQLite catalog's schema (DESIGN.md §4, §6). events and repair_tasks arrive with their own
// issues. CHECK and NOT NULL constraints reject malformed rows inside the batch transaction, so a
// bad record rolls back the whole batch instead of leaving half of it applied.
import type Database from 'better-sqlite3';
import { REPAIR_TASKS_SCHEMA } from './sqlite-repair-tasks.js';
import { EcguardError } from '../../shared/errors.js';

// 2: disk_archive_counts and file_state_counts, which an older ecguard would not keep (it refuses 2)
export const SCHEMA_VERSION = 2;

/** meta keys the store itself owns; callers should keep out of the `catalog.` prefix. */
export const META_SCHEMA_VERSION = 'catalog.schemaVersion';
export const META_GENERATION = 'catalog.inventoryGeneration';

// `col = 'a' OR col = 'b'`, not `col IN ('a', 'b')`: SQLite builds an ephemeral table for an IN
// list on every insert, which halved the archive ingest rate. NULL still passes, as with IN.
const oneOf = (column: string, values: readonly (string | number)[]): string =>
  `CHECK (${values.map((v) => `${column} = ${typeof v === 'number' ? v : `'${v}'`}`).join(' OR ')})`;

const PARSE_STATUSES = ['ok', 'empty', 'truncated', 'bad-eocd', 'bad-cd', 'not-zip', 'not-ec', 'unreadable'];
const ROLES = ['current', 'superseded', 'debris', 'orphan', 'corrupt'];
const FILE_STATES = ['healthy', 'degraded', 'critical', 'unavailable', 'lost', 'incomplete', 'pending'];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS servers (
  server_id TEXT PRIMARY KEY,
  state TEXT NOT NULL ${oneOf('state', ['up', 'down', 'lost'])},
  since INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  applied_seq INTEGER NOT NULL,
  instance_id TEXT NOT NULL,
  inventoried INTEGER NOT NULL ${oneOf('inventoried', [0, 1])},
  -- a full inventory in progress: its generation and disks (JSON array); NULL when none
  inventory_gen INTEGER,
  inventory_disks TEXT,
  -- a state change whose files are not reclassified yet (its token); NULL when none
  reclassify_pending INTEGER
);

CREATE TABLE IF NOT EXISTS disks (
  disk_id TEXT PRIMARY KEY,
  -- no foreign key: an agent's Hello reports its disks before the server row is written
  server_id TEXT NOT NULL,
  path TEXT NOT NULL,
  space TEXT NOT NULL,
  state TEXT NOT NULL ${oneOf('state', ['online', 'missing', 'failed', 'downgraded'])},
  since INTEGER NOT NULL,
  uuid TEXT,
  evidence TEXT NOT NULL, -- JSON array of strings
  reclassify_pending INTEGER -- as in servers
);
CREATE INDEX IF NOT EXISTS disks_server ON disks (server_id);

-- A rowid table with a UNIQUE key measured faster to fill than WITHOUT ROWID here (rows are wide).
CREATE TABLE IF NOT EXISTS archives (
  server_id TEXT NOT NULL REFERENCES servers (server_id) ON DELETE CASCADE,
  disk_id TEXT NOT NULL,
  data_path TEXT NOT NULL,
  space TEXT NOT NULL,
  ns_path TEXT,
  pfn TEXT,
  lfn TEXT,
  size INTEGER NOT NULL CHECK (size >= 0),
  mtime_ms REAL NOT NULL,
  inode INTEGER NOT NULL,
  strpver INTEGER,
  filesize INTEGER,
  xattr_ns TEXT ${oneOf('xattr_ns', ['user.U.', 'user.'])},
  nblocks INTEGER NOT NULL CHECK (nblocks >= 0),
  nentries INTEGER NOT NULL CHECK (nentries >= 0),
  crc_kind TEXT ${oneOf('crc_kind', ['crc32c', 'crc32'])},
  regular INTEGER NOT NULL ${oneOf('regular', [0, 1])},
  stripe_map TEXT, -- JSON {block: [stripes]}, only when not regular
  parse_status TEXT NOT NULL ${oneOf('parse_status', PARSE_STATUSES)},
  parse_error TEXT,
  cd_digest TEXT,
  role TEXT ${oneOf('role', ROLES)},
  role_reason TEXT,
  -- generation of the write that last (re)sent this archive: the mark of mark-and-sweep inventories
  inv_gen INTEGER NOT NULL,
  UNIQUE (server_id, disk_id, data_path)
);
-- "files on disk X" and "files a lost disk damages" without touching the table (covering, in
-- LFN order; role is NULL for the bulk, so it costs a byte). Replaces archives_disk_lfn.
DROP INDEX IF EXISTS archives_disk_lfn;
CREATE INDEX IF NOT EXISTS archives_disk ON archives (disk_id, lfn, role);
-- archivesOf, allLfns, unattributed (NULL LFNs sort first)
CREATE INDEX IF NOT EXISTS archives_lfn ON archives (lfn);
-- debris, orphans, corrupt: 'current' (the bulk) stays out of the index. A current archive is
-- stored with role NULL (no write for the bulk; catalogs from before kept 'current', still read).
CREATE INDEX IF NOT EXISTS archives_role ON archives (role, lfn) WHERE role <> 'current';
-- the archives of an LFN that carry a role to clear: empty for most files, so clearing is a probe
CREATE INDEX IF NOT EXISTS archives_roled ON archives (lfn) WHERE role IS NOT NULL;

-- Archives per disk, kept by the archive writer in each write's transaction (per-row triggers
-- cost a quarter of the ingest rate): status and every metrics scrape read this instead of
-- counting the table, a scan of every archive that blocks the coordinator for seconds at 100M.
CREATE TABLE IF NOT EXISTS disk_archive_counts (disk_id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
-- Files and bytes per state, kept by the file writer the same way (sqlite-file-writer.ts).
CREATE TABLE IF NOT EXISTS file_state_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS files (
  lfn TEXT PRIMARY KEY,
  state TEXT NOT NULL ${oneOf('state', FILE_STATES)},
  redundancy INTEGER NOT NULL,
  latest_strpver INTEGER,
  filesize INTEGER,
  available INTEGER NOT NULL,
  unavailable INTEGER NOT NULL,
  reason TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  created_at INTEGER,
  state_since INTEGER NOT NULL,
  bytes INTEGER NOT NULL
) WITHOUT ROWID;
-- WITHOUT ROWID secondary indexes end with the key: (state, lfn) and (created_at, lfn)
CREATE INDEX IF NOT EXISTS files_state ON files (state);
CREATE INDEX IF NOT EXISTS files_created ON files (created_at);

CREATE TABLE IF NOT EXISTS tombstones (
  id INTEGER PRIMARY KEY,
  lfn TEXT NOT NULL,
  strpver INTEGER,
  at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
-- adding the same tombstone twice (a retried batch) keeps one
CREATE UNIQUE INDEX IF NOT EXISTS tombstones_key ON tombstones (lfn, at, coalesce(strpver, -1), reason);
`;

/**
 * Columns added since the first catalogs, for files made before them. Nullable additions that
 * older ecguard versions ignore, so the schema version stays (they may still open the file).
 */
const ADDED_COLUMNS: readonly (readonly [table: string, column: string, decl: string])[] = [
  ['servers', 'reclassify_pending', 'INTEGER'],
  ['disks', 'reclassify_pending', 'INTEGER'],
];

function addMissingColumns(db: Database.Database): void {
  for (const [table, column, decl] of ADDED_COLUMNS) {
    const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
  }
}

/** Creates what is missing and checks the file is not from a newer ecguard. */
export function applySchema(db: Database.Database): void {
  db.transaction(() => {
    const has = (t: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
    const counted = has('disk_archive_counts');
    const filesCounted = has('file_state_counts');
    db.exec(SCHEMA);
    // a catalog from before the counts: counted once, the triggers keep them from now on
    if (!counted) db.exec('INSERT INTO disk_archive_counts (disk_id, n) SELECT disk_id, count(*) FROM archives GROUP BY disk_id');
    if (!filesCounted) db.exec('INSERT INTO file_state_counts (state, n, bytes) SELECT state, count(*), coalesce(sum(bytes), 0) FROM files GROUP BY state');
    db.exec(REPAIR_TASKS_SCHEMA);
    addMissingColumns(db);
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(META_SCHEMA_VERSION) as { value: string } | undefined;
    if (row === undefined) {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(META_SCHEMA_VERSION, String(SCHEMA_VERSION));
    } else if (Number(row.value) > SCHEMA_VERSION) {
      throw new EcguardError('STORE_SCHEMA', `catalog schema version ${row.value} is newer than this ecguard understands (${SCHEMA_VERSION}): upgrade ecguard or rebuild the catalog`);
    } else if (Number(row.value) < SCHEMA_VERSION) {
      db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(String(SCHEMA_VERSION), META_SCHEMA_VERSION);
    }
  })();
}
