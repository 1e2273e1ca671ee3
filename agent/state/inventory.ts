// The agent's last known inventory: what it has told (or will tell) the coordinator. Changes
// are computed against it, so a restart or a periodic full scan reports only differences.
// Kept in memory as key → fingerprint and in SQLite with the full record.
import { createHash } from 'node:crypto';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { archiveKey, type RemoveCause } from '../../shared/domain/delta.js';
import type { AgentDb } from './agent-db.js';
import type { NewDelta } from './delta-journal.js';

function fingerprint(r: ArchiveRecord): string {
  return createHash('sha1').update(JSON.stringify(r)).digest('base64');
}

/** Archive keys and `<diskId>\0<space>/<XX>` buckets examined by the watcher during a full scan. */
export interface FresherKeys {
  readonly keys: ReadonlySet<string>;
  readonly buckets: ReadonlySet<string>;
}

export class Inventory {
  private readonly byKey = new Map<string, { diskId: string; fp: string }>();
  private readonly put;
  private readonly del;
  private readonly one;

  constructor(private readonly db: AgentDb) {
    for (const row of db.prepare('SELECT key, disk_id, fingerprint FROM inventory').iterate() as Iterable<{ key: string; disk_id: string; fingerprint: string }>) {
      this.byKey.set(row.key, { diskId: row.disk_id, fp: row.fingerprint });
    }
    this.put = db.prepare('INSERT INTO inventory (key, disk_id, fingerprint, record) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET fingerprint = excluded.fingerprint, record = excluded.record');
    this.del = db.prepare('DELETE FROM inventory WHERE key = ?');
    this.one = db.prepare('SELECT record FROM inventory WHERE key = ?');
  }

  get size(): number {
    return this.byKey.size;
  }

  has(diskId: string, dataPath: string): boolean {
    return this.byKey.has(archiveKey(diskId, dataPath));
  }

  /** The record last stored for this archive. */
  get(diskId: string, dataPath: string): ArchiveRecord | undefined {
    const key = archiveKey(diskId, dataPath);
    if (!this.byKey.has(key)) return undefined;
    const row = this.one.get(key) as { record: string } | undefined;
    return row ? JSON.parse(row.record) as ArchiveRecord : undefined;
  }

  /** Records the archive; a delta when it is new or changed. Call inside a transaction for batches. */
  upsert(r: ArchiveRecord): NewDelta | undefined {
    const key = archiveKey(r.diskId, r.dataPath);
    const fp = fingerprint(r);
    if (this.byKey.get(key)?.fp === fp) return undefined;
    this.byKey.set(key, { diskId: r.diskId, fp });
    this.put.run(key, r.diskId, fp, JSON.stringify(r));
    return { kind: 'upsert', record: r };
  }

  remove(diskId: string, dataPath: string, cause: RemoveCause): NewDelta | undefined {
    const key = archiveKey(diskId, dataPath);
    if (!this.byKey.delete(key)) return undefined;
    this.del.run(key);
    return { kind: 'remove', diskId, dataPath, cause };
  }

  /**
   * Reconciles a complete scan of some disks (or of some buckets of them: pass `within` to limit
   * removals to keys under those `<space>/<XX>` buckets) with what was known.
   */
  reconcile(diskIds: readonly string[], records: readonly ArchiveRecord[], cause: RemoveCause = 'rescan', within?: ReadonlySet<string>, fresher?: FresherKeys): NewDelta[] {
    const out: NewDelta[] = [];
    // Keys (or whole buckets) the watcher examined after this scan started: its view is newer
    // than the scan's, which must neither re-add nor remove them.
    const stale = (diskId: string, dataPath: string): boolean => fresher !== undefined
      && (fresher.keys.has(archiveKey(diskId, dataPath)) || fresher.buckets.has(`${diskId}\u0000${dataPath.slice(0, dataPath.lastIndexOf('/'))}`));
    this.db.transaction(() => {
      const seen = new Set<string>();
      for (const r of records) {
        seen.add(archiveKey(r.diskId, r.dataPath));
        if (stale(r.diskId, r.dataPath)) continue;
        const d = this.upsert(r);
        if (d) out.push(d);
      }
      const disks = new Set(diskIds);
      for (const [key, v] of [...this.byKey]) {
        if (!disks.has(v.diskId) || seen.has(key)) continue;
        const dataPath = key.slice(v.diskId.length + 1);
        if (within && !within.has(`${v.diskId}\u0000${dataPath.slice(0, dataPath.lastIndexOf('/'))}`)) continue;
        if (stale(v.diskId, dataPath)) continue;
        const d = this.remove(v.diskId, dataPath, cause);
        if (d) out.push(d);
      }
    })();
    return out;
  }

  /** Every known record of the given disks (for a full inventory to a coordinator). */
  *records(diskIds?: readonly string[]): Generator<ArchiveRecord> {
    const rows = diskIds === undefined
      ? this.db.prepare('SELECT record FROM inventory ORDER BY key').iterate()
      : this.db.prepare(`SELECT record FROM inventory WHERE disk_id IN (${diskIds.map(() => '?').join(',') || "''"}) ORDER BY key`).iterate(...diskIds);
    for (const row of rows as Iterable<{ record: string }>) yield JSON.parse(row.record) as ArchiveRecord;
  }
}
