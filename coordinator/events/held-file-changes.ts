// File changes held while the coordinator is in safe mode (their evidence is incomplete, so
// alerting on them would cry wolf): each file's first previous row and latest row, kept in the
// event log's SQLite file so a restart in safe mode loses none. When safe mode ends each file's
// net change becomes its events, written in the same transaction that clears its row (a page
// of rows per transaction; event-recorder.ts drives the pages).
import type Database from 'better-sqlite3';
import type { EcguardEvent } from '../../shared/domain/event.js';
import type { FileRow } from '../catalog/catalog-types.js';

export const HELD_SCHEMA = `
CREATE TABLE IF NOT EXISTS held_file_changes (
  lfn TEXT PRIMARY KEY,
  prev TEXT,
  next TEXT,
  servers TEXT
) WITHOUT ROWID;
`;

export interface HeldChange {
  readonly lfn: string;
  readonly prev?: FileRow;
  readonly next?: FileRow;
  /** With the latest change: the servers of the latest version, and those of them away. */
  readonly servers?: readonly string[];
  readonly serversAway?: readonly string[];
}

export class HeldFileChanges {
  private readonly upsert;
  private readonly selectPage;
  private readonly remove;

  constructor(
    private readonly db: Database.Database,
    private readonly insertEvents: (events: readonly EcguardEvent[]) => void,
  ) {
    // the first change's prev stays: the net change runs from before safe mode to now
    this.upsert = db.prepare('INSERT INTO held_file_changes (lfn, prev, next, servers) VALUES (?, ?, ?, ?) ON CONFLICT (lfn) DO UPDATE SET next = excluded.next, servers = excluded.servers');
    this.selectPage = db.prepare('SELECT lfn, prev, next, servers FROM held_file_changes ORDER BY lfn LIMIT ?');
    this.remove = db.prepare('DELETE FROM held_file_changes WHERE lfn = ?');
  }

  hold(changes: readonly HeldChange[]): void {
    if (changes.length === 0) return;
    this.db.transaction(() => {
      for (const c of changes) {
        const servers = c.servers || c.serversAway ? JSON.stringify({ servers: c.servers ?? [], serversAway: c.serversAway ?? [] }) : null;
        this.upsert.run(c.lfn, c.prev ? JSON.stringify(c.prev) : null, c.next ? JSON.stringify(c.next) : null, servers);
      }
    })();
  }

  /**
   * Files as announced before a catalog rebuild: the baseline their changes are measured from
   * (the rebuild drops every file row, and each would otherwise be announced as created again).
   * A file already held keeps what it has; one never seen again stays unchanged (no event).
   */
  baseline(rows: readonly FileRow[]): void {
    const st = this.db.prepare('INSERT OR IGNORE INTO held_file_changes (lfn, prev, next, servers) VALUES (?, ?, ?, NULL)');
    this.db.transaction(() => {
      for (const f of rows) {
        const j = JSON.stringify(f);
        st.run(f.lfn, j, j);
      }
    })();
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM held_file_changes').get() as { n: number }).n;
  }

  /** Whether anything is held (cheap, unlike count() on a million rows). */
  any(): boolean {
    return this.db.prepare('SELECT 1 FROM held_file_changes LIMIT 1').get() !== undefined;
  }

  /**
   * Turns up to `limit` held changes into their events (`eventsOf`) and forgets them, in one
   * transaction: a crash loses or repeats no page. Paged so that a million held changes are many
   * short transactions, not one that blocks the coordinator. `rows` < `limit`: nothing is left.
   */
  releasePage(eventsOf: (c: HeldChange) => EcguardEvent[], limit: number, also?: () => void): { rows: number; events: number } {
    return this.db.transaction(() => {
      const rows = this.selectPage.all(limit) as { lfn: string; prev: string | null; next: string | null; servers: string | null }[];
      const events = rows.flatMap((r) => eventsOf({
        lfn: r.lfn, ...(r.prev ? { prev: JSON.parse(r.prev) as FileRow } : {}), ...(r.next ? { next: JSON.parse(r.next) as FileRow } : {}),
        ...(r.servers ? (JSON.parse(r.servers) as { servers: string[]; serversAway: string[] }) : {}),
      }));
      this.insertEvents(events);
      for (const r of rows) this.remove.run(r.lfn);
      also?.();
      return { rows: rows.length, events: events.length };
    })();
  }
}
