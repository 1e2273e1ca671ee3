// Inventory changes an agent reports (DESIGN.md §6): each journal entry is one upsert or one
// removal, numbered by a per-agent sequence that only grows.
import type { ArchiveRecord } from './archive-record.js';

export type RemoveCause =
  | 'unlink' // seen deleted on a healthy disk
  | 'disk-lost' // its disk went missing or failed
  | 'rescan'; // a full scan no longer finds it (the watch missed the delete)

export interface UpsertDelta {
  readonly seq: number;
  readonly at: number;
  readonly kind: 'upsert';
  readonly record: ArchiveRecord;
}

export interface RemoveDelta {
  readonly seq: number;
  readonly at: number;
  readonly kind: 'remove';
  readonly diskId: string;
  readonly dataPath: string;
  readonly cause: RemoveCause;
}

export type Delta = UpsertDelta | RemoveDelta;

/** Key of one archive on one server: disk + path on it. */
export function archiveKey(diskId: string, dataPath: string): string {
  return `${diskId}\u0000${dataPath}`;
}
