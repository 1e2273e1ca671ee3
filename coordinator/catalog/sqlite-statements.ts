// Prepared statements by SQL text: preparing costs more than running a small query, and
// listFiles builds its SQL from the filter's shape (a handful of distinct texts).
import type Database from 'better-sqlite3';

export class StatementCache {
  private readonly byText = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** The statement for `sql`. Callers must use one text consistently with or without pluck(). */
  get(sql: string): Database.Statement {
    let stmt = this.byText.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.byText.set(sql, stmt);
    }
    return stmt;
  }
}
