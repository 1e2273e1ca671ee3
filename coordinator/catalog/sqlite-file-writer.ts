// File rows with their counts per state (file_state_counts), kept in the same transaction as
// the rows: `ecguard status` and every metrics scrape read the counts instead of grouping the
// whole files table (a scan that, better-sqlite3 being synchronous, stalls the coordinator).
import type Database from 'better-sqlite3';
import { FILE_STATES, type FileState } from '../../shared/domain/file-health.js';
import type { StateCount } from './catalog-store.js';
import type { FileRow } from './catalog-types.js';
import { FILE_UPSERT, fileParams } from './sqlite-rows.js';

const OLD = 'SELECT state, bytes FROM files WHERE lfn = ?';
const DELETE = 'DELETE FROM files WHERE lfn = ? RETURNING state, bytes';
const COUNT = `INSERT INTO file_state_counts (state, n, bytes) VALUES (?, ?, ?)
  ON CONFLICT (state) DO UPDATE SET n = n + excluded.n, bytes = bytes + excluded.bytes`;

interface Old {
  state: FileState;
  bytes: number;
}

export class FileWriter {
  private readonly upsert: Database.Statement;
  private readonly old: Database.Statement;
  private readonly delete: Database.Statement;
  private readonly count: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare(FILE_UPSERT);
    this.old = db.prepare(OLD);
    this.delete = db.prepare(DELETE);
    this.count = db.prepare(COUNT);
  }

  /** Writes `rows` (call inside a transaction) and their effect on the counts. */
  put(rows: readonly FileRow[]): void {
    const tally = new Map<string, [number, number]>();
    for (const f of rows) {
      const o = this.old.get(f.lfn) as Old | undefined;
      if (o) add(tally, o.state, -1, -o.bytes);
      add(tally, f.state, 1, f.bytes);
      this.upsert.run(...fileParams(f));
    }
    this.writeCounts(tally);
  }

  /** Deletes these LFNs' rows (call inside a transaction); unknown ones are no-ops. */
  remove(lfns: readonly string[]): void {
    const tally = new Map<string, [number, number]>();
    for (const lfn of lfns) {
      const o = this.delete.get(lfn) as Old | undefined;
      if (o) add(tally, o.state, -1, -o.bytes);
    }
    this.writeCounts(tally);
  }

  counts(): Record<FileState, StateCount> {
    const out = Object.fromEntries(FILE_STATES.map((s) => [s, { count: 0, bytes: 0 }])) as Record<FileState, StateCount>;
    for (const r of this.db.prepare('SELECT state, n, bytes FROM file_state_counts').all() as { state: FileState; n: number; bytes: number }[]) {
      if (r.state in out) out[r.state] = { count: r.n, bytes: r.bytes };
    }
    return out;
  }

  private writeCounts(tally: ReadonlyMap<string, [number, number]>): void {
    for (const [state, [n, bytes]] of tally) if (n !== 0 || bytes !== 0) this.count.run(state, n, bytes);
  }
}

function add(tally: Map<string, [number, number]>, state: string, n: number, bytes: number): void {
  const t = tally.get(state);
  if (t) {
    t[0] += n;
    t[1] += bytes;
  } else tally.set(state, [n, bytes]);
}
