// Catalog location → store. 'sqlite:/path/catalog.db' (also 'sqlite:///path', 'sqlite::memory:')
// or a bare path opens the embedded SQLite catalog; 'postgres://user@host:5432/db' (or
// 'postgresql://…', any libpq-style URL pg takes) the scale-out catalog on PostgreSQL, which
// connects on first use: opening stays synchronous, and the first call (or open()) reports an
// unreachable server as STORE_UNREACHABLE.
import { UsageError } from '../../shared/errors.js';
import type { CatalogStore } from './catalog-store.js';
import { checkPgUrl, isPostgresUrl } from './pg-connection.js';
import { PgCatalogStore } from './pg-store.js';
import { openSqliteCatalog } from './sqlite-store.js';

const FORMS = "'sqlite:/path/to/catalog.db', a bare path such as /var/lib/ecguard/catalog.db, ':memory:', or postgres://user@host:5432/database";

/** The SQLite path a catalog URL names, or undefined when it is no SQLite form. */
export function sqlitePathOf(url: string): string | undefined {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    return rest.startsWith('//') ? rest.slice(2) : rest; // sqlite:///abs → /abs
  }
  // any other scheme (two letters or more, so no Windows drive letters) is not a path
  if (/^[a-z][a-z0-9+.-]+:/i.test(url)) return undefined;
  return url;
}

export function openCatalogStore(url: string): CatalogStore {
  if (isPostgresUrl(url)) {
    checkPgUrl(url);
    return new PgCatalogStore(url);
  }
  const path = sqlitePathOf(url);
  if (path === undefined) throw new UsageError(`unsupported catalog location ${JSON.stringify(url)}: give ${FORMS}`);
  if (path === '') throw new UsageError(`the catalog location ${JSON.stringify(url)} names no file: give ${FORMS}`);
  return openSqliteCatalog(path);
}
