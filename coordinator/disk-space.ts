// Room on each disk, as the agents' heartbeats report it (statfs), so repair never places a
// rebuilt archive on a disk that cannot hold it. Kept in memory: it is minutes-fresh data, and
// a disk nobody has reported on yet is assumed to have room (older agents send nothing).

export interface DiskSpaceReport {
  readonly diskId: string;
  readonly freeBytes: number;
  readonly totalBytes: number;
}

export interface DiskSpaceEntry extends DiskSpaceReport {
  readonly at: number;
}

export class DiskSpaceBook {
  private readonly byDisk = new Map<string, DiskSpaceEntry>();

  /**
   * @param minFreeFraction share of each disk repair leaves free (xrootd and the site need it too)
   */
  constructor(private readonly minFreeFraction = 0.02) {}

  /** A heartbeat's reports; disks that are not `serverId`'s, and impossible values, are ignored. */
  note(serverId: string, reports: readonly DiskSpaceReport[], ownerOf: (diskId: string) => string | undefined, now = Date.now()): void {
    for (const r of reports.slice(0, 1024)) {
      if (ownerOf(r.diskId) !== serverId) continue;
      const free = Number(r.freeBytes);
      const total = Number(r.totalBytes);
      if (!Number.isSafeInteger(free) || !Number.isSafeInteger(total) || free < 0 || total <= 0 || free > total) continue;
      this.byDisk.set(r.diskId, { diskId: r.diskId, freeBytes: free, totalBytes: total, at: now });
    }
  }

  get(diskId: string): DiskSpaceEntry | undefined {
    return this.byDisk.get(diskId);
  }

  /** Whether `needBytes` more (beyond `pendingBytes` already planned there) fit above the reserve. */
  hasRoom(diskId: string, needBytes: number, pendingBytes = 0): boolean {
    const e = this.byDisk.get(diskId);
    if (!e) return true;
    return e.freeBytes - pendingBytes - needBytes >= e.totalBytes * this.minFreeFraction;
  }
}
