// The agent's local state in one SQLite file (better-sqlite3, WAL): the delta journal, the last
// inventory (so a restart reports only what changed), known disks, and archives the scrub
// found corrupt.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type AgentDb = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  disk_id TEXT NOT NULL,
  data_path TEXT NOT NULL,
  payload TEXT
);
CREATE TABLE IF NOT EXISTS inventory (
  key TEXT PRIMARY KEY,
  disk_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inventory_disk ON inventory (disk_id);
CREATE TABLE IF NOT EXISTS disks (
  disk_id TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  uuid TEXT,
  mount_point INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  evidence TEXT NOT NULL DEFAULT '[]'
);
-- a disk the scrub downgraded, by its identity (marker UUID; 'id:' + disk id without one), not
-- its mount slot: the downgrade outlives missing or failed spells (an unmount, a reboot), follows
-- the disk if mounts swap, and ends only when an operator clears that very downgrade
CREATE TABLE IF NOT EXISTS downgrades (
  disk_key TEXT PRIMARY KEY,
  disk_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  evidence TEXT NOT NULL,
  by TEXT NOT NULL DEFAULT 'corruption', -- or 'operator' (ecguard disk downgrade)
  request_at INTEGER -- the operator's request last taken up (its time in the marker)
);
CREATE TABLE IF NOT EXISTS corrupt_archives (
  key TEXT PRIMARY KEY,
  inode REAL NOT NULL,
  size REAL NOT NULL,
  mtime_ms REAL NOT NULL,
  detail TEXT NOT NULL,
  at INTEGER NOT NULL
);
`;

export function openAgentDb(stateDir: string): AgentDb {
  mkdirSync(stateDir, { recursive: true });
  const db = new Database(join(stateDir, 'agent.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  // columns added to downgrades after it first appeared
  const cols = (db.prepare('PRAGMA table_info(downgrades)').all() as { name: string }[]).map((c) => c.name);
  if (!cols.includes('by')) db.exec("ALTER TABLE downgrades ADD COLUMN by TEXT NOT NULL DEFAULT 'corruption'");
  if (!cols.includes('request_at')) db.exec('ALTER TABLE downgrades ADD COLUMN request_at INTEGER');
  // state files from before disk_downgrades kept the downgrade only as the disk's state
  db.exec("INSERT OR IGNORE INTO downgrades (disk_key, disk_id, at, evidence) SELECT coalesce(uuid, 'id:' || disk_id), disk_id, since, evidence FROM disks WHERE state = 'downgraded'");
  return db;
}

export function getMeta(db: AgentDb, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: AgentDb, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}
