// Mark-and-sweep full inventories. Every archive write stores the current generation; a new
// inventory takes the next one, so whatever the server's inventoried disks hold with an older
// generation at endInventory was neither re-sent nor changed by a delta since beginInventory.
// Also the per-batch checks that keep one agent from writing another server's archives.
import type Database from 'better-sqlite3';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { EcguardError } from '../../shared/errors.js';
import { META_GENERATION } from './sqlite-schema.js';
import type { StatementCache } from './sqlite-statements.js';

export interface RunningInventory {
  readonly gen: number;
  readonly diskIds: string[];
}

export class InventoryTracker {
  private gen: number;

  constructor(
    private readonly db: Database.Database,
    private readonly q: StatementCache,
  ) {
    const stored = q.get('SELECT value FROM meta WHERE key = ?').pluck().get(META_GENERATION) as string | undefined;
    this.gen = stored === undefined ? 0 : Number(stored);
  }

  /** The generation new archive writes are marked with. */
  get generation(): number {
    return this.gen;
  }

  requireServer(serverId: string): void {
    if (this.q.get('SELECT 1 FROM servers WHERE server_id = ?').pluck().get(serverId) === undefined) {
      throw new EcguardError('UNKNOWN_SERVER', `server ${serverId} is not in the catalog: put the server (its Hello) before its disks and archives`);
    }
  }

  /** Rejects a batch naming another server, or a disk the catalog knows on another server (DESIGN.md §8.6). */
  checkBatch(serverId: string, records: readonly ArchiveRecord[]): void {
    this.requireServer(serverId);
    const disks = new Set<string>();
    for (const r of records) {
      if (r.serverId !== serverId) throw new EcguardError('SERVER_MISMATCH', `server ${serverId} sent an archive of server ${r.serverId} (${r.diskId} ${r.dataPath}): batch rejected`);
      disks.add(r.diskId);
    }
    const owner = this.q.get('SELECT server_id FROM disks WHERE disk_id = ?').pluck();
    for (const diskId of disks) {
      const s = owner.get(diskId) as string | undefined;
      if (s !== undefined && s !== serverId) throw new EcguardError('DISK_SERVER_MISMATCH', `server ${serverId} sent archives of disk ${diskId}, which belongs to server ${s}: batch rejected`);
    }
  }

  begin(serverId: string, diskIds: readonly string[]): void {
    const next = this.gen + 1;
    this.db.transaction(() => {
      this.requireServer(serverId);
      this.q.get('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(META_GENERATION, String(next));
      this.q.get('UPDATE servers SET inventory_gen = ?, inventory_disks = ? WHERE server_id = ?').run(next, JSON.stringify(diskIds), serverId);
    })();
    this.gen = next; // only once committed
  }

  requireRunning(serverId: string): RunningInventory {
    const row = this.q.get('SELECT inventory_gen AS gen, inventory_disks AS disks FROM servers WHERE server_id = ?').get(serverId) as { gen: number | null; disks: string | null } | undefined;
    if (row === undefined) this.requireServer(serverId);
    if (row?.gen == null || row.disks === null) throw new EcguardError('NO_INVENTORY', `no full inventory of server ${serverId} is in progress: call beginInventory first`);
    return { gen: row.gen, diskIds: JSON.parse(row.disks) as string[] };
  }

  /** Closes the inventory: the server's sequence is `asOfSeq` and its absences now prove something. */
  finish(serverId: string, asOfSeq: number): void {
    this.q.get('UPDATE servers SET applied_seq = ?, inventoried = 1, inventory_gen = NULL, inventory_disks = NULL WHERE server_id = ?').run(asOfSeq, serverId);
  }
}
