// Known disks in the agent's state: identity (marker UUID), whether it was a mount point, and
// its last state, so a restart can tell a replaced or unmounted disk from a healthy one.
import type { DiskHealth, DiskState } from '../disk/disk-check.js';
import type { AgentDb } from './agent-db.js';

export interface StoredDisk {
  readonly diskId: string;
  readonly path: string;
  readonly uuid?: string;
  readonly mountPoint: boolean;
  readonly state: DiskState;
  readonly since: number;
}

/** A downgrade: when, what was found (or asked for), and by whom. */
export interface StoredDowngrade {
  readonly at: number;
  readonly evidence: string[];
  readonly by: 'corruption' | 'operator';
  /** The operator's request last taken up (its time in the marker): never taken twice. */
  readonly requestAt?: number;
}

export class DiskStore {
  constructor(private readonly db: AgentDb) {}

  get(diskId: string): StoredDisk | undefined {
    const r = this.db.prepare('SELECT disk_id, path, uuid, mount_point, state, since FROM disks WHERE disk_id = ?').get(diskId) as
      { disk_id: string; path: string; uuid: string | null; mount_point: number; state: DiskState; since: number } | undefined;
    if (!r) return undefined;
    return { diskId: r.disk_id, path: r.path, ...(r.uuid ? { uuid: r.uuid } : {}), mountPoint: r.mount_point === 1, state: r.state, since: r.since };
  }

  put(diskId: string, path: string, h: DiskHealth, mountPoint: boolean): void {
    const prev = this.get(diskId);
    // Keep the identity we knew while the disk is away: it must match when it comes back.
    const uuid = h.uuid ?? prev?.uuid ?? null;
    this.db.prepare(`INSERT INTO disks (disk_id, path, uuid, mount_point, state, since, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(disk_id) DO UPDATE SET path = excluded.path, uuid = excluded.uuid, mount_point = excluded.mount_point,
      state = excluded.state, since = CASE WHEN disks.state = excluded.state THEN disks.since ELSE excluded.since END, evidence = excluded.evidence`)
      .run(diskId, path, uuid, mountPoint ? 1 : 0, h.state, Date.now(), JSON.stringify(h.evidence));
  }

  downgrade(key: string): StoredDowngrade | undefined {
    const r = this.db.prepare('SELECT at, evidence, by, request_at FROM downgrades WHERE disk_key = ?').get(key) as { at: number; evidence: string; by: string; request_at: number | null } | undefined;
    return r ? { at: r.at, evidence: JSON.parse(r.evidence) as string[], by: r.by === 'operator' ? 'operator' : 'corruption', ...(r.request_at !== null ? { requestAt: r.request_at } : {}) } : undefined;
  }

  setDowngrade(key: string, diskId: string, d: StoredDowngrade): void {
    this.db.prepare(`INSERT INTO downgrades (disk_key, disk_id, at, evidence, by, request_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(disk_key) DO UPDATE SET disk_id = excluded.disk_id, at = excluded.at, evidence = excluded.evidence, by = excluded.by, request_at = excluded.request_at`)
      .run(key, diskId, d.at, JSON.stringify(d.evidence), d.by, d.requestAt ?? null);
  }

  clearDowngrade(key: string): void {
    this.db.prepare('DELETE FROM downgrades WHERE disk_key = ?').run(key);
  }
}

/** The key of a disk's downgrade: its identity (marker UUID), or its id when it has none. */
export function downgradeKey(uuid: string | undefined, diskId: string): string {
  return uuid ?? `id:${diskId}`;
}
