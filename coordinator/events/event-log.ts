// The data-safety log and NATS outbox: every event is stored here first (in the catalog's
// SQLite file, its own table), then published from here in order; `published_at` marks what
// JetStream has acknowledged. Kept and queryable by `ecguard events`.
import Database from 'better-sqlite3';
import type { EcguardEvent, EventType } from '../../shared/domain/event.js';

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
`;

export class EventLog {
  private readonly db: Database.Database;
  private readonly insert;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare('INSERT OR IGNORE INTO events (id, time_ms, type, body) VALUES (?, ?, ?, ?)');
  }

  /** Stores events durably (one transaction); they are published afterwards. */
  append(events: readonly EcguardEvent[]): void {
    if (events.length === 0) return;
    this.db.transaction(() => {
      for (const e of events) this.insert.run(e.id, Date.parse(e.time), e.type, JSON.stringify(e));
    })();
  }

  /** Unpublished events, oldest first (the outbox). */
  pending(limit: number): EcguardEvent[] {
    const rows = this.db.prepare('SELECT body FROM events WHERE published_at IS NULL ORDER BY seq LIMIT ?').all(limit) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as EcguardEvent);
  }

  markPublished(ids: readonly string[]): void {
    const st = this.db.prepare('UPDATE events SET published_at = ? WHERE id = ?');
    const now = Date.now();
    this.db.transaction(() => {
      for (const id of ids) st.run(now, id);
    })();
  }

  backlog(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events WHERE published_at IS NULL').get() as { n: number }).n;
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
    const sql = `SELECT seq, body, published_at FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, Math.min(q.limit ?? 1000, 100_000)) as { seq: number; body: string; published_at: number | null }[];
    return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as EcguardEvent, ...(r.published_at !== null ? { publishedAt: r.published_at } : {}) }));
  }

  close(): void {
    this.db.close();
  }
}
