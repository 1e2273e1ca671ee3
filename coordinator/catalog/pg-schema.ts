// The PostgreSQL catalog's schema: the SQLite schema's tables, columns and constraints, so both
// stores accept and reject the same rows. Text is COLLATE "C" (byte order of UTF-8 = code point
// order = SQLite's BINARY), whatever the database's default collation: ORDER BY, LFN ranges and
// keyset pagination give the same answers on both. Times, sizes and counters are bigint.
import type { CrcKind } from '../../shared/codec/codec.js';
import type { ParseStatus } from '../../shared/domain/archive-record.js';
import { FILE_STATES, type ArchiveRole } from '../../shared/domain/file-health.js';
import { REPAIR_TASK_STATES } from '../../shared/domain/repair-task.js';
import { EcguardError } from '../../shared/errors.js';
import { XATTR_NAMESPACES } from '../../shared/xrdec/xattrs.js';
import type { DiskState } from './catalog-types.js';
import type { Sql } from './pg-session.js';
import { META_SCHEMA_VERSION } from './sqlite-schema.js';

// 2: disk_archive_counts and file_state_counts, which an older ecguard would not keep (it refuses 2)
export const PG_SCHEMA_VERSION = 2;

const PARSE_STATUSES = ['ok', 'empty', 'truncated', 'bad-eocd', 'bad-cd', 'not-zip', 'not-ec', 'unreadable'] as const satisfies readonly ParseStatus[];
const ROLES = ['current', 'superseded', 'debris', 'orphan', 'corrupt'] as const satisfies readonly ArchiveRole[];
const DISK_STATES = ['online', 'missing', 'failed', 'downgraded'] as const satisfies readonly DiskState[];
const CRC_KINDS = ['crc32c', 'crc32'] as const satisfies readonly CrcKind[];

const oneOf = (column: string, values: readonly (string | number)[]): string =>
  `CHECK (${column} IN (${values.map((v) => (typeof v === 'number' ? String(v) : `'${v}'`)).join(', ')}))`;

const T = 'text COLLATE "C"';

// Serialises schema creation between processes opening a new catalog at once (two coordinators
// starting together): CREATE ... IF NOT EXISTS alone can still collide.
const SCHEMA_LOCK_KEY = 0x6563_6773_6368; // 'ecgsch'

/**
 * A statement-level trigger on `table`, created only when missing: CREATE OR REPLACE TRIGGER
 * needs PostgreSQL 14, and replacing it at every open would lock the table while a standby starts.
 */
const trigger = (name: string, table: string, def: string): string => {
  const [when, rest] = def.split(' REFERENCING ');
  return `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '${name}' AND tgrelid = '${table}'::regclass) THEN
  CREATE TRIGGER ${name} ${when} ON ${table} REFERENCING ${rest}
END IF; END $$;`;
};

/** A trigger function adding `delta` (rows of state, n, bytes) to file_state_counts, its rows locked in state order. */
const fileCountFunction = (name: string, delta: string): string => `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM file_state_counts ORDER BY state FOR UPDATE;
  INSERT INTO file_state_counts (state, n, bytes) ${delta} ORDER BY 1
    ON CONFLICT (state) DO UPDATE SET n = file_state_counts.n + excluded.n, bytes = file_state_counts.bytes + excluded.bytes;
  RETURN NULL;
END $$;`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key ${T} PRIMARY KEY, value text NOT NULL);

CREATE TABLE IF NOT EXISTS servers (
  server_id ${T} PRIMARY KEY,
  state ${T} NOT NULL ${oneOf('state', ['up', 'down', 'lost'])},
  since bigint NOT NULL,
  last_seen bigint NOT NULL,
  applied_seq bigint NOT NULL,
  instance_id ${T} NOT NULL,
  inventoried smallint NOT NULL ${oneOf('inventoried', [0, 1])},
  -- a full inventory in progress: its generation and disks (JSON array); NULL when none
  inventory_gen bigint,
  inventory_disks text,
  -- a state change whose files are not reclassified yet (its token); NULL when none
  reclassify_pending bigint
);

CREATE TABLE IF NOT EXISTS disks (
  disk_id ${T} PRIMARY KEY,
  -- no foreign key: an agent's Hello reports its disks before the server row is written
  server_id ${T} NOT NULL,
  path ${T} NOT NULL,
  space ${T} NOT NULL,
  state ${T} NOT NULL ${oneOf('state', DISK_STATES)},
  since bigint NOT NULL,
  uuid ${T},
  evidence text NOT NULL, -- JSON array of strings
  reclassify_pending bigint
);
CREATE INDEX IF NOT EXISTS disks_server ON disks (server_id);

CREATE TABLE IF NOT EXISTS archives (
  server_id ${T} NOT NULL REFERENCES servers (server_id) ON DELETE CASCADE,
  disk_id ${T} NOT NULL,
  data_path ${T} NOT NULL,
  space ${T} NOT NULL,
  ns_path ${T},
  pfn ${T},
  lfn ${T},
  size bigint NOT NULL CHECK (size >= 0),
  mtime_ms double precision NOT NULL,
  inode bigint NOT NULL,
  strpver bigint,
  filesize bigint,
  xattr_ns ${T} ${oneOf('xattr_ns', XATTR_NAMESPACES)},
  nblocks bigint NOT NULL CHECK (nblocks >= 0),
  nentries bigint NOT NULL CHECK (nentries >= 0),
  crc_kind ${T} ${oneOf('crc_kind', CRC_KINDS)},
  regular smallint NOT NULL ${oneOf('regular', [0, 1])},
  stripe_map text, -- JSON {block: [stripes]}, only when not regular
  parse_status ${T} NOT NULL ${oneOf('parse_status', PARSE_STATUSES)},
  parse_error ${T},
  cd_digest ${T},
  role ${T} ${oneOf('role', ROLES)},
  role_reason ${T},
  -- generation of the write that last (re)sent this archive: the mark of mark-and-sweep inventories
  inv_gen bigint NOT NULL,
  PRIMARY KEY (server_id, disk_id, data_path)
);
-- "files on disk X" and "files a lost disk damages", from the index alone, in LFN order
CREATE INDEX IF NOT EXISTS archives_disk ON archives (disk_id, lfn, role);
-- archivesOf, archiveStatesOf, allLfns, unattributed (lfn IS NULL)
CREATE INDEX IF NOT EXISTS archives_lfn ON archives (lfn);
-- debris, orphans, corrupt: current archives (role NULL, the bulk) stay out of the index
CREATE INDEX IF NOT EXISTS archives_role ON archives (role, lfn) WHERE role <> 'current';
-- the archives of an LFN that carry a role to clear: empty for most files, so clearing is a probe
CREATE INDEX IF NOT EXISTS archives_roled ON archives (lfn) WHERE role IS NOT NULL;

CREATE TABLE IF NOT EXISTS files (
  lfn ${T} PRIMARY KEY,
  state ${T} NOT NULL ${oneOf('state', FILE_STATES)},
  redundancy integer NOT NULL,
  latest_strpver bigint,
  filesize bigint,
  available integer NOT NULL,
  unavailable integer NOT NULL,
  reason ${T} NOT NULL,
  first_seen bigint NOT NULL,
  created_at bigint,
  state_since bigint NOT NULL,
  bytes bigint NOT NULL
);
-- PostgreSQL's secondary indexes do not end with the key as SQLite's WITHOUT ROWID ones do
CREATE INDEX IF NOT EXISTS files_state ON files (state, lfn);
CREATE INDEX IF NOT EXISTS files_created ON files (created_at, lfn);

CREATE TABLE IF NOT EXISTS tombstones (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  lfn ${T} NOT NULL,
  strpver bigint,
  at bigint NOT NULL,
  reason ${T} NOT NULL
);
-- adding the same tombstone twice (a retried batch) keeps one
CREATE UNIQUE INDEX IF NOT EXISTS tombstones_key ON tombstones (lfn, at, coalesce(strpver, -1), reason);

CREATE TABLE IF NOT EXISTS repair_tasks (
  task_id ${T} PRIMARY KEY,
  lfn ${T} NOT NULL,
  state ${T} NOT NULL ${oneOf('state', REPAIR_TASK_STATES)},
  redundancy integer NOT NULL,
  degraded_since bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  body text NOT NULL -- the whole task as JSON
);
CREATE INDEX IF NOT EXISTS repair_tasks_queue ON repair_tasks (state, redundancy, degraded_since, created_at);
CREATE INDEX IF NOT EXISTS repair_tasks_lfn ON repair_tasks (lfn);

CREATE TABLE IF NOT EXISTS replaced_archives (
  server_id ${T} NOT NULL,
  disk_id ${T} NOT NULL,
  data_path ${T} NOT NULL,
  lfn ${T} NOT NULL,
  strpver bigint NOT NULL,
  task_id ${T} NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (server_id, disk_id, data_path, strpver)
);
CREATE INDEX IF NOT EXISTS replaced_archives_lfn ON replaced_archives (lfn);

-- Archives per disk, kept by statement triggers (one aggregate per statement, not per row):
-- status and every metrics scrape read this instead of counting a billion rows. An upsert's
-- updated rows are not in the INSERT transition table; disk_id is part of the key and never
-- updated; cascade deletes from servers fire the DELETE trigger; TRUNCATE is handled by hand.
-- Each statement locks its count rows in disk_id order; a transaction of several statements may
-- not, so two writers could deadlock (PostgreSQL aborts one, which rolls back cleanly): only the
-- leader writes (the advisory lock and the store's fence), so they do not meet.
CREATE TABLE IF NOT EXISTS disk_archive_counts (disk_id ${T} PRIMARY KEY, n bigint NOT NULL);
CREATE OR REPLACE FUNCTION ecguard_count_archives_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO disk_archive_counts (disk_id, n) SELECT disk_id, count(*) FROM new_rows GROUP BY disk_id ORDER BY disk_id
    ON CONFLICT (disk_id) DO UPDATE SET n = disk_archive_counts.n + excluded.n;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION ecguard_count_archives_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM disk_archive_counts WHERE disk_id IN (SELECT disk_id FROM old_rows) ORDER BY disk_id FOR UPDATE;
  UPDATE disk_archive_counts c SET n = c.n - d.n FROM (SELECT disk_id, count(*) AS n FROM old_rows GROUP BY disk_id) d WHERE c.disk_id = d.disk_id;
  RETURN NULL;
END $$;
${trigger('archives_count_insert', 'archives', 'AFTER INSERT REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ecguard_count_archives_in();')}
${trigger('archives_count_delete', 'archives', 'AFTER DELETE REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ecguard_count_archives_out();')}

-- Files and bytes per state, kept the same way. The count rows are locked in state order first.
CREATE TABLE IF NOT EXISTS file_state_counts (state ${T} PRIMARY KEY, n bigint NOT NULL, bytes bigint NOT NULL);
${fileCountFunction('ecguard_count_files_in', 'SELECT state, count(*), coalesce(sum(bytes), 0) FROM new_rows GROUP BY state')}
${fileCountFunction('ecguard_count_files_change', 'SELECT state, sum(n), sum(bytes) FROM (SELECT state, 1 AS n, bytes FROM new_rows UNION ALL SELECT state, -1, -bytes FROM old_rows) d GROUP BY state')}
${fileCountFunction('ecguard_count_files_out', 'SELECT state, -count(*), -coalesce(sum(bytes), 0) FROM old_rows GROUP BY state')}
${trigger('files_count_insert', 'files', 'AFTER INSERT REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ecguard_count_files_in();')}
${trigger('files_count_update', 'files', 'AFTER UPDATE REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ecguard_count_files_change();')}
${trigger('files_count_delete', 'files', 'AFTER DELETE REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ecguard_count_files_out();')}
`;

/** Creates what is missing (call inside a transaction) and refuses a catalog from a newer ecguard. */
export async function applyPgSchema(sql: Sql): Promise<void> {
  await sql.run('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
  const [had] = await sql.rows<{ r: string | null; f: string | null }>("SELECT to_regclass('disk_archive_counts')::text AS r, to_regclass('file_state_counts')::text AS f");
  await sql.run(SCHEMA);
  // a catalog from before the counts: counted once, the triggers keep them from now on
  if (had?.r == null) await sql.run('INSERT INTO disk_archive_counts (disk_id, n) SELECT disk_id, count(*) FROM archives GROUP BY disk_id ON CONFLICT (disk_id) DO NOTHING');
  if (had?.f == null) await sql.run('INSERT INTO file_state_counts (state, n, bytes) SELECT state, count(*), coalesce(sum(bytes), 0) FROM files GROUP BY state ON CONFLICT (state) DO NOTHING');
  const [row] = await sql.rows<{ value: string }>('SELECT value FROM meta WHERE key = $1', [META_SCHEMA_VERSION]);
  if (row === undefined) {
    await sql.run('INSERT INTO meta (key, value) VALUES ($1, $2)', [META_SCHEMA_VERSION, String(PG_SCHEMA_VERSION)]);
  } else if (Number(row.value) > PG_SCHEMA_VERSION) {
    throw new EcguardError('STORE_SCHEMA', `catalog schema version ${row.value} is newer than this ecguard understands (${PG_SCHEMA_VERSION}): upgrade ecguard or rebuild the catalog`);
  } else if (Number(row.value) < PG_SCHEMA_VERSION) {
    await sql.run('UPDATE meta SET value = $1 WHERE key = $2', [String(PG_SCHEMA_VERSION), META_SCHEMA_VERSION]);
  }
}
