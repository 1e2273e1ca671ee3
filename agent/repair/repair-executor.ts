// The agent's repair executor: runs the tasks the coordinator sends, at most maxTasks at once
// (the coordinator enforces the same limit; this is the agent's own guard), shares one token
// bucket for source bytes and one peer pool (one connection per peer) among them, and keeps
// each task's final report until the coordinator has surely seen it (re-sent on reconnect).
import { getLogger } from '../../shared/logger.js';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';
import type { ProgressReport, RepairOrder } from '../../shared/wire/repair-wire.js';
import type { PeerPool } from '../stripes/peer-pool.js';
import type { StripesContext } from '../stripes/stripes-context.js';
import { runRepairTask } from './task-run.js';

const log = getLogger('repair');

export interface ExecutorThrottles {
  readonly maxTasks: number;
  readonly mbPerS: number;
}

export interface ExecutorStats {
  running: number;
  peakRunning: number;
  queued: number;
  done: number;
  failed: number;
  bytesRead: number;
  bytesWritten: number;
}

interface Running {
  readonly order: RepairOrder;
  readonly abort: AbortController;
  readonly finished: Promise<void>;
}

export class RepairExecutor {
  private readonly running = new Map<string, Running>();
  private readonly waiting: RepairOrder[] = [];
  private readonly finals = new Map<string, { report: ProgressReport; at: number }>();
  private readonly bucket: TokenBucket;
  private maxTasks: number;
  readonly stats: ExecutorStats = { running: 0, peakRunning: 0, queued: 0, done: 0, failed: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(private readonly o: { ctx: StripesContext; pool: PeerPool; codec: ErasureCodec; send: (p: ProgressReport) => void; throttles: ExecutorThrottles }) {
    this.maxTasks = o.throttles.maxTasks;
    this.bucket = new TokenBucket(o.throttles.mbPerS * 1e6);
  }

  setThrottles(t: Partial<ExecutorThrottles>): void {
    if (t.maxTasks !== undefined && t.maxTasks > 0) this.maxTasks = t.maxTasks;
    if (t.mbPerS !== undefined && t.mbPerS > 0) this.bucket.setRate(t.mbPerS * 1e6);
    this.pump();
  }

  get throttles(): ExecutorThrottles {
    return { maxTasks: this.maxTasks, mbPerS: this.bucket.rate / 1e6 };
  }

  runningTasks(): string[] {
    return [...this.running.keys(), ...this.waiting.map((w) => w.taskId)];
  }

  /** A task from the coordinator. A re-sent task (new attempt) replaces a run still going. */
  submit(order: RepairOrder): void {
    const have = this.running.get(order.taskId);
    if (have && have.order.attempt === order.attempt) return;
    const queued = this.waiting.findIndex((w) => w.taskId === order.taskId);
    if (queued >= 0) this.waiting.splice(queued, 1);
    this.finals.delete(order.taskId);
    if (have) {
      have.abort.abort('superseded by a new attempt');
      void have.finished.then(() => this.enqueue(order));
      return;
    }
    this.enqueue(order);
  }

  private enqueue(order: RepairOrder): void {
    this.waiting.push(order);
    this.stats.queued = this.waiting.length;
    this.pump();
  }

  cancel(taskId: string, reason: string): void {
    const i = this.waiting.findIndex((w) => w.taskId === taskId);
    if (i >= 0) this.waiting.splice(i, 1);
    this.running.get(taskId)?.abort.abort(reason);
    this.stats.queued = this.waiting.length;
  }

  /** Final reports not yet known to be seen: re-sent after a reconnect. */
  pendingFinals(): ProgressReport[] {
    const cutoff = Date.now() - 600_000;
    for (const [id, f] of this.finals) if (f.at < cutoff) this.finals.delete(id);
    return [...this.finals.values()].map((f) => f.report);
  }

  private pump(): void {
    while (this.running.size < this.maxTasks && this.waiting.length > 0) {
      const order = this.waiting.shift() as RepairOrder;
      const abort = new AbortController();
      const finished = this.run(order, abort.signal).finally(() => {
        this.running.delete(order.taskId);
        this.stats.running = this.running.size;
        this.pump();
      });
      this.running.set(order.taskId, { order, abort, finished });
      this.stats.running = this.running.size;
      this.stats.peakRunning = Math.max(this.stats.peakRunning, this.running.size);
    }
    this.stats.queued = this.waiting.length;
  }

  private async run(order: RepairOrder, signal: AbortSignal): Promise<void> {
    log.info(`repair ${order.taskId} (attempt ${order.attempt}): ${order.plan.lfn}, ${order.plan.targets.length} archive(s) from ${order.plan.sources.length} source(s)`);
    const final = await runRepairTask(order, { ctx: this.o.ctx, pool: this.o.pool, bucket: this.bucket, codec: this.o.codec, signal, report: (p) => this.o.send(p) });
    this.stats.bytesRead += final.bytesRead;
    this.stats.bytesWritten += final.bytesWritten;
    if (final.phase === 'done') this.stats.done++;
    else this.stats.failed++;
    if (final.phase === 'failed') log.warn(`repair ${order.taskId} of ${order.plan.lfn} failed: ${final.errorCode ?? ''} ${final.error ?? ''}`);
    this.finals.set(order.taskId, { report: final, at: Date.now() });
  }

  /** Stops every task (agent shutdown): their placements are aborted. */
  async stop(): Promise<void> {
    this.waiting.length = 0;
    for (const r of this.running.values()) r.abort.abort('agent stopping');
    await Promise.all([...this.running.values()].map((r) => r.finished.catch(() => undefined)));
  }
}
