// Repair tasks (DESIGN.md §7): one per file, rebuilding all its missing archives. The coordinator
// keeps them in the catalog; the wire form lives in proto/ecguard/v1/repair.proto.
import type { CrcKind } from '../codec/codec.js';
import type { EcProfile } from '../xrdec/profile.js';
import type { XattrNamespace } from '../xrdec/xattrs.js';

/**
 * queued → assigned (sent to an executor) → running → verifying (agent done, waiting for the
 * target's inventory to show the new archives) → done. failed: waits for a retry (backoff);
 * parked: failed too often, waits for an operator (`ecguard repair retry`); cancelled: the plan
 * went stale (file healthy again, rewritten or deleted) before it ran.
 */
export type RepairTaskState = 'queued' | 'assigned' | 'running' | 'verifying' | 'done' | 'failed' | 'parked' | 'cancelled';

export const REPAIR_TASK_STATES: readonly RepairTaskState[] = ['queued', 'assigned', 'running', 'verifying', 'done', 'failed', 'parked', 'cancelled'];

/** States holding the file: no second task is planned while one of these exists. */
export const ACTIVE_TASK_STATES: readonly RepairTaskState[] = ['queued', 'assigned', 'running', 'verifying', 'failed', 'parked'];

export type RepairPhase = 'accepted' | 'fetching' | 'decoding' | 'writing' | 'verifying' | 'done' | 'failed';

export interface RepairSourceRef {
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
}

export interface RepairTargetRef {
  /** With the task id, the idempotence key of the placement (agent placement ledger). */
  readonly slot: number;
  readonly serverId: string;
  readonly diskId: string;
  /** A dead disk of the same server whose dangling namespace symlink the new archive replaces. */
  readonly replaceLinkOfDisk?: string;
  /**
   * Set with replaceLinkOfDisk when that disk is drained, not dead: the data path (relative to
   * it) of the live archive being moved. The link is replaced only while it points at exactly
   * this file and the file still has the task's strpver.
   */
  readonly replaceLinkOfPath?: string;
  /**
   * Objects with .mt files: the digest of the lost archive's central directory, which the new
   * archive keeps byte for byte (the .mt member with this digest gives its layout).
   */
  readonly directoryDigest?: string;
  /** This server's `.mt` copy sat on this dead disk: restore it beside the rebuilt archive. */
  readonly metadataLostOnDisk?: string;
}

export interface PlacedRef {
  readonly slot: number;
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly size: number;
  readonly linked: boolean;
}

export interface RepairPlan {
  readonly lfn: string;
  readonly profile: EcProfile;
  readonly strpver: number;
  readonly filesize: number;
  readonly crcKind?: CrcKind;
  readonly xattrNamespace: XattrNamespace;
  readonly sources: readonly RepairSourceRef[];
  readonly targets: readonly RepairTargetRef[];
  /** The object's .mt files on up servers (set when targets carry a directoryDigest). */
  readonly metadataSources?: readonly RepairSourceRef[];
  /** Bytes the executor reads (N stripes per block) and writes (the new archives). */
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface RepairProgress {
  readonly phase: RepairPhase;
  readonly blocksDone: number;
  readonly blocksTotal: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface RepairTaskRow {
  readonly taskId: string;
  readonly lfn: string;
  readonly state: RepairTaskState;
  readonly plan: RepairPlan;
  /** The file's redundancy when planned (lower runs first), and since when it is not healthy. */
  readonly redundancy: number;
  readonly degradedSince: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly attempt: number;
  /** `attempt` when an operator last retried it: attempts since then count toward parking (attempt numbers never repeat). */
  readonly attemptsBase?: number;
  readonly executor?: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** failed: not before this time (backoff). */
  readonly nextAttemptAt?: number;
  /** assigned/running: reassigned when no progress arrives before this time. */
  readonly leaseUntil?: number;
  readonly progress?: RepairProgress;
  readonly placed: readonly PlacedRef[];
  /**
   * The targets the last attempt was sent to: they may keep its partial archives. A re-plan
   * (a refresh while queued) may change plan.targets; these stay, so a retry prefers them and
   * a target it drops is told to discard what it kept. Absent before the first attempt.
   */
  readonly lastAttemptTargets?: readonly RepairTargetRef[];
  readonly errorCode?: string;
  readonly error?: string;
  /** Sources skipped or entries refused in the last attempt (CRC mismatches, unreadable). */
  readonly sourceProblems?: readonly string[];
  /** Planned by an operator (`repair run`): down servers' graces do not hold it back. */
  readonly forced?: boolean;
  /** The file's state when the task was made (for the file.repaired event). */
  readonly fileState?: string;
  /** Archives the task moves off drained disks or servers (`ecguard drain`). */
  readonly evacuates?: number;
}

export interface RepairTaskFilter {
  readonly states?: readonly RepairTaskState[];
  readonly lfn?: string;
  readonly limit?: number;
}
