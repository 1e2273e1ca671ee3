// The agent's end of the session: connects, says Hello, sends a full inventory or replays its
// journal as the coordinator asks, then streams live deltas, disk events and heartbeats, and
// trims the journal on acks. Reconnects with backoff; never loses a delta (the journal holds
// everything unacknowledged).
import { AGENT_RETRY_FIRST_MS, AGENT_RETRY_JITTER, AGENT_RETRY_MAX_MS } from '../../shared/domain/agent-backoff.js';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { AgentSessionClient, SyncMode, type AgentMessage, type CoordinatorMessage, type Welcome } from '../../proto/gen/ecguard/v1/agent.js';
import type { Delta } from '../../shared/domain/delta.js';
import { getLogger } from '../../shared/logger.js';
import { clientCredentials, insecureWarning, type TlsFiles } from '../../shared/tls/tls-identity.js';
import { archiveRecordToWire } from '../../shared/wire/archive-record-wire.js';
import { deltaToWire, diskToWire, profileToWire, type DiskInfo } from '../../shared/wire/session-wire.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { AgentRuntime, DiskEvent } from '../agent-runtime.js';
import { diskStateWire } from '../../shared/wire/enums.js';
import { inventorySnapshot } from './inventory-snapshot.js';
import { sendDigestResync } from './digest-sync.js';
import type { RepairTask, RepairThrottles } from '../../proto/gen/ecguard/v1/repair.js';
import type { QuarantineOrder } from '../../proto/gen/ecguard/v1/debris.js';
import type { QuarantineResult } from '../../shared/domain/debris-order.js';
import { quarantineResultToWire } from '../../shared/wire/debris-wire.js';
import { scrubFindingToWire } from '../../shared/wire/scrub-wire.js';
import type { ScrubFinding } from '../../shared/domain/scrub-finding.js';
import { progressToWire, type ProgressReport } from '../../shared/wire/repair-wire.js';

/** The agent's repair side as the session sees it (agent/repair/repair-endpoint.ts). */
export interface LinkRepair {
  readonly stripesAddress: string;
  runningTasks(): string[];
  onTask(task: RepairTask): void;
  onCancel(taskId: string, reason: string, discardSlots?: readonly number[]): void;
  onThrottles(t: RepairThrottles): void;
  /** Final reports to send again after a reconnect (the coordinator ignores duplicates). */
  pendingFinals(): ProgressReport[];
}

export interface LinkOptions {
  readonly address: string;
  readonly tls?: TlsFiles;
  readonly insecure?: boolean;
  readonly profile: EcProfile;
  readonly stateDir: string;
  readonly batch?: number;
  readonly repair?: LinkRepair;
  /** Carries out quarantine orders (agent/debris/debris-desk.ts); without it they are refused. */
  readonly debris?: LinkDebris;
}

/** The agent's debris side as the session sees it. */
export interface LinkDebris {
  onQuarantine(order: QuarantineOrder): void;
}

const log = getLogger('link');
const VERSION = '0.1.0';

type Stream = grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>;

const MAX_PENDING_SCRUB = 1000;
const MAX_SENT_PROBLEMS = 20;

export class CoordinatorLink {
  private readonly instanceId = randomUUID();
  private client: InstanceType<typeof AgentSessionClient> | undefined;
  private stream: Stream | undefined;
  private live = false;
  private sentSeq = 0;
  /** as_of_seq of the full inventory sent on the current stream (its ack may end an overflow). */
  private inventoryAsOf: number | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private backoffMs = AGENT_RETRY_FIRST_MS;
  private sending: Promise<void> = Promise.resolve();
  private readonly pendingScrub: ScrubFinding[] = [];
  /** Connection attempts and full inventories sent (counters for tests and metrics). */
  readonly stats = { connects: 0, fullInventories: 0, replays: 0, digestResyncs: 0, digestRecordsSent: 0, refusals: [] as string[] };
  /** The disks named in this stream's Hello (a digest resync covers those). */
  private helloDisks: string[] = [];
  /** Waiting for the coordinator's DigestRequest on this stream. */
  private digestWaiter: { s: Stream; resolve: (buckets: readonly number[] | undefined) => void } | undefined;

  constructor(private readonly runtime: AgentRuntime, private readonly o: LinkOptions) {
    if (o.insecure) log.warn(insecureWarning('agent'));
    runtime.on('deltas', (d: Delta[]) => this.forward(d));
    runtime.on('disk', (e: DiskEvent) => this.sendDiskEvent(e));
    // Dropped changes while streaming live: the coordinator must not go on acking later
    // sequence numbers as if nothing was missing. Reconnect: the Hello reports the gap.
    runtime.on('overflow', () => {
      if (this.stream && this.live) {
        log.warn('journal overflowed: reconnecting for a full inventory');
        this.stream.cancel();
      }
    });
    // A disk read for the first time by this state: the Hello reports a gap, a resync follows.
    runtime.on('resync', (disks: string[]) => {
      if (this.stream && this.live) {
        log.info(`reconnecting for a resync: ${disks.join(', ')} read for the first time`);
        this.stream.cancel();
      }
    });
  }

  /** A session is established and streaming live. */
  get connected(): boolean {
    return this.live && this.stream !== undefined;
  }

  start(): void {
    const creds = this.o.insecure ? grpc.credentials.createInsecure() : clientCredentials(this.o.tls as TlsFiles);
    this.client = new AgentSessionClient(this.o.address, creds, {
      'grpc.keepalive_time_ms': 10_000, 'grpc.max_send_message_length': 16 * 1024 * 1024, 'grpc.max_receive_message_length': 16 * 1024 * 1024,
      // The channel's own reconnect backoff (grpc-js: up to 120 s) would hold the connection back
      // behind ours: calls fail at once while it waits. Kept to ours, so an agent is back within
      // the coordinator's start grace (shared/domain/agent-backoff.ts).
      'grpc.initial_reconnect_backoff_ms': AGENT_RETRY_FIRST_MS, 'grpc.max_reconnect_backoff_ms': AGENT_RETRY_MAX_MS,
    });
    this.connect();
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    this.stats.connects++;
    this.live = false;
    this.inventoryAsOf = undefined;
    const s = this.client.connect();
    this.stream = s;
    s.on('data', (m: CoordinatorMessage) => void this.onMessage(s, m));
    // A stream ends in 'error' (coordinator gone), 'status', 'end' or 'close' depending on how it
    // died: any of them means reconnect (dropped() runs once per stream).
    s.on('error', (err: grpc.ServiceError) => {
      if (!this.stopped) log.warn(`coordinator stream: ${err.details || err.message}`);
      this.dropped(s);
    });
    s.on('status', () => this.dropped(s));
    s.on('close', () => this.dropped(s));
    s.on('end', () => this.dropped(s));
    const j = this.runtime.journal.stats();
    const disks = this.runtime.diskHealth().map((h): DiskInfo => {
      const spec = this.runtime.disk(h.diskId);
      return { diskId: h.diskId, path: h.path, space: spec?.space ?? '', state: h.state, evidence: h.evidence, ...(h.uuid ? { uuid: h.uuid } : {}), ...(h.state === 'downgraded' && h.downgradedBy ? { downgradedBy: h.downgradedBy } : {}), ...(this.runtime.diskUnread(h.diskId) ? { unread: true } : {}) };
    });
    this.helloDisks = disks.map((d) => d.diskId);
    s.write({ msg: { $case: 'hello', value: {
      serverId: this.runtime.serverId, instanceId: this.instanceId, ackedSeq: j.ackedSeq, lastSeq: j.lastSeq, journalGap: j.overflowSince !== undefined,
      disks: disks.map(diskToWire), profile: profileToWire(this.o.profile), agentVersion: VERSION, stripesAddress: this.o.repair?.stripesAddress ?? '', runningTasks: this.o.repair?.runningTasks() ?? [],
      digestResync: true,
    } } });
    this.flushScrub(); // found while disconnected
  }

  private dropped(s: Stream): void {
    if (this.digestWaiter?.s === s) {
      this.digestWaiter.resolve(undefined);
      this.digestWaiter = undefined;
    }
    if (this.stream !== s) return;
    this.stream = undefined;
    this.live = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.stopped) return;
    const wait = this.backoffMs * (1 - AGENT_RETRY_JITTER + Math.random() * 2 * AGENT_RETRY_JITTER);
    this.backoffMs = Math.min(this.backoffMs * 2, AGENT_RETRY_MAX_MS);
    // Not unref'd: a daemon with its coordinator gone must stay up and keep trying.
    this.retry = setTimeout(() => this.connect(), wait);
  }

  private async onMessage(s: Stream, m: CoordinatorMessage): Promise<void> {
    if (!m.msg) return;
    switch (m.msg.$case) {
      case 'welcome':
        this.backoffMs = AGENT_RETRY_FIRST_MS;
        return this.onWelcome(s, m.msg.value);
      case 'ack':
        this.onAck(s, m.msg.value.seq);
        return;
      case 'rescan':
        log.info(`coordinator asks for a rescan: ${m.msg.value.reason}`);
        void this.runtime.fullScan(`coordinator: ${m.msg.value.reason}`);
        return;
      case 'repairTask':
        if (this.o.repair) this.o.repair.onTask(m.msg.value);
        else void this.write(s, { msg: { $case: 'taskProgress', value: progressToWire({ taskId: m.msg.value.taskId, attempt: m.msg.value.attempt, phase: 'failed', blocksDone: 0, blocksTotal: 0, bytesRead: 0, bytesWritten: 0, placed: [], sourceProblems: [], badEntries: [], badEntriesOmitted: 0, errorCode: 'NO_REPAIR', error: 'this agent runs no repair executor' }) } });
        return;
      case 'repairCancel':
        this.o.repair?.onCancel(m.msg.value.taskId, m.msg.value.reason, m.msg.value.discardSlots);
        return;
      case 'throttles':
        this.o.repair?.onThrottles(m.msg.value);
        return;
      case 'quarantine':
        if (this.o.debris) this.o.debris.onQuarantine(m.msg.value);
        else this.sendQuarantineResult({ orderId: m.msg.value.orderId, outcome: 'refused', code: 'NO_DEBRIS_DESK', message: 'this agent carries out no quarantine orders: nothing was moved' });
        return;
      case 'digestRequest': {
        const w = this.digestWaiter;
        if (w?.s === s) {
          this.digestWaiter = undefined;
          w.resolve(m.msg.value.buckets);
        }
        return;
      }
      case 'refusal':
        this.stats.refusals.push(m.msg.value.code);
        log.error(`coordinator refused the session: ${m.msg.value.code}: ${m.msg.value.reason}`);
        return;
    }
  }

  private onAck(s: Stream, seq: number): void {
    const j = this.runtime.journal.stats();
    // Only the ack of a full inventory covers the changes the journal dropped; the ack of a live
    // delta sent after the overflow says nothing about them.
    if (j.overflowSince !== undefined && s === this.stream && seq === this.inventoryAsOf && (j.lastDropped ?? Infinity) <= seq) this.runtime.journal.reset(seq);
    else this.runtime.journal.ack(seq);
  }

  private async onWelcome(s: Stream, w: Welcome): Promise<void> {
    this.heartbeat = setInterval(() => {
      const j = this.runtime.journal.stats();
      void this.write(s, { msg: { $case: 'heartbeat', value: { sentAtMs: Date.now(), lastSeq: j.lastSeq, journalPending: j.pending, journalOverflow: j.overflowSince !== undefined, diskSpace: this.runtime.diskSpace() } } });
    }, Math.max(100, w.heartbeatIntervalMs || 5000));
    this.heartbeat.unref();
    if (w.mode === SyncMode.SYNC_MODE_FULL_INVENTORY) {
      this.stats.fullInventories++;
      log.info(`sending full inventory (${w.reason})`);
      const snap = inventorySnapshot(this.o.stateDir);
      this.runtime.journal.coveredBySnapshot(snap.asOfSeq);
      try {
        for (const batch of snap.batches(this.o.batch ?? 1000)) {
          if (this.stream !== s) return;
          await this.write(s, { msg: { $case: 'inventory', value: { records: batch.map(archiveRecordToWire) } } });
        }
        if (this.stream !== s) return;
        this.inventoryAsOf = snap.asOfSeq;
        await this.write(s, { msg: { $case: 'inventoryDone', value: { asOfSeq: snap.asOfSeq, diskIds: this.runtime.diskHealth().map((h) => h.diskId), buckets: [] } } });
        this.sentSeq = snap.asOfSeq;
      } finally {
        snap.close();
      }
    } else if (w.mode === SyncMode.SYNC_MODE_DIGEST) {
      if (!(await this.digestResync(s, w))) return;
    } else {
      this.stats.replays++;
      this.sentSeq = w.replayAfterSeq;
    }
    await this.replayFrom(s);
    if (this.stream !== s) return; // dropped meanwhile: never mark a newer stream live
    // Deltas made while replaying were not forwarded: catch up, in order, before going live.
    this.live = true;
    this.sending = this.sending.then(() => this.replayFrom(s));
    await this.sending;
    for (const p of this.o.repair?.pendingFinals() ?? []) this.sendProgress(p);
    this.flushScrub();
  }

  /** A digest resync on stream `s`: true once its InventoryDone is written. */
  private async digestResync(s: Stream, w: Welcome): Promise<boolean> {
    const buckets = w.digestBuckets;
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1 << 20) {
      log.warn(`digest resync with ${buckets} buckets refused: reconnecting`);
      s.cancel();
      return false;
    }
    this.stats.digestResyncs++;
    log.info(`digest resync (${w.reason})`);
    const snap = inventorySnapshot(this.o.stateDir);
    this.runtime.journal.coveredBySnapshot(snap.asOfSeq);
    // set before InventoryDone goes out, as for a full inventory: its ack may end the overflow
    this.inventoryAsOf = snap.asOfSeq;
    try {
      const r = await sendDigestResync(snap, this.helloDisks, buckets, {
        write: (m) => this.write(s, m),
        request: () => new Promise((resolve) => {
          this.digestWaiter = { s, resolve };
        }),
        alive: () => this.stream === s,
      }, this.o.batch ?? 1000);
      this.stats.digestRecordsSent += r.sent;
      if (!r.done) return false;
      this.sentSeq = snap.asOfSeq;
      log.info(`digest resync sent ${r.sent} record(s)`);
      return true;
    } finally {
      snap.close();
    }
  }

  /** Sends every journal entry after sentSeq (replay and catch-up after an inventory). */
  private async replayFrom(s: Stream): Promise<void> {
    const r = this.runtime.journal.replay(this.sentSeq);
    if (r.gap) {
      log.warn('journal cannot cover the gap: reconnecting for a full inventory');
      s.cancel();
      return;
    }
    await this.sendDeltas(s, r.deltas);
  }

  private forward(deltas: Delta[]): void {
    const s = this.stream;
    if (!s || !this.live) return; // sent on the next replay
    this.sending = this.sending.then(() => this.sendDeltas(s, deltas));
  }

  private async sendDeltas(s: Stream, deltas: readonly Delta[]): Promise<void> {
    const fresh = deltas.filter((d) => d.seq > this.sentSeq);
    const size = this.o.batch ?? 1000;
    for (let i = 0; i < fresh.length; i += size) {
      const part = fresh.slice(i, i + size);
      await this.write(s, { msg: { $case: 'deltas', value: { deltas: part.map(deltaToWire) } } });
      this.sentSeq = Math.max(this.sentSeq, part[part.length - 1]?.seq ?? 0);
    }
  }

  /** Repair progress; dropped while disconnected (the final report is re-sent on reconnect). */
  sendProgress(p: ProgressReport): void {
    const s = this.stream;
    if (!s || !this.live) return;
    this.sending = this.sending.then(() => this.write(s, { msg: { $case: 'taskProgress', value: progressToWire(p) } }));
  }

  /**
   * An archive the scrub found corrupt stripes in. Kept until a stream is open (at most
   * MAX_PENDING_SCRUB; older ones are dropped with a warning: the agent's log and metrics keep
   * them). A stream that breaks while one is being written loses it; the next pass finds it again.
   */
  sendScrubFinding(f: ScrubFinding): void {
    if (this.pendingScrub.length >= MAX_PENDING_SCRUB) {
      const old = this.pendingScrub.shift();
      log.warn(`scrub finding for ${old?.diskId} ${old?.dataPath} dropped unsent: ${MAX_PENDING_SCRUB} are waiting for the coordinator`);
    }
    // the first few entries say enough; a shredded archive's thousand would only fill memory
    this.pendingScrub.push(f.problems.length > MAX_SENT_PROBLEMS ? { ...f, problems: f.problems.slice(0, MAX_SENT_PROBLEMS) } : f);
    this.flushScrub();
  }

  private flushScrub(): void {
    const s = this.stream;
    if (!s || this.pendingScrub.length === 0) return;
    // Written at once, as disk events are (also during an inventory: Hello went first on every
    // stream): the disk's downgrade follows and must arrive after it.
    for (const f of this.pendingScrub.splice(0)) void this.write(s, { msg: { $case: 'scrubFinding', value: scrubFindingToWire(f) } });
  }

  /** A quarantine result; dropped while disconnected (the coordinator's wait for it times out). */
  sendQuarantineResult(r: QuarantineResult): void {
    const s = this.stream;
    if (!s) return;
    this.sending = this.sending.then(() => this.write(s, { msg: { $case: 'quarantineResult', value: quarantineResultToWire(r) } }));
  }

  private sendDiskEvent(e: DiskEvent): void {
    const s = this.stream;
    const spec = this.runtime.disk(e.diskId);
    // Hello (written first on every stream) carries the states as of connect(); anything later
    // must be sent even during a full inventory or replay, or no later Hello may ever repeat it.
    if (!s) return;
    void this.write(s, { msg: { $case: 'diskEvent', value: {
      disk: diskToWire({ diskId: e.diskId, path: e.path, space: spec?.space ?? '', state: e.to, evidence: e.evidence, ...(e.uuid ? { uuid: e.uuid } : {}), ...(e.downgradedBy ? { downgradedBy: e.downgradedBy } : {}) }),
      from: e.from === 'unknown' ? 0 : diskStateWire.toWire(e.from), atMs: e.at, ...(e.replaced ? { replacedUuid: e.replaced.oldUuid } : {}),
    } } });
  }

  /** Writes with flow control: waits for 'drain' when the stream's buffer is full. */
  private async write(s: Stream, m: AgentMessage): Promise<void> {
    if (this.stream !== s) return;
    if (s.write(m)) return;
    // Removes the listeners of the wait that did not end it (one set per wait otherwise piles up
    // on a stream that lives for weeks).
    const done = new AbortController();
    try {
      // once() rejects when the stream emits 'error' (coordinator gone): that must not reject
      // the send chain (or go unhandled and end the process); dropped() reconnects.
      await Promise.race([once(s, 'drain', { signal: done.signal }), once(s, 'close', { signal: done.signal })]);
    } catch {
      /* the stream failed */
    } finally {
      done.abort();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    this.stream?.cancel();
    this.client?.close();
  }
}
