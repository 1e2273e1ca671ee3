// Publishes ecguard events to the JetStream stream ECGUARD (DESIGN.md §4 Events, docs/events.md).
// NATS may be down for hours: the connection is retried forever in the background, and
// publish() fails fast with EcguardError('NATS_UNAVAILABLE') while it is, so the outbox relay
// can retry later in order. Each message carries the event id as Nats-Msg-Id, so a republish
// inside the stream's duplicate window (after a crash or a lost ack) is stored only once.
import { connect, nanos, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type StreamConfig,
} from '@nats-io/jetstream';
import { EcguardError, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { eventSubject, parseEvent, type EcguardEvent } from '../../shared/domain/event.js';

export const STREAM_NAME = 'ECGUARD';
/** JetStream's "message size exceeds maximum allowed", the client's "max_payload size exceeded". */
const TOO_LARGE = /message size exceeds maximum|max_payload/i;
export const STREAM_SUBJECT = 'ecguard.>';

const HOUR = 3_600_000;

export interface StreamLimits {
  /** Events older than this are dropped from the stream (the catalog keeps the log); 0 = never. */
  readonly maxAgeMs: number;
  /** Oldest events are dropped beyond this size; -1 = unlimited. */
  readonly maxBytes: number;
  /** A message id seen within this window is not stored again. */
  readonly duplicateWindowMs: number;
  readonly replicas: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxAgeMs: 30 * 24 * HOUR,
  maxBytes: 1024 ** 3,
  // Long enough that a coordinator restarted after a crash republishes its unmarked tail into it.
  duplicateWindowMs: HOUR,
  replicas: 1,
};

/** Connection options we pass through (credentials, TLS, name…); reconnect policy is ours. */
export type NatsPassthroughOptions = Omit<NodeConnectionOptions, 'servers' | 'reconnect' | 'maxReconnectAttempts' | 'waitOnFirstConnect'>;

export interface JetStreamPublisherOptions {
  readonly servers: string | readonly string[];
  readonly connection?: NatsPassthroughOptions;
  readonly stream?: Partial<StreamLimits>;
  /** Bound on one publish (and stream admin request) while connected. Default 5 s. */
  readonly publishTimeoutMs?: number;
  /** Pause between first-connection attempts. Default 1 s. */
  readonly retryConnectMs?: number;
}

export type StreamChange = 'created' | 'updated' | 'unchanged';

const log = getLogger('jetstream-publisher');

function unavailable(why: string, cause?: unknown): EcguardError {
  return new EcguardError('NATS_UNAVAILABLE', `NATS is unavailable (${why}); events stay in the outbox and are published when it is back`, { cause });
}

export class JetStreamPublisher {
  private readonly limits: StreamLimits;
  private readonly timeoutMs: number;
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private connected = false;
  private streamChecked = false;
  private ensuring?: Promise<StreamChange>;
  private closing = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly readyListeners = new Set<() => void>();

  constructor(private readonly o: JetStreamPublisherOptions) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...o.stream };
    this.timeoutMs = o.publishTimeoutMs ?? 5000;
    const { maxAgeMs, duplicateWindowMs } = this.limits;
    if (duplicateWindowMs <= 0 || (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs)) {
      throw new EcguardError('CONFIG_INVALID', `NATS duplicate window (${duplicateWindowMs} ms) must be > 0 and not longer than the stream max age (${maxAgeMs} ms)`);
    }
  }

  /** Starts connecting in the background; returns at once. Idempotent. */
  start(): void {
    this.loop ??= this.connectLoop();
  }

  get isConnected(): boolean {
    return this.connected && !this.closing;
  }

  /** Called after every (re)connection once the stream is in place: a cue to publish the backlog. */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /** Resolves once connected with the stream in place; NATS_UNAVAILABLE after `timeoutMs`. */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    this.start();
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline && !this.closing) {
      if (this.isConnected) {
        try {
          await this.ensureStream();
          return;
        } catch (err) {
          if (err instanceof EcguardError && err.code === 'NATS_STREAM_MISMATCH') throw err; // waiting will not fix it
          last = err;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw unavailable(`not ready after ${timeoutMs} ms${last ? `: ${errorText(last)}` : ''}`, last);
  }

  /** Creates the stream, or updates it when its subjects or limits differ from ours. */
  ensureStream(): Promise<StreamChange> {
    this.ensuring ??= this.doEnsureStream().finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  /** Stores one event; the PubAck says whether it was a duplicate. */
  async publish(event: EcguardEvent): Promise<PubAck> {
    const e = parseEvent(event); // a malformed event must not reach subscribers
    if (!this.isConnected || !this.js) throw unavailable(this.closing ? 'publisher closed' : 'not connected');
    if (!this.streamChecked) {
      try {
        await this.ensureStream();
      } catch (err) {
        throw err instanceof EcguardError ? err : unavailable(`stream ${STREAM_NAME} not ready: ${errorText(err)}`, err);
      }
    }
    try {
      return await this.js.publish(eventSubject(e.cluster, e.type), JSON.stringify(e), {
        msgID: e.id,
        timeout: this.timeoutMs,
        expect: { streamName: STREAM_NAME },
      });
    } catch (err) {
      // Too large for the stream or the server is this event's own fault: it will never go
      // through (EVENT_REFUSED). Any other refusal (storage full, limits) may pass later.
      if (TOO_LARGE.test(errorText(err))) throw new EcguardError('EVENT_REFUSED', `stream ${STREAM_NAME} refuses event ${e.id} for good: ${errorText(err)}`, { cause: err });
      if (err instanceof JetStreamApiError) {
        throw new EcguardError('NATS_PUBLISH_FAILED', `stream ${STREAM_NAME} refused event ${e.id}: ${errorText(err)}`, { cause: err });
      }
      // No responders means no stream holds the subject any more: check it before the next try.
      this.streamChecked = false;
      throw unavailable(errorText(err), err);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.loop;
    const nc = this.nc;
    this.nc = undefined;
    this.connected = false;
    if (nc && !nc.isClosed()) await nc.close();
  }

  private async connectLoop(): Promise<void> {
    // Our own first-connect loop rather than waitOnFirstConnect: that one cannot be cancelled
    // before it succeeds, so close() would hang while NATS is down.
    let lastText = '';
    while (!this.closing) {
      try {
        const nc = await connect({
          timeout: 5000,
          ...this.o.connection,
          servers: [...(typeof this.o.servers === 'string' ? [this.o.servers] : this.o.servers)],
          reconnect: true,
          maxReconnectAttempts: -1, // once connected, reconnect forever
        });
        if (this.closing) {
          await nc.close();
          return;
        }
        this.attach(nc);
        return;
      } catch (err) {
        const text = errorText(err);
        if (text !== lastText) log.warn(`cannot connect to NATS ${String(this.o.servers)}: ${text}; retrying`);
        lastText = text;
        await new Promise<void>((res) => {
          const t = setTimeout(res, this.o.retryConnectMs ?? 1000);
          this.wake = () => {
            clearTimeout(t);
            res();
          };
        });
      }
    }
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.timeoutMs });
    this.connected = true;
    log.info(`connected to NATS ${nc.getServer()}`);
    void this.watchStatus(nc);
    void nc.closed().then(() => {
      this.connected = false;
      if (this.closing || this.nc !== nc) return;
      // Closed by the client library itself (e.g. an authorization error): start over.
      log.warn('NATS connection closed; connecting again');
      this.nc = undefined;
      this.jsm = undefined;
      this.streamChecked = false;
      this.loop = this.connectLoop();
    });
    this.afterConnect();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        log.warn(`disconnected from NATS ${s.server}; reconnecting`);
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.streamChecked = false; // the server may have lost its store
        log.info(`reconnected to NATS ${s.server}`);
        this.afterConnect();
      }
    }
  }

  private afterConnect(): void {
    this.ensureStream().then(
      () => {
        for (const l of this.readyListeners) l();
      },
      (err: unknown) => log.warn(`stream ${STREAM_NAME} not ready: ${errorText(err)}`),
    );
  }

  private wantedConfig(): Pick<StreamConfig, 'subjects' | 'max_age' | 'max_bytes' | 'duplicate_window' | 'num_replicas' | 'discard'> {
    const l = this.limits;
    return {
      subjects: [STREAM_SUBJECT],
      max_age: nanos(l.maxAgeMs),
      max_bytes: l.maxBytes,
      duplicate_window: nanos(l.duplicateWindowMs),
      num_replicas: l.replicas,
      discard: DiscardPolicy.Old,
    };
  }

  private async doEnsureStream(): Promise<StreamChange> {
    if (!this.nc || !this.isConnected) throw unavailable('not connected');
    this.jsm ??= await jetstreamManager(this.nc, { timeout: this.timeoutMs });
    const want = this.wantedConfig();
    let have: StreamConfig;
    try {
      have = (await this.jsm.streams.info(STREAM_NAME)).config;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await this.jsm.streams.add({ name: STREAM_NAME, retention: RetentionPolicy.Limits, storage: StorageType.File, ...want });
      log.info(`created JetStream stream ${STREAM_NAME}`);
      this.streamChecked = true;
      return 'created';
    }
    if (have.storage !== StorageType.File || have.retention !== RetentionPolicy.Limits) {
      throw new EcguardError(
        'NATS_STREAM_MISMATCH',
        `stream ${STREAM_NAME} exists with ${have.storage} storage and ${have.retention} retention; ecguard needs file storage and limits retention: delete or rename it`,
      );
    }
    const update: Partial<StreamConfig> = {};
    if (!have.subjects.includes(STREAM_SUBJECT)) update.subjects = [...have.subjects, STREAM_SUBJECT];
    for (const k of ['max_age', 'max_bytes', 'duplicate_window', 'num_replicas', 'discard'] as const) {
      if (have[k] !== want[k]) Object.assign(update, { [k]: want[k] });
    }
    if (Object.keys(update).length === 0) {
      this.streamChecked = true;
      return 'unchanged';
    }
    await this.jsm.streams.update(STREAM_NAME, update);
    log.info(`updated JetStream stream ${STREAM_NAME}: ${Object.keys(update).join(', ')}`);
    this.streamChecked = true;
    return 'updated';
  }
}
