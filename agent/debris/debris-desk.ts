// The agent's debris side: carries out the coordinator's quarantine orders (one at a time, in
// arrival order), and on its own recovers interrupted moves at start and purges quarantines past
// the retention (at start, then hourly).
import type { QuarantineOrder as WireOrder } from '../../proto/gen/ecguard/v1/debris.js';
import type { QuarantineResult } from '../../shared/domain/debris-order.js';
import { errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { quarantineOrderFromWire } from '../../shared/wire/debris-wire.js';
import type { AgentRuntime } from '../agent-runtime.js';
import { namespaceRoots, rootOf } from '../namespace/namespace-roots.js';
import type { SiteLayout } from '../scan/site-scanner.js';
import { quarantineArchive, type QuarantineContext } from './quarantine-move.js';
import { sweepQuarantines, type SweepReport } from './quarantine-sweep.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

const log = getLogger('debris');
const SWEEP_EVERY_MS = 3600_000;

export interface DebrisDeskOptions {
  readonly runtime: Pick<AgentRuntime, 'disk' | 'diskHealth'>;
  readonly layout: SiteLayout;
  readonly retentionMs: number;
  readonly now?: () => number;
}

export class DebrisDesk {
  private send: (r: QuarantineResult) => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: WireOrder[] = [];
  readonly ctx: QuarantineContext;
  /** Counters for metrics and tests. */
  readonly stats = { quarantined: 0, refused: 0, failed: 0, purged: 0, kept: 0, keptBytes: 0 };

  constructor(private readonly o: DebrisDeskOptions) {
    const roots = namespaceRoots(o.layout);
    this.ctx = {
      disk: (id) => {
        const spec = o.runtime.disk(id);
        const h = o.runtime.diskHealth().find((x) => x.diskId === id);
        return spec && h ? { path: spec.path, state: h.state } : undefined;
      },
      namespaceRootOf: (p) => rootOf(p, roots),
      now: o.now ?? Date.now,
      retentionMs: o.retentionMs,
    };
  }

  bind(send: (r: QuarantineResult) => void): void {
    this.send = send;
  }

  /** Recovers interrupted moves and purges what is past the retention; then again every hour. */
  start(): SweepReport {
    const r = this.sweep();
    this.timer = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
    return r;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sweep(): SweepReport {
    const online = this.o.runtime.diskHealth().filter((h) => diskReadable(h.state)).map((h) => ({ diskId: h.diskId, path: this.o.runtime.disk(h.diskId)?.path ?? '' })).filter((d) => d.path !== '');
    const r = sweepQuarantines(online, this.ctx, { retentionMs: this.o.retentionMs, purge: true, recover: true });
    this.stats.purged += r.purged.length;
    this.stats.kept = r.kept.length;
    this.stats.keptBytes = r.kept.reduce((n, e) => n + e.manifest.size, 0);
    return r;
  }

  /**
   * Queued, carried out one at a time with a turn of the event loop between them: each is a few
   * synchronous fsyncs, and a thousand in a row would starve the heartbeats.
   */
  onQuarantine(w: WireOrder): void {
    this.queue.push(w);
    if (this.queue.length === 1) setImmediate(() => this.next());
  }

  private next(): void {
    const w = this.queue[0];
    if (w === undefined) return;
    try {
      this.carryOut(w);
    } finally {
      this.queue.shift();
      if (this.queue.length > 0) setImmediate(() => this.next());
    }
  }

  private carryOut(w: WireOrder): void {
    let r: QuarantineResult;
    try {
      const order = quarantineOrderFromWire(w);
      r = quarantineArchive(order, this.ctx);
    } catch (err) {
      r = { orderId: w.orderId, outcome: 'failed', code: 'BAD_ORDER', message: errorText(err) };
    }
    this.stats[r.outcome]++;
    if (r.outcome === 'quarantined') {
      this.stats.kept++;
      this.stats.keptBytes += Number(w.size);
    }
    const line = `quarantine ${r.orderId} (${w.lfn}): ${r.outcome}${r.code ? ` ${r.code}` : ''}: ${r.message}`;
    if (r.outcome === 'quarantined') log.info(line);
    else log.warn(line);
    this.send(r);
  }
}
