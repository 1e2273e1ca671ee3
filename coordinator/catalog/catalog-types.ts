// Rows the catalog keeps (DESIGN.md §4, §6). The catalog is a cache of what agents hold plus the
// coordinator's own state (tombstones, events, repair tasks).
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import type { ArchiveRole, FileState, ServerState } from '../../shared/domain/file-health.js';

export interface ServerRow {
  readonly serverId: string;
  readonly state: ServerState;
  /** When the current state began (ms). */
  readonly since: number;
  readonly lastSeen: number;
  /** Highest agent sequence number applied to the catalog. */
  readonly appliedSeq: number;
  /** The agent process instance last connected (changes on agent restart). */
  readonly instanceId: string;
  /** A full inventory has been received at least once (otherwise its absence proves nothing). */
  readonly inventoried: boolean;
  /** Set with a state change whose files are not reclassified yet (reclassify-markers.ts). */
  readonly reclassifyPending?: number;
}

export type DiskState = 'online' | 'missing' | 'failed' | 'downgraded';

export interface DiskRow {
  readonly diskId: string;
  readonly serverId: string;
  readonly path: string;
  readonly space: string;
  readonly state: DiskState;
  readonly since: number;
  readonly uuid?: string;
  readonly evidence: readonly string[];
  /** Set with a state change whose files are not reclassified yet (reclassify-markers.ts). */
  readonly reclassifyPending?: number;
}

/** An archive as stored: the agent's record plus its server. */
export interface ArchiveRow extends ArchiveRecord {
  readonly serverId: string;
}

/** The part of an archive classification reads: its key, version, shape and parse outcome. */
export type ClassifiableArchive = Pick<ArchiveRow, 'serverId' | 'diskId' | 'dataPath' | 'lfn' | 'mtimeMs' | 'strpver' | 'filesize' | 'nblocks' | 'regular' | 'stripeMap' | 'parseStatus' | 'parseError' | 'cdDigest'>;

/** An archive as the reclassifier reads it (archiveStatesOf): what it needs, and the role stored now. */
export interface ArchiveState extends ClassifiableArchive {
  /** The stored role; undefined for a current or never classified archive (stored as NULL). */
  readonly role?: ArchiveRole;
  readonly roleReason?: string;
}

export interface FileRow {
  readonly lfn: string;
  readonly state: FileState;
  /** min coverage − N over blocks, counting only available archives (−1 when below N). */
  readonly redundancy: number;
  readonly latestStrpver?: number;
  readonly filesize?: number;
  /** Available archives at the latest version / archives at the latest version on down servers. */
  readonly available: number;
  readonly unavailable: number;
  readonly reason: string;
  /** First time any archive of this LFN was seen, and when the latest version was first complete. */
  readonly firstSeen: number;
  readonly createdAt?: number;
  readonly stateSince: number;
  readonly bytes: number;
}

export interface ArchiveRoleRow {
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly lfn: string;
  readonly role: ArchiveRole;
  readonly reason: string;
}

/** A deletion the coordinator saw: explains archives that reappear later (DESIGN.md §4). */
export interface Tombstone {
  readonly lfn: string;
  readonly strpver?: number;
  readonly at: number;
  readonly reason: string;
}

export interface FileFilter {
  readonly states?: readonly FileState[];
  readonly serverId?: string;
  readonly diskId?: string;
  readonly prefix?: string;
  readonly createdSince?: number;
  readonly limit?: number;
  readonly after?: string;
}

/**
 * An archive whose stripes a repair rebuilt elsewhere: while it was away (down server, missing
 * disk), or because its disk or server is drained. If it comes back (or stays) it duplicates the
 * rebuilt ones: it never counts toward coverage again, or the file would look more redundant
 * than it is.
 */
export interface ReplacedArchive {
  readonly lfn: string;
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly strpver: number;
  readonly taskId: string;
  readonly at: number;
}
