// What a session needs from the coordinator: kept as an interface so sessions stay small and
// testable, and the coordinator stays the one place that ties store, health and safe mode.
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { DiskInfo } from '../../shared/wire/session-wire.js';
import type { ArchiveRemoval, CatalogStore } from '../catalog/catalog-store.js';
import type { ServerRow } from '../catalog/catalog-types.js';
import type { SessionHandle, SessionRegistry } from './session-registry.js';
import type { ProgressReport } from '../../shared/wire/repair-wire.js';
import type { DiskSpaceReport } from '../disk-space.js';
import type { QuarantineResult } from '../../shared/domain/debris-order.js';
import type { ScrubFinding } from '../../shared/domain/scrub-finding.js';

export interface SessionContext {
  readonly store: CatalogStore;
  readonly registry: SessionRegistry;
  /** No TLS: identities are not checked (loopback demos only). */
  readonly insecure: boolean;
  readonly heartbeatMs: number;
  /** Refused records of one inventory whose old rows are kept from its sweep; past it nothing is swept. */
  readonly maxRejectedKeys: number;
  /** The EC profile of a file (by LFN prefix), or the site default. */
  profile(lfn?: string): EcProfile | undefined;
  noteProfile(serverId: string, p: EcProfile): void;
  /** Any message from the server: it is alive. */
  seen(serverId: string): void;
  /** Marks the server up; returns its row as it was before this connection (undefined: new). */
  serverConnected(serverId: string, instanceId: string): Promise<ServerRow | undefined>;
  diskReport(serverId: string, disk: DiskInfo, replacedUuid: string | undefined): Promise<void>;
  /** The server's view in the catalog is complete (for safe mode). */
  reported(serverId: string): void;
  reclassify(lfns: readonly string[]): void;
  reclassifyUnlinked(lfns: readonly string[]): void;
  lfnsOfArchives(serverId: string, keys: readonly ArchiveRemoval[]): Promise<string[]>;
  rejectedRecord(serverId: string, reason: string): void;
  /** A session chose how to sync (counted per server for operators and tests). */
  /** A session synced: by full inventory, journal replay, or digest resync (`records`: those re-sent). */
  synced(serverId: string, mode: 'full' | 'replay' | 'digest', records?: number): void;
  /** A session is up: repair learns its Stripes address and which tasks it still runs. */
  repairSessionStarted(s: SessionHandle, instanceChanged: boolean, runningTasks: readonly string[]): Promise<void>;
  repairProgress(serverId: string, p: ProgressReport): Promise<void>;
  /** Free and total bytes of the server's disks (from heartbeats). */
  diskSpace(serverId: string, reports: readonly DiskSpaceReport[]): void;
  /** A holder's answer to a quarantine order. */
  quarantineResult(serverId: string, r: QuarantineResult): void;
  /** An archive the holder's scrub found corrupt stripes in. */
  scrubFinding(serverId: string, f: ScrubFinding): Promise<void>;
}

/** Per server since the coordinator started. */
export interface SyncCounts {
  full: number;
  replay: number;
  digest: number;
  digestRecords: number;
}
