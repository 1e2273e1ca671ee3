// What the Admin API needs from the coordinator (an interface, so admin/ does not import the
// coordinator module: no import cycle, and handlers are testable alone).
import type { CensusTally } from '../events/census.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { EventLog } from '../events/event-log.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { ClusterState } from '../cluster-state.js';
import type { DiskSpaceBook } from '../disk-space.js';
import type { SafeMode } from '../safe-mode.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { SyncCounts } from '../session/session-context.js';
import type { RepairManager } from '../repair/repair-manager.js';
import type { DebrisQuarantine } from '../debris/debris-quarantine.js';

export interface AdminContext {
  readonly insecure: boolean;
  readonly store: CatalogStore;
  readonly cluster: ClusterState;
  /** Room per disk, from the agents' heartbeats. */
  readonly space: DiskSpaceBook;
  readonly safeMode: SafeMode;
  readonly registry: SessionRegistry;
  readonly startedAt: number;
  readonly repair: RepairManager;
  readonly debris: DebrisQuarantine;
  profile(): EcProfile | undefined;
  serverLost(serverId: string): Promise<string>;
  forgetServer(serverId: string): Promise<string>;
  forgetDisk(diskId: string): Promise<string>;
  rebuildCatalog(): Promise<string>;
  readonly syncs: ReadonlyMap<string, SyncCounts>;
  readonly indicators: { states(): Record<string, { active: boolean; since: number; details: string }> };
  readonly rejected: ReadonlyMap<string, number>;
  readonly o: { readonly cluster: string; readonly eventLog?: EventLog };
  /** With an event log: the first census's tally while it lasts. */
  readonly events?: { readonly censusTally: CensusTally | undefined } | undefined;
}
