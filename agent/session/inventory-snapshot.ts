// A consistent snapshot of the agent's inventory for a full inventory: a second, read-only
// SQLite connection in one read transaction (WAL keeps it stable while the agent goes on
// writing), with the journal's last sequence number read in the same transaction.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';

export interface InventorySnapshot {
  readonly asOfSeq: number;
  batches(size: number): Generator<ArchiveRecord[]>;
  close(): void;
}

export function inventorySnapshot(stateDir: string): InventorySnapshot {
  const db = new Database(join(stateDir, 'agent.sqlite'), { readonly: true });
  db.prepare('BEGIN').run();
  const row = db.prepare("SELECT value FROM meta WHERE key = 'lastSeq'").get() as { value: string } | undefined;
  const asOfSeq = Number(row?.value ?? 0);
  let open = true;
  return {
    asOfSeq,
    *batches(size: number) {
      let batch: ArchiveRecord[] = [];
      for (const r of db.prepare('SELECT record FROM inventory ORDER BY key').iterate() as Iterable<{ record: string }>) {
        batch.push(JSON.parse(r.record) as ArchiveRecord);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    },
    close() {
      if (!open) return;
      open = false;
      db.prepare('COMMIT').run();
      db.close();
    },
  };
}
