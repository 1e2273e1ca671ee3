// The coordinator bench's shared parts: a table row, and feeding full inventories through the store.
import type { ArchiveRecord } from '../shared/domain/archive-record.js';
export interface CoordinatorBenchRow {
  readonly name: string;
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly note: string;
}

/** What a full inventory goes through in the coordinator: store batches of 10k, reclassifier marks. */
export interface InventorySink {
  beginInventory(serverId: string, diskIds: readonly string[]): Promise<unknown>;
  inventoryBatch(serverId: string, batch: readonly ArchiveRecord[]): Promise<readonly string[]>;
  endInventory(serverId: string, seq: number): Promise<readonly string[]>;
}

/** Sends each server's records as a full inventory; returns how many records went in. */
export async function ingestInventories(store: InventorySink, mark: (lfns: readonly string[]) => void, servers: readonly { id: string; disks: readonly string[]; records: Iterable<ArchiveRecord> }[]): Promise<number> {
  let n = 0;
  for (const s of servers) {
    await store.beginInventory(s.id, s.disks);
    let batch: ArchiveRecord[] = [];
    for (const r of s.records) {
      batch.push(r);
      if (batch.length === 10_000) {
        mark(await store.inventoryBatch(s.id, batch));
        n += batch.length;
        batch = [];
      }
    }
    mark(await store.inventoryBatch(s.id, batch));
    n += batch.length;
    mark(await store.endInventory(s.id, 0));
  }
  return n;
}
