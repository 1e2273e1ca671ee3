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

/** A scrub downgrade: when, and the corruption behind it. */
export interface StoredDowngrade {
  readonly at: number;
  readonly evidence: string[];
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

  downgrade(diskId: string): StoredDowngrade | undefined {
    const r = this.db.prepare('SELECT at, evidence FROM disk_downgrades WHERE disk_id = ?').get(diskId) as { at: number; evidence: string } | undefined;
    return r ? { at: r.at, evidence: JSON.parse(r.evidence) as string[] } : undefined;
  }

  setDowngrade(diskId: string, d: StoredDowngrade): void {
    this.db.prepare('INSERT INTO disk_downgrades (disk_id, at, evidence) VALUES (?, ?, ?) ON CONFLICT(disk_id) DO UPDATE SET at = excluded.at, evidence = excluded.evidence')
      .run(diskId, d.at, JSON.stringify(d.evidence));
  }

  clearDowngrade(diskId: string): void {
    this.db.prepare('DELETE FROM disk_downgrades WHERE disk_id = ?').run(diskId);
  }
}
