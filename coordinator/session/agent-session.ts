// One agent's stream, coordinator side: Hello → Welcome → full inventory or journal replay →
// live deltas, disk events and heartbeats; acknowledges what is stored. Invalid records are
// rejected with a logged reason and never reach the catalog; a protocol violation closes the
// session cleanly with a Refusal saying why.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { AgentMessage, CoordinatorMessage, DeltaBatch, Hello, InventoryBatch, InventoryDigests, InventoryDone, DiskEvent } from '../../proto/gen/ecguard/v1/agent.js';
import { SyncMode } from '../../proto/gen/ecguard/v1/agent.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { archiveKey } from '../../shared/domain/delta.js';
import { getLogger } from '../../shared/logger.js';
import { errorText } from '../../shared/errors.js';
import { archiveRecordFromWire } from '../../shared/wire/archive-record-wire.js';
import { deltaFromWire, diskFromWire, profileFromWire } from '../../shared/wire/session-wire.js';
import { progressFromWire } from '../../shared/wire/repair-wire.js';
import { quarantineOrderToWire, quarantineResultFromWire } from '../../shared/wire/debris-wire.js';
import { scrubFindingFromWire } from '../../shared/wire/scrub-wire.js';
import type { QuarantineOrder } from '../../shared/domain/debris-order.js';
import type { RepairTask, RepairThrottles, TaskProgress } from '../../proto/gen/ecguard/v1/repair.js';
import type { PeerIdentity } from '../../shared/tls/tls-identity.js';
import type { ArchiveRemoval } from '../catalog/catalog-store.js';
import type { SessionContext } from './session-context.js';
import type { SessionHandle } from './session-registry.js';
import { archivesInBuckets, badDigests, catalogDigests } from './digest-resync.js';
import { DIGEST_BUCKETS } from '../../shared/domain/inventory-digest.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

const log = getLogger('session');
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type Phase = 'hello' | 'digest' | 'inventory' | 'live' | 'closed';

export class AgentSession implements SessionHandle {
  serverId = '';
  instanceId = '';
  stripesAddress = '';
  readonly since = Date.now();
  private phase: Phase = 'hello';
  private disks = new Set<string>();
  /**
   * Disks the Hello called readable and read: only their archives may be swept by this
   * session's full inventory or digest resync. An agent that lost its state while a disk was
   * unmounted knows nothing of that disk's archives (the Hello says `unread`): their absence
   * from its inventory is no evidence, nor is a missing or failed disk's.
   */
  private sweepable = new Set<string>();
  /** Disks whose archives the agent's inventory can hold (not `unread`): what digests compare. */
  private digested = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  /** Messages received and not yet handled. */
  private handling = 0;
  private rejected = 0;
  /** The catalog holds this server's changes up to here: the next delta must be this + 1. */
  private appliedSeq = 0;
  /** A digest resync in progress: the buckets asked for, and the records received for them. */
  private digestScope: { wanted: Set<number>; keys: ArchiveRemoval[]; records: number } | undefined;

  constructor(
    private readonly call: grpc.ServerDuplexStream<AgentMessage, CoordinatorMessage>,
    private readonly ctx: SessionContext,
    readonly peer: string,
    private readonly identity: PeerIdentity | undefined,
  ) {
    call.on('data', (m: AgentMessage) => {
      // Messages are handled strictly in order; the stream is paused while the store works.
      call.pause();
      this.handling++;
      this.queue = this.queue.then(() => this.handle(m)).catch((err: unknown) => this.fail('INTERNAL', `coordinator error: ${String(err)}`)).finally(() => {
        this.handling--;
        // the time the coordinator spent on this message is not the agent's silence
        if (this.serverId && this.phase !== 'closed') this.ctx.seen(this.serverId);
        call.resume();
      });
    });
    call.on('error', () => this.end());
    call.on('end', () => {
      this.end();
      call.end();
    });
    call.on('close', () => this.end());
  }

  private send(m: CoordinatorMessage): void {
    if (this.phase !== 'closed') this.call.write(m);
  }

  close(code: string, reason: string): void {
    this.send({ msg: { $case: 'refusal', value: { code, reason } } });
    this.phase = 'closed';
    this.call.end();
    this.end();
  }

  requestRescan(diskIds: readonly string[], reason: string): void {
    this.send({ msg: { $case: 'rescan', value: { diskIds: [...diskIds], reason } } });
  }

  sendTask(task: RepairTask): void {
    this.send({ msg: { $case: 'repairTask', value: task } });
  }

  cancelTask(taskId: string, reason: string, discardSlots: readonly number[] = []): void {
    this.send({ msg: { $case: 'repairCancel', value: { taskId, reason, discardSlots: [...discardSlots] } } });
  }

  sendQuarantine(order: QuarantineOrder): void {
    this.send({ msg: { $case: 'quarantine', value: quarantineOrderToWire(order) } });
  }

  sendThrottles(t: RepairThrottles): void {
    this.send({ msg: { $case: 'throttles', value: t } });
  }

  /** The domain form of a wire message, or undefined after closing the session with BAD_MESSAGE. */
  private decoded<W, D>(w: W, fromWire: (w: W) => D): D | undefined {
    try {
      return fromWire(w);
    } catch (err) {
      this.fail('BAD_MESSAGE', errorText(err));
      return undefined;
    }
  }

  private fail(code: string, reason: string): void {
    log.warn(`session ${this.serverId || this.peer}: ${code}: ${reason}`);
    this.close(code, reason);
  }

  get busy(): boolean {
    return this.handling > 0;
  }

  /** Settles once the message being handled, if any, is done (the queue never rejects). */
  idle(): Promise<void> {
    return this.queue;
  }

  private end(): void {
    this.phase = 'closed';
    // The server id stays claimed until the message in hand is done: a new stream of the server
    // must not interleave with the end of this one's catalog write (say, an inventory batch).
    if (this.serverId) void this.queue.then(() => this.ctx.registry.release(this));
  }

  private async handle(m: AgentMessage): Promise<void> {
    if (this.phase === 'closed' || !m.msg) return;
    if (this.serverId) this.ctx.seen(this.serverId);
    switch (m.msg.$case) {
      case 'hello':
        if (this.phase !== 'hello') return this.fail('PROTOCOL', 'Hello sent twice');
        return this.onHello(m.msg.value);
      case 'digests':
        if (this.phase !== 'digest') return this.fail('PROTOCOL', 'inventory digests outside a digest resync');
        return this.onDigests(m.msg.value);
      case 'inventory':
        if (this.phase !== 'inventory') return this.fail('PROTOCOL', 'inventory batch outside a full inventory');
        return this.onInventory(m.msg.value);
      case 'inventoryDone':
        if (this.phase !== 'inventory') return this.fail('PROTOCOL', 'InventoryDone outside a full inventory');
        return this.onInventoryDone(m.msg.value);
      case 'deltas':
        if (this.phase !== 'live') return this.fail('PROTOCOL', 'deltas before the session is live');
        return this.onDeltas(m.msg.value);
      case 'heartbeat':
        if (this.phase === 'hello') return this.fail('PROTOCOL', 'heartbeat before Hello');
        this.ctx.diskSpace(this.serverId, m.msg.value.diskSpace);
        return;
      case 'diskEvent':
        if (this.phase === 'hello') return this.fail('PROTOCOL', 'disk event before Hello');
        return this.onDiskEvent(m.msg.value);
      case 'taskProgress':
        if (this.phase === 'hello') return this.fail('PROTOCOL', 'task progress before Hello');
        return this.onTaskProgress(m.msg.value);
      case 'quarantineResult': {
        if (this.phase === 'hello') return this.fail('PROTOCOL', 'quarantine result before Hello');
        const r = this.decoded(m.msg.value, quarantineResultFromWire);
        if (r) this.ctx.quarantineResult(this.serverId, r);
        return;
      }
      case 'scrubFinding': {
        if (this.phase === 'hello') return this.fail('PROTOCOL', 'scrub finding before Hello');
        const f = this.decoded(m.msg.value, scrubFindingFromWire);
        return f ? this.ctx.scrubFinding(this.serverId, f) : undefined;
      }
    }
  }

  private async onHello(h: Hello): Promise<void> {
    if (!SERVER_ID.test(h.serverId)) return this.fail('BAD_HELLO', `server id ${JSON.stringify(h.serverId.slice(0, 80))} is not a valid id`);
    if (!this.ctx.insecure) {
      if (!this.identity || this.identity.kind !== 'server') return this.fail('IDENTITY', `the client certificate does not name a server (${this.identity?.subject ?? 'none'})`);
      if (this.identity.id !== h.serverId) return this.fail('IDENTITY', `agent claims server ${h.serverId} but its certificate names server ${this.identity.id}: refused`);
    }
    this.serverId = h.serverId;
    this.instanceId = h.instanceId || randomUUID();
    let holder = this.ctx.registry.claim(this);
    if (holder && h.instanceId !== '' && holder.instanceId === h.instanceId) {
      // The same agent process reconnected: it dropped the old stream (a network blip), which
      // this side has not noticed yet (keepalive takes ~30 s). Refusing would leave the server
      // looking silent, then down. Its last message finishes before this one goes on.
      log.info(`session ${h.serverId}: the same agent instance reconnected from ${this.peer}; its old stream from ${holder.peer} is closed`);
      holder.close('SUPERSEDED', `the same agent instance reconnected from ${this.peer}`);
      await holder.idle();
      holder = this.ctx.registry.claim(this);
    }
    if (holder) {
      this.serverId = '';
      return this.fail('DUPLICATE_SERVER', `server ${h.serverId} is already connected from ${holder.peer} (instance ${holder.instanceId}) since ${new Date(holder.since).toISOString()}; refused`);
    }
    if (h.stripesAddress !== '' && !/^[^\s/]{1,255}:[0-9]{1,5}$/.test(h.stripesAddress)) return this.fail('BAD_HELLO', `stripes address ${JSON.stringify(h.stripesAddress.slice(0, 80))} is not host:port`);
    this.stripesAddress = h.stripesAddress;
    const profile = profileFromWire(h.profile);
    if (profile.ok) this.ctx.noteProfile(h.serverId, profile.value);
    for (const d of h.disks) {
      const r = diskFromWire(d);
      if (!r.ok) return this.fail('BAD_HELLO', r.reason);
      this.disks.add(r.value.diskId);
      if (!r.value.unread) this.digested.add(r.value.diskId);
      if (diskReadable(r.value.state) && !r.value.unread) this.sweepable.add(r.value.diskId);
      await this.ctx.diskReport(h.serverId, r.value, undefined);
    }
    const known = await this.ctx.serverConnected(h.serverId, this.instanceId);
    await this.ctx.repairSessionStarted(this, known?.instanceId !== this.instanceId, h.runningTasks.slice(0, 10_000));
    // Replay when the catalog holds this server's inventory and the journal covers the gap.
    const canReplay = known !== undefined && known.inventoried && !h.journalGap && known.appliedSeq >= h.ackedSeq && known.appliedSeq <= h.lastSeq;
    if (canReplay) {
      this.phase = 'live';
      this.appliedSeq = known.appliedSeq;
      this.ctx.synced(h.serverId, 'replay');
      this.send({ msg: { $case: 'welcome', value: { mode: SyncMode.SYNC_MODE_REPLAY, replayAfterSeq: known.appliedSeq, heartbeatIntervalMs: this.ctx.heartbeatMs, reason: `replay after ${known.appliedSeq}`, digestBuckets: 0 } } });
      if (known.appliedSeq === h.lastSeq) this.ctx.reported(h.serverId);
      else this.replayTarget = h.lastSeq;
    } else if (known?.inventoried && h.digestResync) {
      // The catalog holds an inventory of this server: only the buckets that differ are re-sent.
      this.phase = 'digest';
      const why = h.journalGap ? 'agent journal has a gap' : `catalog at ${known.appliedSeq}, journal covers ${h.ackedSeq}..${h.lastSeq}`;
      this.send({ msg: { $case: 'welcome', value: { mode: SyncMode.SYNC_MODE_DIGEST, replayAfterSeq: 0, heartbeatIntervalMs: this.ctx.heartbeatMs, reason: `digest resync: ${why}`, digestBuckets: DIGEST_BUCKETS } } });
    } else {
      this.phase = 'inventory';
      this.ctx.synced(h.serverId, 'full');
      await this.ctx.store.beginInventory(h.serverId, [...this.sweepable]);
      const why = !known ? 'new server' : !known.inventoried ? 'no complete inventory yet' : h.journalGap ? 'agent journal has a gap' : `catalog at ${known.appliedSeq}, journal covers ${h.ackedSeq}..${h.lastSeq}`;
      this.send({ msg: { $case: 'welcome', value: { mode: SyncMode.SYNC_MODE_FULL_INVENTORY, replayAfterSeq: 0, heartbeatIntervalMs: this.ctx.heartbeatMs, reason: `full inventory: ${why}`, digestBuckets: 0 } } });
    }
  }

  private replayTarget: number | undefined;

  private records(list: InventoryBatch['records']): ArchiveRecord[] {
    const out: ArchiveRecord[] = [];
    for (const w of list) {
      const r = archiveRecordFromWire(w, this.serverId, this.ctx.profile(w.lfn));
      if (!r.ok) this.rejectInInventory(w.diskId, w.dataPath, r.reason);
      else if (!this.disks.has(r.value.diskId)) this.rejectInInventory(w.diskId, w.dataPath, `record on undeclared disk ${r.value.diskId}`);
      else out.push(r.value);
    }
    return out;
  }

  /**
   * A record the inventory sent but the catalog refused would be swept at its end like an archive
   * the agent no longer holds, and taken for a delete (review: a wrong profile prefix would have
   * tombstoned live files). Its key is kept from the sweep; past ctx.maxRejectedKeys the
   * inventory sweeps nothing at all.
   */
  private rejectInInventory(diskId: string, dataPath: string, reason: string): void {
    this.reject(reason);
    if (this.rejectedKeys.length < this.ctx.maxRejectedKeys) this.rejectedKeys.push({ diskId, dataPath });
    else this.rejectedOverflow = true;
  }

  private rejectedKeys: ArchiveRemoval[] = [];
  private rejectedOverflow = false;

  private reject(reason: string): void {
    this.rejected++;
    this.ctx.rejectedRecord(this.serverId, reason);
    if (this.rejected <= 20 || this.rejected % 1000 === 0) log.warn(`server ${this.serverId}: rejected ${reason} (${this.rejected} so far)`);
  }

  private async onDigests(m: InventoryDigests): Promise<void> {
    const bad = badDigests(m, DIGEST_BUCKETS);
    if (bad) return this.fail('BAD_DIGESTS', bad);
    // a server of millions of archives takes a while: its heartbeats wait in the stream meanwhile
    const mine = await catalogDigests(this.ctx.store, this.serverId, [...this.digested], DIGEST_BUCKETS, () => this.ctx.seen(this.serverId));
    const wanted = mine.differing(m.counts, m.sums);
    // marked before the keys are read: a key written after this is re-marked, never swept
    await this.ctx.store.beginInventory(this.serverId, [...this.sweepable]);
    const keys = await archivesInBuckets(this.ctx.store, this.serverId, [...this.sweepable], new Set(wanted), DIGEST_BUCKETS, () => this.ctx.seen(this.serverId));
    this.digestScope = { wanted: new Set(wanted), keys, records: 0 };
    this.phase = 'inventory';
    log.info(`session ${this.serverId}: digest resync: ${wanted.length} of ${DIGEST_BUCKETS} bucket(s) differ`);
    this.send({ msg: { $case: 'digestRequest', value: { buckets: wanted } } });
  }

  private async onInventory(b: InventoryBatch): Promise<void> {
    const records = this.records(b.records);
    if (this.digestScope) this.digestScope.records += records.length;
    const touched = await this.ctx.store.inventoryBatch(this.serverId, records);
    this.ctx.reclassify(touched);
  }

  private async onInventoryDone(d: InventoryDone): Promise<void> {
    const scope = this.digestScope;
    if (scope && (d.buckets.length !== scope.wanted.size || !d.buckets.every((b) => scope.wanted.has(b)))) {
      return this.fail('PROTOCOL', `digest resync ended for ${d.buckets.length} bucket(s) where ${scope.wanted.size} were asked: reconnect`);
    }
    this.digestScope = undefined;
    // The archives the agent no longer holds (swept): deletes it could not report as they
    // happened (a journal gap), so they get a delete's grace and tombstone rule, not damage's.
    // Records it sent but the coordinator refused keep their old rows (as a refused delta does).
    const keep = this.rejectedKeys;
    const overflow = this.rejectedOverflow;
    this.rejectedKeys = [];
    this.rejectedOverflow = false;
    // Too many refused to keep them all: any absence may be a refusal, so nothing is swept (an
    // empty `only`). What the agent no longer holds stays until a sync with fewer refusals.
    if (overflow) log.warn(`session ${this.serverId}: more than ${this.ctx.maxRejectedKeys} records refused in one inventory: nothing swept; fix what refuses them (see the rejected-record warnings)`);
    const swept = await this.ctx.store.endInventory(this.serverId, d.asOfSeq, overflow ? [] : scope?.keys, overflow ? undefined : keep);
    if (scope) this.ctx.synced(this.serverId, 'digest', scope.records);
    this.ctx.reclassifyUnlinked(swept);
    this.phase = 'live';
    this.appliedSeq = d.asOfSeq;
    this.send({ msg: { $case: 'ack', value: { seq: d.asOfSeq } } });
    this.ctx.reported(this.serverId);
  }

  private async onDeltas(b: DeltaBatch): Promise<void> {
    // The store applies upserts and removals as two sets: keep only the last change per archive
    // so a delete-and-recreate (or the reverse) within one batch ends as it did on disk.
    const last = new Map<string, { upsert?: ArchiveRecord; removal?: ArchiveRemoval; unlink?: boolean }>();
    // Sequence numbers are contiguous: a hole means the agent lost changes (journal overflow),
    // and acking past it would make the agent forget them. Refuse before storing anything.
    let expect = this.appliedSeq + 1;
    for (const w of b.deltas) {
      if (w.seq !== expect) return this.fail('SEQ_GAP', `delta ${w.seq} where ${expect} was due: changes are missing; reconnect for a full inventory`);
      expect++;
    }
    let maxSeq = 0;
    for (const w of b.deltas) {
      maxSeq = Math.max(maxSeq, w.seq);
      const r = deltaFromWire(w, this.serverId, this.ctx.profile(w.change?.$case === 'upsert' ? w.change.value.lfn : undefined));
      if (!r.ok) {
        this.reject(r.reason);
        continue;
      }
      const d = r.value;
      if (d.kind === 'upsert') {
        if (!this.disks.has(d.record.diskId)) this.reject(`delta ${d.seq} on undeclared disk ${d.record.diskId}`);
        else last.set(archiveKey(d.record.diskId, d.record.dataPath), { upsert: d.record });
      } else {
        // a rescan's removal is a delete the watch missed: the same rules as an unlink
        last.set(archiveKey(d.diskId, d.dataPath), { removal: { diskId: d.diskId, dataPath: d.dataPath }, unlink: d.cause === 'unlink' || d.cause === 'rescan' });
      }
    }
    const upserts: ArchiveRecord[] = [];
    const removals: ArchiveRemoval[] = [];
    const unlinked: ArchiveRemoval[] = [];
    for (const v of last.values()) {
      if (v.upsert) upserts.push(v.upsert);
      if (v.removal) removals.push(v.removal);
      if (v.removal && v.unlink) unlinked.push(v.removal);
    }
    const unlinkedLfns = unlinked.length ? await this.ctx.lfnsOfArchives(this.serverId, unlinked) : [];
    const touched = await this.ctx.store.applyArchiveChanges(this.serverId, upserts, removals, maxSeq || undefined);
    if (maxSeq > 0) this.appliedSeq = maxSeq;
    if (unlinkedLfns.length) this.ctx.reclassifyUnlinked(unlinkedLfns);
    this.ctx.reclassify(touched);
    if (maxSeq > 0) {
      this.send({ msg: { $case: 'ack', value: { seq: maxSeq } } });
      if (this.replayTarget !== undefined && maxSeq >= this.replayTarget) {
        this.replayTarget = undefined;
        this.ctx.reported(this.serverId);
      }
    }
  }

  private async onTaskProgress(p: TaskProgress): Promise<void> {
    const r = progressFromWire(p);
    if (!r.ok) return this.reject(r.reason);
    await this.ctx.repairProgress(this.serverId, r.value);
  }

  private async onDiskEvent(e: DiskEvent): Promise<void> {
    const r = diskFromWire(e.disk);
    if (!r.ok) return this.reject(`disk event: ${r.reason}`);
    this.disks.add(r.value.diskId);
    await this.ctx.diskReport(this.serverId, r.value, e.replacedUuid);
  }
}
