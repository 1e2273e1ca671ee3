// In-memory view of servers and disks (few thousand rows at most), loaded from the catalog at
// start and written through on every change, so the health engine reads states without I/O.
import type { ServerState } from '../shared/domain/file-health.js';
import type { CatalogStore } from './catalog/catalog-store.js';
import type { DiskRow, DiskState, ServerRow } from './catalog/catalog-types.js';

export class ClusterState {
  private readonly servers = new Map<string, ServerRow>();
  private readonly disks = new Map<string, DiskRow>();

  constructor(private readonly store: CatalogStore) {}

  async load(): Promise<void> {
    for (const s of await this.store.listServers()) this.servers.set(s.serverId, s);
    for (const d of await this.store.listDisks()) this.disks.set(d.diskId, d);
  }

  server(id: string): ServerRow | undefined {
    return this.servers.get(id);
  }

  serverState = (id: string): ServerState => this.servers.get(id)?.state ?? 'down';

  diskState = (id: string): DiskState | undefined => this.disks.get(id)?.state;

  listServers(): ServerRow[] {
    return [...this.servers.values()].sort((a, b) => a.serverId.localeCompare(b.serverId));
  }

  listDisks(serverId?: string): DiskRow[] {
    return [...this.disks.values()].filter((d) => serverId === undefined || d.serverId === serverId).sort((a, b) => a.diskId.localeCompare(b.diskId));
  }

  disk(id: string): DiskRow | undefined {
    return this.disks.get(id);
  }

  async putServer(row: ServerRow): Promise<void> {
    this.servers.set(row.serverId, withMarker(row, this.servers.get(row.serverId)));
    await this.store.putServer(row);
  }

  /**
   * Updates a server from its stored row (the store advances appliedSeq and inventoried on its
   * own as changes are applied: a cached copy must never write those back stale).
   */
  async updateServer(id: string, patch: Partial<ServerRow>): Promise<ServerRow | undefined> {
    const prev = (await this.store.getServer(id)) ?? this.servers.get(id);
    if (!prev) return undefined;
    const next = { ...prev, ...patch };
    this.servers.set(id, withMarker(next, this.servers.get(id)));
    await this.store.putServer(next);
    return prev;
  }

  /** The stored row, fresh (appliedSeq and inventoried included). */
  async freshServer(id: string): Promise<ServerRow | undefined> {
    const row = await this.store.getServer(id);
    if (row) this.servers.set(id, row);
    return row;
  }

  async putDisk(row: DiskRow): Promise<DiskRow | undefined> {
    const prev = this.disks.get(row.diskId);
    this.disks.set(row.diskId, withMarker(row, prev));
    await this.store.putDisk(row);
    return prev;
  }

  /** Forgets a disk and its archives (store and cache); returns the LFNs touched. */
  async forgetDisk(id: string): Promise<string[]> {
    const lfns = await this.store.forgetDisk(id);
    this.disks.delete(id);
    return lfns;
  }

  /** Forgets a server, its disks and its archives (store and cache); returns the LFNs touched. */
  async forgetServer(id: string): Promise<string[]> {
    const lfns = await this.store.forgetServer(id);
    this.servers.delete(id);
    for (const [diskId, d] of this.disks) if (d.serverId === id) this.disks.delete(diskId);
    return lfns;
  }

  /** The store cleared a reclassify marker: so does the cached row, if it still has that one. */
  markerCleared(kind: 'server' | 'disk', id: string, token: number): void {
    const map: Map<string, ServerRow | DiskRow> = kind === 'server' ? this.servers : this.disks;
    const row = map.get(id);
    if (row?.reclassifyPending !== token) return;
    const { reclassifyPending: _, ...rest } = row;
    map.set(id, rest as ServerRow | DiskRow);
  }
}

/** The store keeps a marker a write does not carry (catalog-store.ts putServer): the cache does too. */
function withMarker<T extends { readonly reclassifyPending?: number }>(row: T, cached: T | undefined): T {
  return row.reclassifyPending === undefined && cached?.reclassifyPending !== undefined ? { ...row, reclassifyPending: cached.reclassifyPending } : row;
}
