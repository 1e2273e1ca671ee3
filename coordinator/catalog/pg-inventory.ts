// Mark-and-sweep full inventories on PostgreSQL, as sqlite-inventory.ts: every archive write
// stores the current generation; beginInventory takes the next one (counted in the meta table,
// so it goes on across restarts and coordinators), and what the server's inventoried disks still
// hold with an older one at endInventory was neither re-sent nor changed since. Also the batch
// checks that keep one agent from writing another server's archives (DESIGN.md §8.6).
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { EcguardError } from '../../shared/errors.js';
import type { Sql } from './pg-session.js';
import { META_GENERATION } from './sqlite-schema.js';

export interface RunningInventory {
  readonly gen: number;
  readonly diskIds: string[];
}

export class PgInventory {
  private gen = 0;

  /** The generation new archive writes are marked with. */
  get generation(): number {
    return this.gen;
  }

  async load(sql: Sql): Promise<void> {
    const [row] = await sql.rows<{ value: string }>('SELECT value FROM meta WHERE key = $1', [META_GENERATION]);
    this.gen = row === undefined ? 0 : Number(row.value);
  }

  async requireServer(sql: Sql, serverId: string): Promise<void> {
    if ((await sql.run('SELECT 1 FROM servers WHERE server_id = $1', [serverId])) === 0) {
      throw new EcguardError('UNKNOWN_SERVER', `server ${serverId} is not in the catalog: put the server (its Hello) before its disks and archives`);
    }
  }

  /** Rejects a batch naming another server, or a disk the catalog knows on another server. */
  async checkBatch(sql: Sql, serverId: string, records: readonly ArchiveRecord[]): Promise<void> {
    await this.requireServer(sql, serverId);
    const disks = new Set<string>();
    for (const r of records) {
      if (r.serverId !== serverId) throw new EcguardError('SERVER_MISMATCH', `server ${serverId} sent an archive of server ${r.serverId} (${r.diskId} ${r.dataPath}): batch rejected`);
      disks.add(r.diskId);
    }
    if (disks.size === 0) return;
    const owners = await sql.rows<{ disk_id: string; server_id: string }>('SELECT disk_id, server_id FROM disks WHERE disk_id = ANY($1::text[]) AND server_id <> $2 ORDER BY disk_id', [[...disks], serverId]);
    const other = owners[0];
    if (other !== undefined) throw new EcguardError('DISK_SERVER_MISMATCH', `server ${serverId} sent archives of disk ${other.disk_id}, which belongs to server ${other.server_id}: batch rejected`);
  }

  /** Call inside a transaction; the new generation counts once it commits (see committed). */
  async begin(sql: Sql, serverId: string, diskIds: readonly string[]): Promise<number> {
    await this.requireServer(sql, serverId);
    const [row] = await sql.rows<{ value: string }>(`INSERT INTO meta (key, value) VALUES ($1, '1')
      ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text RETURNING value`, [META_GENERATION]);
    const next = Number(row?.value);
    await sql.run('UPDATE servers SET inventory_gen = $1, inventory_disks = $2 WHERE server_id = $3', [next, JSON.stringify(diskIds), serverId]);
    return next;
  }

  committed(gen: number): void {
    this.gen = Math.max(this.gen, gen);
  }

  async requireRunning(sql: Sql, serverId: string): Promise<RunningInventory> {
    const [row] = await sql.rows<{ gen: number | null; disks: string | null }>('SELECT inventory_gen AS gen, inventory_disks AS disks FROM servers WHERE server_id = $1 FOR UPDATE', [serverId]);
    if (row === undefined) await this.requireServer(sql, serverId);
    if (row?.gen == null || row.disks === null) throw new EcguardError('NO_INVENTORY', `no full inventory of server ${serverId} is in progress: call beginInventory first`);
    return { gen: row.gen, diskIds: JSON.parse(row.disks) as string[] };
  }

  /** Closes the inventory: the server's sequence is `asOfSeq` and its absences now prove something. */
  async finish(sql: Sql, serverId: string, asOfSeq: number): Promise<void> {
    await sql.run('UPDATE servers SET applied_seq = $1, inventoried = 1, inventory_gen = NULL, inventory_disks = NULL WHERE server_id = $2', [asOfSeq, serverId]);
  }
}
