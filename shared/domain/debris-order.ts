// Debris quarantine (DESIGN.md §8.1): the coordinator orders an agent to move one archive aside;
// the agent re-checks that it is still the archive the decision was made about, then moves it.
// Domain types; the wire form is converted in shared/wire/debris-wire.ts.

export interface QuarantineOrder {
  /** Unique per order: names the quarantine directory, so a re-sent order is done once. */
  readonly orderId: string;
  readonly lfn: string;
  readonly diskId: string;
  /** `<space>/<XX>/<name>%`, relative to the disk. */
  readonly dataPath: string;
  /** What the catalog knew of the data file when the coordinator decided: all must still hold. */
  readonly inode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly strpver?: number;
  readonly pfn?: string;
  /** The namespace symlink that pointed at it; removed too if it still does. */
  readonly nsPath?: string;
  /** Why the coordinator calls it debris (kept in the quarantine manifest). */
  readonly reason: string;
}

export type QuarantineOutcome = 'quarantined' | 'refused' | 'failed';

export interface QuarantineResult {
  readonly orderId: string;
  readonly outcome: QuarantineOutcome;
  /** Stable code when refused or failed (ARCHIVE_CHANGED, DISK_NOT_ONLINE, ...). */
  readonly code?: string;
  readonly message: string;
  /** Where it went (absolute), when quarantined. */
  readonly quarantinePath?: string;
  /** The namespace symlink removed with it, if any. */
  readonly linkRemoved?: string;
  /** When the agent will purge it (ms), when quarantined. */
  readonly purgeAfterMs?: number;
}
