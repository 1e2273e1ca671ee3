// Row ⇄ object mapping for the small tables (servers, disks, files, tombstones). NULL reads back
// as an absent optional field so rows round-trip exactly.
import type { FileState, ServerState } from '../../shared/domain/file-health.js';
import type { DiskRow, DiskState, FileRow, ServerRow, Tombstone } from './catalog-types.js';

// A row without a reclassify marker keeps the stored one (coalesce): only clearing removes it.
export const SERVER_UPSERT = `INSERT INTO servers (server_id, state, since, last_seen, applied_seq, instance_id, inventoried, reclassify_pending)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (server_id) DO UPDATE SET state = excluded.state, since = excluded.since, last_seen = excluded.last_seen,
    applied_seq = excluded.applied_seq, instance_id = excluded.instance_id, inventoried = excluded.inventoried,
    reclassify_pending = coalesce(excluded.reclassify_pending, servers.reclassify_pending)`;

export const serverParams = (s: ServerRow): unknown[] => [s.serverId, s.state, s.since, s.lastSeen, s.appliedSeq, s.instanceId, s.inventoried ? 1 : 0, s.reclassifyPending ?? null];

export interface ServerDbRow {
  server_id: string;
  state: string;
  since: number;
  last_seen: number;
  applied_seq: number;
  instance_id: string;
  inventoried: number;
  reclassify_pending: number | null;
}

export const rowToServer = (d: ServerDbRow): ServerRow => ({
  serverId: d.server_id,
  state: d.state as ServerState,
  since: d.since,
  lastSeen: d.last_seen,
  appliedSeq: d.applied_seq,
  instanceId: d.instance_id,
  inventoried: d.inventoried === 1,
  ...(d.reclassify_pending !== null ? { reclassifyPending: d.reclassify_pending } : {}),
});

// ON CONFLICT … DO UPDATE, never INSERT OR REPLACE: a replace deletes the row first and the
// ON DELETE CASCADE would take the archives with it.
export const DISK_UPSERT = `INSERT INTO disks (disk_id, server_id, path, space, state, since, uuid, evidence, reclassify_pending)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (disk_id) DO UPDATE SET server_id = excluded.server_id, path = excluded.path, space = excluded.space,
    state = excluded.state, since = excluded.since, uuid = excluded.uuid, evidence = excluded.evidence,
    reclassify_pending = coalesce(excluded.reclassify_pending, disks.reclassify_pending)`;

export const diskParams = (d: DiskRow): unknown[] => [d.diskId, d.serverId, d.path, d.space, d.state, d.since, d.uuid ?? null, JSON.stringify(d.evidence), d.reclassifyPending ?? null];

export interface DiskDbRow {
  disk_id: string;
  server_id: string;
  path: string;
  space: string;
  state: string;
  since: number;
  uuid: string | null;
  evidence: string;
  reclassify_pending: number | null;
}

export function rowToDisk(d: DiskDbRow): DiskRow {
  const base = { diskId: d.disk_id, serverId: d.server_id, path: d.path, space: d.space, state: d.state as DiskState, since: d.since, evidence: JSON.parse(d.evidence) as string[] };
  return { ...base, ...(d.uuid !== null ? { uuid: d.uuid } : {}), ...(d.reclassify_pending !== null ? { reclassifyPending: d.reclassify_pending } : {}) };
}

export const FILE_COLUMNS = 'lfn, state, redundancy, latest_strpver, filesize, available, unavailable, reason, first_seen, created_at, state_since, bytes';

export const FILE_UPSERT = `INSERT INTO files (${FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (lfn) DO UPDATE SET state = excluded.state, redundancy = excluded.redundancy, latest_strpver = excluded.latest_strpver,
    filesize = excluded.filesize, available = excluded.available, unavailable = excluded.unavailable, reason = excluded.reason,
    first_seen = excluded.first_seen, created_at = excluded.created_at, state_since = excluded.state_since, bytes = excluded.bytes`;

export const fileParams = (f: FileRow): unknown[] => [
  f.lfn,
  f.state,
  f.redundancy,
  f.latestStrpver ?? null,
  f.filesize ?? null,
  f.available,
  f.unavailable,
  f.reason,
  f.firstSeen,
  f.createdAt ?? null,
  f.stateSince,
  f.bytes,
];

export interface FileDbRow {
  lfn: string;
  state: string;
  redundancy: number;
  latest_strpver: number | null;
  filesize: number | null;
  available: number;
  unavailable: number;
  reason: string;
  first_seen: number;
  created_at: number | null;
  state_since: number;
  bytes: number;
}

export function rowToFile(d: FileDbRow): FileRow {
  const r: { -readonly [K in keyof FileRow]: FileRow[K] } = {
    lfn: d.lfn,
    state: d.state as FileState,
    redundancy: d.redundancy,
    available: d.available,
    unavailable: d.unavailable,
    reason: d.reason,
    firstSeen: d.first_seen,
    stateSince: d.state_since,
    bytes: d.bytes,
  };
  if (d.latest_strpver !== null) r.latestStrpver = d.latest_strpver;
  if (d.filesize !== null) r.filesize = d.filesize;
  if (d.created_at !== null) r.createdAt = d.created_at;
  return r;
}

/** A raw row of FILE_COLUMNS (better-sqlite3 .raw(): no object per row for the batch reads). */
export function cellsToFile(d: readonly (string | number | null)[]): FileRow {
  const r: { -readonly [K in keyof FileRow]: FileRow[K] } = {
    lfn: d[0] as string,
    state: d[1] as FileState,
    redundancy: d[2] as number,
    available: d[5] as number,
    unavailable: d[6] as number,
    reason: d[7] as string,
    firstSeen: d[8] as number,
    stateSince: d[10] as number,
    bytes: d[11] as number,
  };
  if (d[3] !== null) r.latestStrpver = d[3] as number;
  if (d[4] !== null) r.filesize = d[4] as number;
  if (d[9] !== null) r.createdAt = d[9] as number;
  return r;
}

export interface TombstoneDbRow {
  lfn: string;
  strpver: number | null;
  at: number;
  reason: string;
}

export function rowToTombstone(d: TombstoneDbRow): Tombstone {
  const base = { lfn: d.lfn, at: d.at, reason: d.reason };
  return d.strpver === null ? base : { ...base, strpver: d.strpver };
}
