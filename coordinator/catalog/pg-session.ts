// The PostgreSQL store's way to the server: single statements on the pool, transactions on one
// client (BEGIN … COMMIT, ROLLBACK on any error), strings encoded (pg-text.ts) both ways, and
// errors turned into the store's: a malformed row is STORE_REJECTED with nothing applied, as on
// SQLite (DESIGN.md §8.6); a lost server is STORE_UNREACHABLE.
import pg from 'pg';
import { EcguardError, errorText } from '../../shared/errors.js';
import { connectionError, sqlState } from './pg-connection.js';
import { decodeText, encodeParam } from './pg-text.js';

export type Cell = string | number | boolean | null;

/** What methods run their SQL through: the pool, or one client inside a transaction. */
export interface Sql {
  /** Rows as objects (column name → value). */
  rows<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows as arrays of cells, in SELECT order (no object per row: the big reads). */
  arrays(sql: string, params?: readonly unknown[]): Promise<Cell[][]>;
  /** Runs a statement; the number of rows it wrote or returned. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

function decodeRow<T extends object>(row: T): T {
  const r = row as Record<string, unknown>;
  for (const k in r) if (typeof r[k] === 'string') r[k] = decodeText(r[k] as string);
  return row;
}

function decodeCells(row: Cell[]): Cell[] {
  for (let i = 0; i < row.length; i++) if (typeof row[i] === 'string') row[i] = decodeText(row[i] as string);
  return row;
}

const encodeAll = (params: readonly unknown[] | undefined): unknown[] => (params ?? []).map(encodeParam);

type Queryable = pg.Pool | pg.PoolClient;

function sqlOn(db: Queryable): Sql {
  return {
    rows: async <R extends object>(sql: string, params?: readonly unknown[]) => (await db.query<R>(sql, encodeAll(params))).rows.map(decodeRow),
    arrays: async (sql, params) => (await db.query<Cell[]>({ text: sql, values: encodeAll(params), rowMode: 'array' })).rows.map(decodeCells),
    run: async (sql, params) => (await db.query(sql, encodeAll(params))).rowCount ?? 0,
  };
}

/**
 * A malformed value: a constraint violation (SQLSTATE class 23), a value the column type does not
 * take (class 22: not a number, out of range), or one pg cannot bind at all.
 */
function isRejection(err: unknown): boolean {
  const state = sqlState(err);
  return state?.startsWith('23') === true || state?.startsWith('22') === true || err instanceof TypeError || err instanceof RangeError;
}

export class PgSession {
  private readonly onPool: Sql;

  constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
  ) {
    this.onPool = sqlOn(pool);
  }

  /** One statement on any pooled connection. */
  async once<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      return await fn(this.onPool);
    } catch (err) {
      throw connectionError(err, this.url);
    }
  }

  /**
   * Runs `fn` as one transaction on one client. A malformed row rolls everything back and becomes
   * STORE_REJECTED naming `what`; an error from `fn` itself (an EcguardError) rolls back and passes.
   */
  async tx<T>(what: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw connectionError(err, this.url);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(sqlOn(client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is gone: the server rolled back for us
      }
      if (isRejection(err)) throw new EcguardError('STORE_REJECTED', `${what} rejected, nothing applied: ${errorText(err)}`, { cause: err });
      throw connectionError(err, this.url);
    } finally {
      client.release(broken);
    }
  }
}
