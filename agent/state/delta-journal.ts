// The bounded delta journal: every inventory change gets the next sequence number and stays
// until the coordinator acknowledges it. When full it stops storing and says so (overflow): the
// coordinator then resyncs from the inventory instead of trusting a journal with holes.
import type { Delta, RemoveCause } from '../../shared/domain/delta.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { getMeta, setMeta, type AgentDb } from './agent-db.js';

export type NewDelta =
  | { kind: 'upsert'; record: ArchiveRecord }
  | { kind: 'remove'; diskId: string; dataPath: string; cause: RemoveCause };

export interface JournalStats {
  readonly lastSeq: number;
  readonly ackedSeq: number;
  readonly pending: number;
  readonly maxEntries: number;
  /** Sequence of the first change that could not be stored; the journal has a gap after it. */
  readonly overflowSince?: number;
  /** The last sequence number that could not be stored (with overflowSince). */
  readonly lastDropped?: number;
}

export interface ReplayResult {
  readonly deltas: Delta[];
  /** The journal cannot cover the requested range: a full (or digest) resync is needed. */
  readonly gap: boolean;
}

export class DeltaJournal {
  private lastSeq: number;
  private ackedSeq: number;
  private pending: number;
  private overflowSince: number | undefined;
  /** The last sequence number that could not be stored. */
  private lastDropped: number;
  /** Entries up to here were dropped unacknowledged because a full inventory covers them. */
  private trimmedTo: number;
  private readonly insert;

  constructor(private readonly db: AgentDb, private readonly maxEntries: number) {
    const stored = getMeta(db, 'lastSeq');
    if (stored === undefined) {
      // A new journal (first start, or a wiped/reinstalled state dir) must never look like the
      // continuation of an older one the coordinator has applied: start above any sequence an
      // earlier journal of this server can have reached (time-based), so Hello's ackedSeq
      // exceeds the catalog's appliedSeq and the coordinator asks for a full inventory.
      const base = Date.now() * 1000;
      setMeta(db, 'lastSeq', String(base));
      setMeta(db, 'ackedSeq', String(base));
    }
    this.lastSeq = Number(getMeta(db, 'lastSeq') ?? 0);
    this.ackedSeq = Number(getMeta(db, 'ackedSeq') ?? 0);
    const o = getMeta(db, 'overflowSince');
    this.overflowSince = o === undefined || o === '' ? undefined : Number(o);
    this.lastDropped = Number(getMeta(db, 'lastDropped') || 0);
    this.trimmedTo = Number(getMeta(db, 'trimmedTo') || 0);
    this.pending = (db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n;
    this.insert = db.prepare('INSERT INTO journal (seq, at, kind, disk_id, data_path, payload) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /** Appends changes in one transaction; returns the stored deltas (none once overflowing). */
  append(changes: readonly NewDelta[]): Delta[] {
    if (changes.length === 0) return [];
    const out: Delta[] = [];
    const at = Date.now();
    this.db.transaction(() => {
      for (const c of changes) {
        const seq = ++this.lastSeq;
        if (this.pending >= this.maxEntries) {
          // Sequence numbers still advance so the gap is visible to the coordinator.
          if (this.overflowSince === undefined) {
            this.overflowSince = seq;
            setMeta(this.db, 'overflowSince', String(seq));
          }
          this.lastDropped = seq;
          setMeta(this.db, 'lastDropped', String(seq));
          continue;
        }
        const d: Delta = c.kind === 'upsert'
          ? { seq, at, kind: 'upsert', record: c.record }
          : { seq, at, kind: 'remove', diskId: c.diskId, dataPath: c.dataPath, cause: c.cause };
        const diskId = c.kind === 'upsert' ? c.record.diskId : c.diskId;
        const dataPath = c.kind === 'upsert' ? c.record.dataPath : c.dataPath;
        this.insert.run(seq, at, c.kind, diskId, dataPath, JSON.stringify(c.kind === 'upsert' ? c.record : { cause: c.cause }));
        this.pending++;
        out.push(d);
      }
      setMeta(this.db, 'lastSeq', String(this.lastSeq));
    })();
    return out;
  }

  /** The coordinator has stored everything up to `seq`. */
  ack(seq: number): void {
    if (seq <= this.ackedSeq) return;
    const upTo = Math.min(seq, this.lastSeq);
    this.db.transaction(() => {
      const r = this.db.prepare('DELETE FROM journal WHERE seq <= ?').run(upTo);
      this.pending -= r.changes;
      this.ackedSeq = upTo;
      setMeta(this.db, 'ackedSeq', String(upTo));
    })();
  }

  /** Deltas after `afterSeq`, or gap=true when the journal cannot cover them. */
  replay(afterSeq: number): ReplayResult {
    if (afterSeq < this.ackedSeq || afterSeq < this.trimmedTo || (this.overflowSince !== undefined && afterSeq < this.lastDropped)) return { deltas: [], gap: true };
    const rows = this.db.prepare('SELECT seq, at, kind, disk_id, data_path, payload FROM journal WHERE seq > ? ORDER BY seq').all(afterSeq) as {
      seq: number; at: number; kind: string; disk_id: string; data_path: string; payload: string;
    }[];
    const deltas = rows.map((r): Delta => r.kind === 'upsert'
      ? { seq: r.seq, at: r.at, kind: 'upsert', record: JSON.parse(r.payload) as ArchiveRecord }
      : { seq: r.seq, at: r.at, kind: 'remove', diskId: r.disk_id, dataPath: r.data_path, cause: (JSON.parse(r.payload) as { cause: RemoveCause }).cause });
    return { deltas, gap: false };
  }

  /**
   * A full inventory as of `asOfSeq` is being sent. While the journal has a gap its entries up to
   * there can never be replayed (every Hello asks for a full inventory), so free their room:
   * otherwise a journal still full drops the changes made during the inventory, the replay after
   * it finds a gap, and a busy server repeats full inventories forever.
   */
  coveredBySnapshot(asOfSeq: number): void {
    if (this.overflowSince === undefined) return;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM journal WHERE seq <= ?').run(asOfSeq);
      this.pending = (this.db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n;
      this.trimmedTo = Math.max(this.trimmedTo, asOfSeq);
      setMeta(this.db, 'trimmedTo', String(this.trimmedTo));
    })();
  }

  /**
   * The coordinator must compare its catalog with the whole inventory again (read-disks.ts):
   * marked like a dropped change, so the Hello reports a gap and gets a resync (never a
   * replay), and the end of a resync taken after this clears it (reset) as it clears an overflow.
   */
  requireResync(): void {
    this.db.transaction(() => {
      // A sequence number of its own, as a dropped change has: a sync whose snapshot was taken
      // before this (one running now) ends below it and so does not clear the request.
      const seq = ++this.lastSeq;
      setMeta(this.db, 'lastSeq', String(seq));
      if (this.overflowSince === undefined) {
        this.overflowSince = seq;
        setMeta(this.db, 'overflowSince', String(seq));
      }
      this.lastDropped = seq;
      setMeta(this.db, 'lastDropped', String(seq));
    })();
  }

  /** After a full resync the coordinator holds everything: forget pending entries and the overflow. */
  reset(ackedTo: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM journal WHERE seq <= ?').run(ackedTo);
      this.pending = (this.db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n;
      this.ackedSeq = Math.max(this.ackedSeq, ackedTo);
      setMeta(this.db, 'ackedSeq', String(this.ackedSeq));
      this.overflowSince = undefined;
      setMeta(this.db, 'overflowSince', '');
      this.lastDropped = 0;
      setMeta(this.db, 'lastDropped', '0');
    })();
  }

  stats(): JournalStats {
    return { lastSeq: this.lastSeq, ackedSeq: this.ackedSeq, pending: this.pending, maxEntries: this.maxEntries, ...(this.overflowSince !== undefined ? { overflowSince: this.overflowSince, lastDropped: this.lastDropped } : {}) };
  }
}
