// One active coordinator per PostgreSQL catalog (DESIGN.md §9): the active one holds a session
// advisory lock on a connection of its own; the others wait as standbys, trying again every few
// seconds, and take over when the lock is free (the active one stopped, crashed, or lost its
// connection: PostgreSQL drops a session's advisory locks with the session).
//
// Losing the lock connection means another coordinator may be active already, so the holder
// must stop serving at once (onLost). It notices a dropped connection at once and a silent one
// within pingMs + timeoutMs; the store's writes also check the lock is still held (fence), so
// nothing is written after it is gone even before then.
import os from 'node:os';
import pg from 'pg';
import { EcguardError, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { connectionError, describePgTarget, pgConfig } from './pg-connection.js';

const log = getLogger('leader');

/** The advisory lock key every ecguard coordinator of a catalog database takes ('ecgd'). */
export const LEADER_LOCK_KEY = 0x6563_6764;

export interface LeaderLeaseOptions {
  /** Standby: how often to try the lock again (default 5 s). */
  readonly retryMs?: number;
  /** Active: how often the lock connection is checked (default 5 s), and how long a check may take (default 10 s). */
  readonly pingMs?: number;
  readonly timeoutMs?: number;
  /** Called each time the lock is found taken (the holder's application name and address, when visible). */
  readonly onStandby?: (holder: string) => void;
}

/** What the store checks before each write: the lock is still held by this session. */
export interface LeaderFence {
  readonly backendPid: number;
  readonly key: number;
}

export class PgLeaderLease {
  private client: pg.Client | undefined;
  private state: 'idle' | 'standby' | 'held' | 'lost' | 'released' = 'idle';
  private lostHandlers: ((err: EcguardError) => void)[] = [];
  private pingTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private lostWhy: string | undefined;
  private backendPid = 0;

  constructor(
    private readonly url: string,
    private readonly o: LeaderLeaseOptions = {},
  ) {}

  get held(): boolean {
    return this.state === 'held';
  }

  /** The lock's session, for the store's write fence (once held). */
  get fence(): LeaderFence | undefined {
    return this.state === 'held' ? { backendPid: this.backendPid, key: LEADER_LOCK_KEY } : undefined;
  }

  /** Calls `fn` once if the lock is lost after it was held. */
  onLost(fn: (err: EcguardError) => void): void {
    this.lostHandlers.push(fn);
  }

  /**
   * Waits until this process holds the lock (true), or release() was called meanwhile (false).
   * Rejects with STORE_UNREACHABLE (or STORE_AUTH, STORE_OPEN) when the server cannot be used.
   */
  async acquire(): Promise<boolean> {
    const where = describePgTarget(this.url);
    const client = new pg.Client({ ...pgConfig(this.url, { applicationName: `ecguard-coordinator ${os.hostname()} pid ${process.pid}` }), query_timeout: this.o.timeoutMs ?? 10_000 });
    this.client = client;
    client.on('error', (err) => this.lose(`the lock connection failed: ${err.message}`));
    client.on('end', () => this.lose('the lock connection closed'));
    try {
      await client.connect();
      this.backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
      this.state = 'standby';
      let lastHolder: string | undefined;
      while (this.isState('standby')) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK_KEY]);
        if (rows[0]?.ok) break;
        const holder = await this.holder(client);
        if (holder !== lastHolder) log.warn(`standby: the catalog at ${where} is in use by another coordinator (${holder}); taking over when it stops, trying every ${(this.o.retryMs ?? 5000) / 1000} s`);
        lastHolder = holder;
        this.o.onStandby?.(holder);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.o.retryMs ?? 5000);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } catch (err) {
      if (this.isState('released')) return false;
      this.state = 'released';
      await client.end().catch(() => undefined);
      throw connectionError(err, this.url);
    }
    if (this.lostWhy !== undefined) {
      await client.end().catch(() => undefined);
      throw new EcguardError('STORE_UNREACHABLE', `lost the connection to the PostgreSQL catalog at ${where} while waiting as a standby (${this.lostWhy}); restart this coordinator when the server is reachable`);
    }
    if (!this.isState('standby')) return false; // released while waiting
    this.state = 'held';
    log.info(`active: holding the catalog lock at ${where}`);
    this.pingTimer = setInterval(() => {
      client.query('SELECT 1').catch((err: unknown) => this.lose(`the lock connection does not answer: ${errorText(err)}`));
    }, this.o.pingMs ?? 5000);
    this.pingTimer.unref();
    return true;
  }

  /** Who holds the lock, as far as pg_stat_activity shows it (only to other sessions of the same role, or a superuser). */
  private async holder(client: pg.Client): Promise<string> {
    try {
      const { rows } = await client.query<{ app: string | null; addr: string | null; pid: number }>(`SELECT a.application_name AS app, host(a.client_addr) AS addr, l.pid
        FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1`, [LEADER_LOCK_KEY]);
      const r = rows[0];
      if (r === undefined) return 'just released';
      return `${r.app || 'unknown client'}${r.addr ? ` from ${r.addr}` : ''}, server pid ${r.pid}`;
    } catch {
      return 'unknown';
    }
  }

  /** A state test TypeScript does not narrow away: other callbacks change the state across awaits. */
  private isState(s: PgLeaderLease['state']): boolean {
    return this.state === s;
  }

  private lose(why: string): void {
    if (this.state === 'released' || this.state === 'lost') return;
    const wasHeld = this.state === 'held';
    this.state = 'lost';
    this.lostWhy = why;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.wake?.();
    if (!wasHeld) return; // acquire() rejects with the connection's error
    const err = new EcguardError('STORE_LEASE_LOST', `lost the catalog lock at ${describePgTarget(this.url)} (${why}): another coordinator may be active now, so this one stops serving; restart it to serve again or to wait as a standby`);
    for (const fn of this.lostHandlers) fn(err);
  }

  /** Gives the lock up (or stops waiting for it) and closes the connection. */
  async release(): Promise<void> {
    const wasHeld = this.state === 'held';
    this.state = 'released';
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.wake?.();
    const client = this.client;
    if (!client) return;
    if (wasHeld) await client.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
