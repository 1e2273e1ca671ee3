// Archives the scrub found corrupt stripes in, by identity (inode, size, mtime): their records
// are reported as unreadable (parseStatus 'unreadable', the scrub's words as parseError, no
// directory facts: what the scan reports for an archive it cannot parse), so the
// coordinator stops counting them and plans their rebuild elsewhere. A scan alone cannot see
// this (it reads no entry data), so every record goes through overlay() before it is stored.
// An archive rewritten since (another inode, size or mtime) is forgotten when next seen; rows of
// archives that are gone stay (a few bytes each) until a file at that place is seen again.
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { archiveKey } from '../../shared/domain/delta.js';
import { SCRUB_PARSE_ERROR_PREFIX } from '../../shared/domain/scrub-finding.js';
import type { AgentDb } from './agent-db.js';

export interface ArchiveIdentity {
  readonly inode: number;
  readonly size: number;
  readonly mtimeMs: number;
}

interface Row {
  key: string;
  inode: number;
  size: number;
  mtime_ms: number;
  detail: string;
}

/** Same file: mtimes are compared to the millisecond (stat paths round sub-ms parts differently). */
export function sameArchive(a: ArchiveIdentity, b: ArchiveIdentity): boolean {
  return a.inode === b.inode && a.size === b.size && Math.abs(a.mtimeMs - b.mtimeMs) < 1;
}

export class CorruptStore {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly db: AgentDb) {
    for (const r of db.prepare('SELECT key, inode, size, mtime_ms, detail FROM corrupt_archives').all() as Row[]) this.rows.set(r.key, r);
  }

  get size(): number {
    return this.rows.size;
  }

  mark(diskId: string, dataPath: string, id: ArchiveIdentity, detail: string): void {
    const row: Row = { key: archiveKey(diskId, dataPath), inode: id.inode, size: id.size, mtime_ms: id.mtimeMs, detail: detail.slice(0, 1000) };
    this.db.prepare(`INSERT INTO corrupt_archives (key, inode, size, mtime_ms, detail, at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(key) DO UPDATE SET inode = excluded.inode, size = excluded.size, mtime_ms = excluded.mtime_ms, detail = excluded.detail, at = excluded.at`)
      .run(row.key, row.inode, row.size, row.mtime_ms, row.detail, Date.now());
    this.rows.set(row.key, row);
  }

  /** Whether the archive now at this place is the one found corrupt. */
  holds(diskId: string, dataPath: string, now: ArchiveIdentity): boolean {
    const row = this.rows.get(archiveKey(diskId, dataPath));
    return row !== undefined && sameArchive({ inode: row.inode, size: row.size, mtimeMs: row.mtime_ms }, now);
  }

  /** The records as they must be reported: known-corrupt ones marked unreadable. */
  overlay<T extends readonly ArchiveRecord[]>(records: T): T | ArchiveRecord[] {
    if (this.rows.size === 0) return records; // the usual case: a full scan's records pass as they are
    return records.map((r) => this.overlayOne(r));
  }

  overlayOne(r: ArchiveRecord): ArchiveRecord {
    const key = archiveKey(r.diskId, r.dataPath);
    const row = this.rows.get(key);
    if (!row) return r;
    if (!sameArchive({ inode: row.inode, size: row.size, mtimeMs: row.mtime_ms }, r)) {
      this.forget(key); // rewritten since: a new archive, judged by the next scrub
      return r;
    }
    // As the scan records an archive it cannot read: no directory facts (the coordinator refuses
    // entries on an archive that is not 'ok'). Size, identity, Pfn and xattrs stay.
    const { crcKind: _c, stripeMap: _m, cdDigest: _d, ...rest } = r;
    return { ...rest, nblocks: 0, nentries: 0, regular: false, parseStatus: 'unreadable', parseError: `${SCRUB_PARSE_ERROR_PREFIX}${row.detail}` };
  }

  /** Entries of archives that are no longer there (removed from the inventory). */
  forget(key: string): void {
    if (!this.rows.delete(key)) return;
    this.db.prepare('DELETE FROM corrupt_archives WHERE key = ?').run(key);
  }
}
