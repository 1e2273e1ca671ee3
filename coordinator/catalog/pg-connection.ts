// Connecting to the PostgreSQL catalog: pool settings from the URL, numbers read back as JS
// numbers, and errors that say where and what to do next — without the password, which is
// never printed (only host:port/database is).
import pg from 'pg';
import { EcguardError, UsageError, errnoCode, errorText } from '../../shared/errors.js';

/** `postgres://` or `postgresql://` (the forms libpq and pg take). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Refuses a PostgreSQL URL that does not parse, without repeating it (it may hold a password). */
export function checkPgUrl(url: string): void {
  try {
    new URL(url);
  } catch {
    throw new UsageError('the PostgreSQL catalog URL does not parse: give postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (percent-encode special characters; the URL is not repeated here as it may hold a password)');
  }
}

/** host:port/database of a URL, for messages: never the user's password. */
export function describePgTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (u.hostname === '' ? 'localhost' : u.hostname);
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
    return `${host}:${u.searchParams.get('port') ?? (u.port || '5432')}/${database}`;
  } catch {
    return 'the PostgreSQL server named by --db';
  }
}

// bigint columns (counts, sizes, times in ms) as numbers like SQLite gives them: every value the
// catalog keeps fits a double exactly (sizes, inodes and times are JS numbers to begin with).
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

export interface PgConnectOptions {
  /** Pool size (default 8: writes are serialised, reads of the admin API run beside them). */
  readonly max?: number;
  /** application_name, so pg_stat_activity tells which coordinator holds what. */
  readonly applicationName?: string;
}

/** Settings for a pg.Pool or pg.Client of `url`. */
export function pgConfig(url: string, o: PgConnectOptions = {}): pg.PoolConfig {
  return {
    connectionString: url,
    types,
    max: o.max ?? 8,
    // an unreachable host (dropped packets) fails in seconds, not after the OS's TCP timeout
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    idleTimeoutMillis: 60_000,
    allowExitOnIdle: true, // idle connections alone do not keep a finished process alive
    application_name: o.applicationName ?? 'ecguard-coordinator',
  };
}

const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** SQLSTATE of a server error (pg's `code` on DatabaseError). */
export function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError ? err.code : undefined;
}

/**
 * A failure to reach or use the server as the error to show: STORE_UNREACHABLE (network, server
 * shutting down, connection lost), STORE_AUTH (login refused), STORE_OPEN (no such database and
 * other refusals at connect). Anything else (an EcguardError, a SQL error) is returned as is.
 */
export function connectionError(err: unknown, url: string): unknown {
  if (err instanceof EcguardError) return err;
  const where = describePgTarget(url);
  const state = sqlState(err);
  const errno = errnoCode(err);
  const text = errorText(err);
  const lost = /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|Connection ended/i.test(text);
  if ((errno !== undefined && NETWORK_ERRNOS.has(errno)) || state?.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || (state === undefined && lost)) {
    return new EcguardError('STORE_UNREACHABLE', `cannot reach the PostgreSQL catalog at ${where}: ${text}. Check that the server runs and accepts connections from this host, and that --db names the right host and port`, { cause: err });
  }
  if (state?.startsWith('28')) {
    return new EcguardError('STORE_AUTH', `the PostgreSQL server at ${where} refused the login: ${text}. Check the user and password in --db (or ~/.pgpass) and pg_hba.conf`, { cause: err });
  }
  if (state === '3D000') {
    return new EcguardError('STORE_OPEN', `the PostgreSQL server at ${where} has no such database: ${text}. Create it first (createdb, or CREATE DATABASE ... OWNER ...)`, { cause: err });
  }
  return err;
}
