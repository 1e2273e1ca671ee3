// What the repair planner and dispatcher need from the coordinator, as an interface so they can
// be driven in tests without gRPC.
import type { CorruptSource } from './corrupt-sources.js';
import type { RepairTask as WireTask, RepairThrottles as WireThrottles } from '../../proto/gen/ecguard/v1/repair.js';
import type { PlacedRef, RepairTaskRow } from '../../shared/domain/repair-task.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { FileRow } from '../catalog/catalog-types.js';
import type { ClusterState } from '../cluster-state.js';
import type { Drain, DrainView } from './drain-book.js';

/** The repair side of an agent's session. */
export interface RepairSession {
  readonly serverId: string;
  /** The agent's Stripes service; empty when it serves none (it cannot execute or be read from). */
  readonly stripesAddress: string;
  sendTask(task: WireTask): void;
  /** Stops the task on this agent; `discardSlots`: also drop its partial archives of those slots. */
  cancelTask(taskId: string, reason: string, discardSlots?: readonly number[]): void;
  sendThrottles(t: WireThrottles): void;
  requestRescan(diskIds: readonly string[], reason: string): void;
}

export interface RepairEvents {
  repaired(task: RepairTaskRow, file: FileRow | undefined, placed: readonly PlacedRef[]): void;
  repairFailed(task: RepairTaskRow): void;
  /** Source stripes whose CRC did not match (corruption.found, detected by repair). */
  corruptionFound?(lfn: string, found: readonly CorruptSource[]): void;
  /** A drain started, stopped or completed (`subject`: its server, and its disk for a disk drain). */
  drain?(type: 'drain.started' | 'drain.stopped' | 'drain.completed', d: Drain, subject: { serverId: string; diskId?: string }, detail: { disks?: number; remaining?: number }): void;
}

export interface RepairHost {
  readonly store: CatalogStore;
  readonly cluster: ClusterState;
  profileFor(lfn: string): EcProfile | undefined;
  /** Why nothing may be planned or started now (safe mode), or undefined. */
  gate(): string | undefined;
  session(serverId: string): RepairSession | undefined;
  sessions(): RepairSession[];
  /** Marks files for reclassification (their archives' roles changed). */
  reclassify(lfns: readonly string[]): void;
  /** Runs pending reclassifications now (before reading file rows for events). */
  flushReclassify(): Promise<void>;
  readonly events?: RepairEvents;
  /** Room per disk (agents' heartbeats); without it every online disk counts as having room. */
  readonly space?: { hasRoom(diskId: string, needBytes: number, pendingBytes?: number): boolean };
  /** Disks and servers an operator drains (`ecguard drain`): their archives move elsewhere. */
  readonly drains?: DrainView;
}
