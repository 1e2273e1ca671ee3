// The data-safety log and NATS outbox: every event is stored here first (a local SQLite file:
// the catalog's own with an SQLite catalog, --event-log with a PostgreSQL one, which stays on
// the coordinator's host), then published from here in order; `published_at` marks what
// JetStream has acknowledged. Kept and queryable by `ecguard events`.
import Database from 'better-sqlite3';
import { observeEventId, type EcguardEvent, type EventType } from '../../shared/domain/event.js';
import { HELD_SCHEMA, HeldFileChanges } from './held-file-changes.js';

export interface StoredEvent {
  readonly seq: number;
  readonly event: EcguardEvent;
  readonly publishedAt?: number;
}

export interface EventQuery {
  readonly afterSeq?: number;
  readonly sinceMs?: number;
  readonly types?: readonly EventType[];
  readonly limit?: number;
  /** The newest `limit` matches (returned oldest first) instead of the oldest. */
  readonly newest?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  published_at INTEGER
);
CREATE INDEX IF NOT EXISTS events_unpublished ON events (seq) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS events_time ON events (time_ms);
CREATE TABLE IF NOT EXISTS events_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Events up to this seq were logged before publishing was ever configured: never published. */
const PUBLISH_FROM = 'publishFromSeq';

export class EventLog {
  private readonly db: Database.Database;
  private readonly insert;
  /** Set by beginPublishing(): without a publisher nothing is "pending" (no backlog to alert on). */
  private publishFrom: number | undefined;

  /** File changes held during safe mode (held-file-changes.ts). */
  readonly held: HeldFileChanges;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.db.exec(HELD_SCHEMA);
    // logs made before publish refusals were recorded
    const cols = this.db.prepare('PRAGMA table_info(events)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'publish_error')) this.db.exec('ALTER TABLE events ADD COLUMN publish_error TEXT');
    this.insert = this.db.prepare('INSERT OR IGNORE INTO events (id, time_ms, type, body) VALUES (?, ?, ?, ?)');
    this.held = new HeldFileChanges(this.db, (events) => this.insertAll(events));
    // New ids sort after every stored one, even when the clock stepped back since (or another
    // host wrote them): consumers may checkpoint by id.
    const last = this.db.prepare('SELECT id FROM events ORDER BY seq DESC LIMIT 1').get() as { id: string } | undefined;
    if (last) observeEventId(last.id);
  }

  /**
   * A publisher will drain the outbox from now on. The first time ever, events logged before
   * (a coordinator run without NATS) are left out: a new subscriber would otherwise get months
   * of old alerts as new messages. Returns how many were left out this call.
   */
  beginPublishing(): number {
    const row = this.db.prepare('SELECT value FROM events_meta WHERE key = ?').get(PUBLISH_FROM) as { value: string } | undefined;
    if (row) {
      this.publishFrom = Number(row.value);
      return 0;
    }
    // A log that was published from before this marker existed (an upgrade) keeps its backlog:
    // publishing resumes after the last event JetStream acknowledged.
    const lastPublished = (this.db.prepare('SELECT max(seq) AS m FROM events WHERE published_at IS NOT NULL').get() as { m: number | null }).m;
    const max = lastPublished ?? (this.db.prepare('SELECT coalesce(max(seq), 0) AS m FROM events').get() as { m: number }).m;
    this.db.prepare('INSERT INTO events_meta (key, value) VALUES (?, ?)').run(PUBLISH_FROM, String(max));
    this.publishFrom = max;
    return (this.db.prepare('SELECT count(*) AS n FROM events WHERE published_at IS NULL AND seq <= ?').get(max) as { n: number }).n;
  }

  /** Stores events durably (one transaction, with `also`); they are published afterwards. */
  append(events: readonly EcguardEvent[], also?: () => void): void {
    if (events.length === 0 && !also) return;
    this.db.transaction(() => {
      this.insertAll(events);
      also?.();
    })();
  }

  private insertAll(events: readonly EcguardEvent[]): void {
    for (const e of events) this.insert.run(e.id, Date.parse(e.time), e.type, JSON.stringify(e));
  }

  /** Unpublished events, oldest first (the outbox); none before beginPublishing(). */
  pending(limit: number): EcguardEvent[] {
    if (this.publishFrom === undefined) return [];
    const rows = this.db.prepare('SELECT body FROM events WHERE published_at IS NULL AND publish_error IS NULL AND seq > ? ORDER BY seq LIMIT ?').all(this.publishFrom, limit) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as EcguardEvent);
  }

  /** The stream refuses this event for good (too large, invalid): kept in the log, not retried. */
  markRefused(id: string, error: string): void {
    this.db.prepare('UPDATE events SET publish_error = ? WHERE id = ? AND published_at IS NULL').run(error.slice(0, 2000), id);
  }

  refusedCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events WHERE publish_error IS NOT NULL').get() as { n: number }).n;
  }

  markPublished(ids: readonly string[]): void {
    const st = this.db.prepare('UPDATE events SET published_at = ? WHERE id = ?');
    const now = Date.now();
    this.db.transaction(() => {
      for (const id of ids) st.run(now, id);
    })();
  }

  /** Events waiting for the publisher; 0 without one (nothing is late when nothing publishes). */
  backlog(): number {
    if (this.publishFrom === undefined) return 0;
    return (this.db.prepare('SELECT count(*) AS n FROM events WHERE published_at IS NULL AND publish_error IS NULL AND seq > ?').get(this.publishFrom) as { n: number }).n;
  }

  query(q: EventQuery): StoredEvent[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(q.afterSeq);
    }
    if (q.sinceMs !== undefined) {
      where.push('time_ms >= ?');
      args.push(q.sinceMs);
    }
    if (q.types && q.types.length > 0) {
      where.push(`type IN (${q.types.map(() => '?').join(',')})`);
      args.push(...q.types);
    }
    const sql = `SELECT seq, body, published_at FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${q.newest ? 'DESC' : ''} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, Math.min(q.limit ?? 1000, 100_000)) as { seq: number; body: string; published_at: number | null }[];
    if (q.newest) rows.reverse();
    return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as EcguardEvent, ...(r.published_at !== null ? { publishedAt: r.published_at } : {}) }));
  }

  /** A value of events_meta (census.ts keeps its tally there, in the release's transactions). */
  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM events_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.db.prepare('DELETE FROM events_meta WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO events_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  close(): void {
    this.db.close();
  }
}
