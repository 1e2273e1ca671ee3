// Moves events from the catalog's outbox to NATS (DESIGN.md §4 Events): strictly in order, one
// at a time, each marked published only after JetStream acked it. On any failure it stops at
// that event, waits (backoff capped at a few seconds) and resumes from the same event, so NATS
// being down loses nothing; a crash between ack and mark republishes the event, which the
// stream drops as a duplicate (same Nats-Msg-Id inside the duplicate window). An event that
// can never go through (too large, invalid: EVENT_REFUSED, BAD_EVENT) is set aside after a few
// tries (kept in the log) so it cannot hold back all later events.
import type { PubAck } from '@nats-io/jetstream';
import type { EcguardEvent } from '../../shared/domain/event.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';

/** The outbox: the catalog's events table (the main store implements it). */
export interface OutboxSource {
  /** Unpublished events, oldest first, at most `limit`. */
  pending(limit: number): Promise<EcguardEvent[]>;
  markPublished(ids: string[]): Promise<void>;
  /** The stream refuses this event for good: keep it in the log, stop retrying it. */
  markRefused?(id: string, error: string): Promise<void>;
  /** Unpublished count, for backlog(); without it backlog() counts what it has read. */
  countPending?(): Promise<number>;
}

/** What the relay needs of JetStreamPublisher (a fake will do in tests). */
export interface EventPublisher {
  publish(event: EcguardEvent): Promise<PubAck>;
}

export interface OutboxRelayOptions {
  /** Events read from the outbox per round. Default 100. */
  readonly batchSize?: number;
  /** First retry delay after a failure; doubles up to maxBackoffMs. Defaults 100 ms, 3 s. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Look at the outbox this often even without kick(). Default 5 s. */
  readonly idlePollMs?: number;
  /** Refusals of one event by the stream (not outages) before it is set aside. Default 3. */
  readonly refusalsBeforeSkip?: number;
}

/** Errors about this very event (too large, invalid), not about NATS or the stream's state. */
const REFUSED = new Set(['EVENT_REFUSED', 'BAD_EVENT']);

export interface OutboxRelayStatus {
  readonly running: boolean;
  readonly backlog: number;
  readonly published: number;
  readonly duplicates: number;
  readonly consecutiveFailures: number;
  /** Events set aside because the stream kept refusing them (see the log's publish errors). */
  readonly refused: number;
  readonly lastError?: string;
  readonly lastPublishedId?: string;
}

const log = getLogger('outbox-relay');

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly idlePollMs: number;
  private running = false;
  private loop?: Promise<void>;
  private kicked = false;
  private wake?: () => void;
  private known = 0;
  private published = 0;
  private duplicates = 0;
  private failures = 0;
  private refused = 0;
  private readonly refusalsBeforeSkip: number;
  private refusedTries?: { id: string; count: number };
  private warned?: string;
  private lastError?: string;
  private lastPublishedId?: string;

  constructor(
    private readonly source: OutboxSource,
    private readonly publisher: EventPublisher,
    o: OutboxRelayOptions = {},
  ) {
    this.batchSize = o.batchSize ?? 100;
    this.minBackoffMs = o.minBackoffMs ?? 100;
    this.maxBackoffMs = o.maxBackoffMs ?? 3000;
    this.idlePollMs = o.idlePollMs ?? 5000;
    this.refusalsBeforeSkip = o.refusalsBeforeSkip ?? 3;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New events were written: publish them now instead of at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Unpublished events as of the last look at the outbox. */
  backlog(): number {
    return this.known;
  }

  status(): OutboxRelayStatus {
    return {
      running: this.running,
      backlog: this.known,
      published: this.published,
      duplicates: this.duplicates,
      consecutiveFailures: this.failures,
      refused: this.refused,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastPublishedId === undefined ? {} : { lastPublishedId: this.lastPublishedId }),
    };
  }

  /** Stops after the event in flight (bounded by the publisher's timeout). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      let ok = true;
      try {
        const batch = await this.source.pending(this.batchSize);
        this.known = this.source.countPending ? await this.source.countPending() : batch.length;
        if (batch.length === 0) {
          this.recovered();
          await this.sleep(this.idlePollMs, true);
          continue;
        }
        for (const event of batch) {
          if (!this.running) return;
          await this.publishOne(event);
        }
      } catch (err) {
        ok = false;
        this.failed(err);
      }
      if (ok) this.recovered();
      else await this.sleep(Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.failures - 1, 20)), false);
    }
  }

  private async publishOne(event: EcguardEvent): Promise<void> {
    let ack: PubAck;
    try {
      ack = await this.publisher.publish(event);
    } catch (err) {
      if (!(err instanceof EcguardError && REFUSED.has(err.code) && this.source.markRefused)) throw err;
      // An event that can never go through (too large, invalid) must not hold back every event
      // after it, forever. Only such errors count: a full stream is waited out, never skipped.
      const tries = this.refusedTries?.id === event.id ? this.refusedTries.count + 1 : 1;
      this.refusedTries = { id: event.id, count: tries };
      if (tries < this.refusalsBeforeSkip) throw err;
      await this.source.markRefused(event.id, errorText(err));
      this.refused++;
      this.refusedTries = undefined;
      this.known = Math.max(0, this.known - 1);
      log.error(`event ${event.id} (${event.type}) set aside after ${tries} refusals [${err.code}]: ${errorText(err)}; it stays in the log (ecguard events), publishing goes on`);
      return;
    }
    await this.markDone(event, ack);
  }

  private async markDone(event: EcguardEvent, ack: PubAck): Promise<void> {
    this.refusedTries = undefined;
    if (this.failures > 0) this.recovered(); // a long batch after an outage: count from here
    if (ack.duplicate) this.duplicates++;
    // A failure here leaves the event pending: the next round republishes it as a duplicate.
    await this.source.markPublished([event.id]);
    this.published++;
    this.lastPublishedId = event.id;
    this.known = Math.max(0, this.known - 1);
  }

  private failed(err: unknown): void {
    this.failures++;
    this.lastError = errorText(err);
    const code = err instanceof EcguardError ? ` [${err.code}]` : '';
    // One warning per outage and cause, not one per retry: a new cause (NATS back but the
    // stream refusing) is worth a line of its own.
    const said = `${code} ${this.lastError}`;
    if (this.warned !== said) log.warn(`event publishing paused${code}: ${this.lastError}; retrying with backoff, ${this.known} event(s) waiting`);
    else log.debug(`event publishing still failing (${this.failures} tries)${code}: ${this.lastError}`);
    this.warned = said;
  }

  private recovered(): void {
    if (this.failures > 0) log.info(`event publishing resumed after ${this.failures} failed tries`);
    this.failures = 0;
    this.lastError = undefined;
    this.warned = undefined;
  }

  /** Waits `ms`; a kick ends an idle wait early, never a backoff (no hammering a down NATS). */
  private sleep(ms: number, kickable: boolean): Promise<void> {
    if (kickable && this.kicked) return Promise.resolve();
    return new Promise((res) => {
      const done = (): void => {
        clearTimeout(t);
        this.wake = undefined;
        res();
      };
      const t = setTimeout(done, ms);
      this.wake = () => {
        if (kickable || !this.running) done();
      };
    });
  }
}
