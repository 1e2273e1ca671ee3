// One synthetic agent of `ecguard simulate`: the agent's side of the session protocol
// (proto/ecguard/v1/agent.proto) over a real gRPC connection, with its inventory computed from
// the population instead of scanned. It numbers its changes, keeps them until acked (an
// in-memory journal), and answers every sync mode the coordinator asks for: full inventory,
// replay and digest resync. It serves no Stripes: the simulated coordinator runs without
// automatic repair.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { AgentSessionClient, SyncMode, type AgentMessage, type CoordinatorMessage, type Welcome } from '../../proto/gen/ecguard/v1/agent.js';
import { BucketDigests, bucketOf } from '../../shared/domain/inventory-digest.js';
import type { Delta } from '../../shared/domain/delta.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { EcguardError } from '../../shared/errors.js';
import { archiveRecordToWire } from '../../shared/wire/archive-record-wire.js';
import { deltaToWire, diskToWire, profileToWire } from '../../shared/wire/session-wire.js';
import { diskStateWire } from '../../shared/wire/enums.js';
import { simDiskId, simDiskPath, simServerId, type SimChange, type SimPopulation } from './sim-population.js';

export type SyncKind = 'full' | 'replay' | 'digest';
type Stream = grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>;

export interface SimAgentOptions {
  readonly address: string;
  readonly credentials: grpc.ChannelCredentials;
  /** Records or deltas per message. */
  readonly batch: number;
}

export class SimAgent {
  private instanceId = randomUUID();
  private readonly client: InstanceType<typeof AgentSessionClient>;
  private stream: Stream | undefined;
  private live = false;
  private seq = 0;
  private acked = 0;
  private journalGap = false;
  /** Changes not acknowledged yet, in sequence order. */
  private journal: Delta[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly missingDisks = new Set<number>();
  /** Resolves once the sync the Welcome asked for is acknowledged. */
  private synced: { resolve: (k: SyncKind) => void; reject: (e: Error) => void; kind?: SyncKind; until?: number } | undefined;
  private digestAnswer: ((buckets: readonly number[] | undefined) => void) | undefined;
  private readonly sentAt: { seq: number; at: number }[] = [];
  /** Connected on purpose: a lost stream is reconnected, as the real agent does. */
  private wanted = false;
  private retry: NodeJS.Timeout | undefined;
  /** Streams lost without disconnect() (the coordinator closed them, or it went away), and the last reason. */
  readonly lost: string[] = [];
  readonly stats = { fullInventories: 0, replays: 0, digestResyncs: 0, recordsSent: 0, deltasSent: 0, digestRecordsSent: 0, ackLatencyMs: [] as number[] };

  constructor(private readonly pop: SimPopulation, readonly index: number, private readonly o: SimAgentOptions) {
    this.client = new AgentSessionClient(o.address, o.credentials, { 'grpc.max_send_message_length': 16 * 1024 * 1024, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  }

  get serverId(): string {
    return simServerId(this.index);
  }

  get connected(): boolean {
    return this.live;
  }

  /** Connects, says Hello and does the sync the coordinator asks for; resolves when it is acked. */
  connect(): Promise<SyncKind> {
    if (this.stream) throw new EcguardError('SIM_STATE', `${this.serverId} is connected already`);
    this.wanted = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    const s = this.client.connect();
    this.stream = s;
    const done = new Promise<SyncKind>((resolve, reject) => (this.synced = { resolve, reject }));
    s.on('data', (m: CoordinatorMessage) => void this.onMessage(s, m).catch((e: unknown) => this.fail(s, e instanceof Error ? e : new Error(String(e)))));
    s.on('error', (e: grpc.ServiceError) => this.fail(s, new EcguardError('SIM_STREAM', `${this.serverId}: ${e.details || e.message}`)));
    s.on('end', () => this.fail(s, new EcguardError('SIM_STREAM', `${this.serverId}: the coordinator ended the session`)));
    const disks = Array.from({ length: this.pop.shape.disksPerServer }, (_, d) => diskToWire({ diskId: simDiskId(this.index, d), path: simDiskPath(d), space: 'public', state: this.missingDisks.has(d) ? 'missing' : 'online', uuid: `sim-${this.index}-${d}`, evidence: [] }));
    s.write({ msg: { $case: 'hello', value: { serverId: this.serverId, instanceId: this.instanceId, ackedSeq: this.acked, lastSeq: this.seq, journalGap: this.journalGap, disks, profile: profileToWire(this.pop.shape.profile), agentVersion: 'simulate', stripesAddress: '', runningTasks: [], digestResync: true } } });
    return done;
  }

  /** Drops the connection as a crash or a network cut would; the journal stays. */
  disconnect(): void {
    this.wanted = false;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.drop();
    // a connect() still waiting for its sync settles instead of hanging
    const w = this.synced;
    this.synced = undefined;
    this.digestAnswer?.(undefined);
    w?.reject(new EcguardError('SIM_STATE', `${this.serverId} was disconnected before its sync was acknowledged`));
  }

  private drop(): void {
    this.sentAt.length = 0; // an ack latency never spans a reconnect
    const s = this.stream;
    this.stream = undefined;
    this.live = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    s?.cancel();
  }

  /** A restarted agent process: a new instance id; with `journalLost`, nothing to replay. */
  restart(journalLost: boolean): void {
    this.disconnect();
    this.instanceId = randomUUID();
    if (journalLost) {
      this.journal = [];
      this.journalGap = true;
    }
  }

  /** Numbers `changes` and sends them when connected (else they wait in the journal). */
  emit(changes: readonly SimChange[]): void {
    const start = this.journal.length;
    for (const c of changes) this.journal.push({ ...c, seq: ++this.seq } as Delta);
    if (this.live) this.sendDeltas(this.journal.slice(start));
  }

  /** A disk goes missing or comes back, as the agent's disk monitor reports it. */
  diskState(d: number, state: 'missing' | 'online'): void {
    if (state === 'missing') this.missingDisks.add(d);
    else this.missingDisks.delete(d);
    const from = state === 'missing' ? 'online' : 'missing';
    this.stream?.write({ msg: { $case: 'diskEvent', value: { disk: diskToWire({ diskId: simDiskId(this.index, d), path: simDiskPath(d), space: 'public', state, uuid: `sim-${this.index}-${d}`, evidence: state === 'missing' ? ['simulated: the disk\'s path is gone'] : [] }), from: diskStateWire.toWire(from), atMs: Date.now() } } });
  }

  close(): void {
    this.disconnect();
    this.client.close();
  }

  private fail(s: Stream, e: Error): void {
    if (s !== this.stream) return;
    this.drop();
    const w = this.synced;
    this.synced = undefined;
    this.digestAnswer?.(undefined);
    if (w) return w.reject(e);
    // lost while live: reconnect after a pause, until disconnect()
    this.lost.push(e.message);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (!this.wanted || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.wanted && !this.stream) this.connect().catch(() => this.reconnectLater());
    }, 500);
    this.retry.unref();
  }

  private async onMessage(s: Stream, m: CoordinatorMessage): Promise<void> {
    if (s !== this.stream || !m.msg) return;
    switch (m.msg.$case) {
      case 'welcome':
        return this.onWelcome(s, m.msg.value);
      case 'ack':
        return this.onAck(m.msg.value.seq);
      case 'digestRequest':
        return this.digestAnswer?.(m.msg.value.buckets);
      case 'refusal':
        return this.fail(s, new EcguardError('SIM_REFUSED', `${this.serverId} refused: ${m.msg.value.code}: ${m.msg.value.reason}`));
      default:
        return; // repair tasks, throttles, quarantine orders: the simulated coordinator sends none
    }
  }

  private async onWelcome(s: Stream, w: Welcome): Promise<void> {
    this.heartbeat = setInterval(() => this.sendHeartbeat(), Math.max(100, w.heartbeatIntervalMs || 5000));
    this.heartbeat.unref();
    const wait = this.synced;
    if (w.mode === SyncMode.SYNC_MODE_REPLAY) {
      this.stats.replays++;
      this.live = true;
      const replay = this.journal.filter((d) => d.seq > w.replayAfterSeq);
      if (wait) wait.kind = 'replay';
      if (replay.length === 0 || !wait) return this.settle('replay');
      wait.until = this.seq;
      this.sendDeltas(replay);
      return;
    }
    const asOfSeq = this.seq;
    // every disk's archives, a missing one's too: the agent's snapshot keeps what it last saw
    // there, and the coordinator sweeps every disk of the Hello
    const records = (): Generator<ArchiveRecord> => this.pop.recordsOf(this.index);
    if (w.mode === SyncMode.SYNC_MODE_DIGEST) {
      this.stats.digestResyncs++;
      if (wait) wait.kind = 'digest';
      const digests = new BucketDigests(w.digestBuckets);
      // yields between batches, as the agent does: a hundred agents share this process, and
      // their heartbeats must go on meanwhile
      let n = 0;
      for (const r of records()) {
        digests.add(r);
        if (++n % this.o.batch === 0) await yieldTurn();
      }
      const answer = new Promise<readonly number[] | undefined>((res) => (this.digestAnswer = res));
      await this.write(s, { msg: { $case: 'digests', value: { asOfSeq, counts: digests.counts, sums: digests.sums } } });
      const wanted = await answer;
      this.digestAnswer = undefined;
      if (wanted === undefined || s !== this.stream) return;
      const want = new Set(wanted);
      this.stats.digestRecordsSent += await this.sendRecords(s, records(), (r) => want.has(bucketOf(r.diskId, r.dataPath, w.digestBuckets)));
      if (wait) wait.until = asOfSeq; // before the write: its ack may come before the write settles
      await this.write(s, { msg: { $case: 'inventoryDone', value: { asOfSeq, diskIds: this.allDiskIds(), buckets: [...wanted] } } });
    } else {
      this.stats.fullInventories++;
      if (wait) wait.kind = 'full';
      this.stats.recordsSent += await this.sendRecords(s, records(), () => true);
      if (wait) wait.until = asOfSeq;
      await this.write(s, { msg: { $case: 'inventoryDone', value: { asOfSeq, diskIds: this.allDiskIds(), buckets: [] } } });
    }
  }

  private onAck(seq: number): void {
    this.acked = Math.max(this.acked, seq);
    let drop = 0;
    while (drop < this.journal.length && (this.journal[drop] as Delta).seq <= seq) drop++;
    if (drop > 0) this.journal = this.journal.slice(drop);
    const now = Date.now();
    while (this.sentAt.length > 0 && (this.sentAt[0] as { seq: number }).seq <= seq) this.stats.ackLatencyMs.push(now - (this.sentAt.shift() as { at: number }).at);
    const w = this.synced;
    if (w?.kind && w.until !== undefined && seq >= w.until) {
      this.journalGap = false;
      // after an inventory, changes numbered since its snapshot go out now (a replay was live
      // from its Welcome on: emit() sent them already)
      if (!this.live) {
        this.live = true;
        const after = this.journal.filter((d) => d.seq > seq);
        if (after.length > 0) this.sendDeltas(after);
      }
      this.settle(w.kind);
    }
  }

  private settle(kind: SyncKind): void {
    const w = this.synced;
    this.synced = undefined;
    w?.resolve(kind);
  }

  private allDiskIds(): string[] {
    return Array.from({ length: this.pop.shape.disksPerServer }, (_, d) => simDiskId(this.index, d));
  }

  private upDiskIds(): string[] {
    return Array.from({ length: this.pop.shape.disksPerServer }, (_, d) => d).filter((d) => !this.missingDisks.has(d)).map((d) => simDiskId(this.index, d));
  }

  private async sendRecords(s: Stream, records: Iterable<ArchiveRecord>, keep: (r: ArchiveRecord) => boolean): Promise<number> {
    let batch: ArchiveRecord[] = [];
    let n = 0;
    for (const r of records) {
      if (!keep(r)) continue;
      batch.push(r);
      if (batch.length >= this.o.batch) {
        await this.write(s, { msg: { $case: 'inventory', value: { records: batch.map(archiveRecordToWire) } } });
        n += batch.length;
        batch = [];
        await yieldTurn();
      }
    }
    if (batch.length > 0) await this.write(s, { msg: { $case: 'inventory', value: { records: batch.map(archiveRecordToWire) } } });
    return n + batch.length;
  }

  private sendDeltas(list: readonly Delta[]): void {
    const s = this.stream;
    if (!s) return;
    for (let i = 0; i < list.length; i += this.o.batch) {
      const part = list.slice(i, i + this.o.batch);
      s.write({ msg: { $case: 'deltas', value: { deltas: part.map(deltaToWire) } } });
      this.sentAt.push({ seq: (part[part.length - 1] as Delta).seq, at: Date.now() });
      this.stats.deltasSent += part.length;
    }
  }

  private sendHeartbeat(): void {
    const diskSpace = this.upDiskIds().map((diskId) => ({ diskId, freeBytes: 8e12, totalBytes: 16e12 }));
    this.stream?.write({ msg: { $case: 'heartbeat', value: { sentAtMs: Date.now(), lastSeq: this.seq, journalPending: this.journal.length, journalOverflow: false, diskSpace } } });
  }

  /** Writes with the stream's flow control: waits for 'drain' when its buffer is full. */
  private write(s: Stream, m: AgentMessage): Promise<void> {
    if (s !== this.stream) return Promise.resolve();
    if (s.write(m)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        s.off('drain', done);
        s.off('close', done);
        resolve();
      };
      s.on('drain', done);
      s.on('close', done);
    });
  }
}

function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
