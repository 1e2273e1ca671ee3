// Assembles an agent's repair side: the Stripes service peers read from and write to, the peer
// pool (one connection per peer), and the executor; and adapts them to the coordinator link.
import { hostname } from 'node:os';
import { getCodec } from '../../shared/codec/index.js';
import { UsageError } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import type { TlsFiles } from '../../shared/tls/tls-identity.js';
import { repairOrderFromWire, type ProgressReport } from '../../shared/wire/repair-wire.js';
import type { AgentRuntime } from '../agent-runtime.js';
import type { SiteLayout } from '../scan/site-scanner.js';
import type { LinkRepair } from '../session/coordinator-link.js';
import { PeerPool } from '../stripes/peer-pool.js';
import type { StripesContext } from '../stripes/stripes-context.js';
import { StripesServer } from '../stripes/stripes-server.js';
import { cleanupTempFiles, discardPartials } from './temp-cleanup.js';
import { RepairExecutor } from './repair-executor.js';
import { recoverPlacements } from './placement-recovery.js';

const log = getLogger('repair');

export interface RepairEndpointOptions {
  readonly runtime: AgentRuntime;
  readonly layout: SiteLayout;
  readonly listen: string;
  readonly advertise?: string;
  /** Host name peers dial when listening on a wildcard address (default: this host's name). */
  readonly host?: string;
  readonly tls?: TlsFiles;
  readonly insecure?: boolean;
  readonly dataFileAddress?: { readonly ipv4: [number, number, number, number]; readonly port: number };
  readonly maxTasks: number;
  readonly mbPerS: number;
  readonly peerStreams: number;
}

/** Where `lfn`'s namespace symlink lives on this server (UsageError outside the exports). */
export function linkPlace(layout: SiteLayout, lfn: string): { linkPath: string; namespaceRoot: string } {
  const exp = layout.exports.filter((e) => lfn.startsWith(e.endsWith('/') ? e : `${e}/`)).sort((a, b) => b.length - a.length)[0];
  if (exp === undefined) throw new UsageError(`${lfn} is not below any exported path (${layout.exports.join(', ') || 'none'})`);
  const root = layout.localroot ?? '';
  return { linkPath: `${root}${lfn}`, namespaceRoot: `${root}${exp.replace(/\/+$/, '')}` || '/' };
}

export class RepairEndpoint implements LinkRepair {
  readonly server: StripesServer;
  readonly pool: PeerPool;
  readonly executor: RepairExecutor;
  stripesAddress = '';
  private send: (p: ProgressReport) => void = () => undefined;

  constructor(private readonly o: RepairEndpointOptions) {
    const ctx: StripesContext = {
      serverId: o.layout.serverId,
      disk: (id) => {
        const spec = o.runtime.disk(id);
        const h = o.runtime.diskHealth().find((x) => x.diskId === id);
        return spec && h ? { diskId: id, path: spec.path, space: spec.space, state: h.state } : undefined;
      },
      linkFor: (lfn) => linkPlace(o.layout, lfn),
      corruptArchive: (diskId, dataPath) => o.runtime.isCorrupt(diskId, dataPath),
      codec: getCodec(),
      ...(o.dataFileAddress ? { xrootdServer: o.dataFileAddress } : {}),
    };
    const sec = o.insecure ? { insecure: true } : { tls: o.tls as TlsFiles };
    this.server = new StripesServer(ctx, { listen: o.listen, maxStreams: o.peerStreams, ...sec });
    this.pool = new PeerPool(sec);
    this.executor = new RepairExecutor({ ctx, pool: this.pool, codec: ctx.codec, send: (p) => this.send(p), throttles: { maxTasks: o.maxTasks, mbPerS: o.mbPerS } });
  }

  /** Removes leftover temp files of earlier runs, then serves. Call before the link starts. */
  async start(): Promise<void> {
    for (const d of this.o.layout.disks) {
      try {
        const removed = cleanupTempFiles(d.path, d.space);
        if (removed.length > 0) log.warn(`removed ${removed.length} temp file(s) of interrupted repairs on ${d.diskId}`);
      } catch (err) {
        log.warn(`cannot clean repair temp files on ${d.diskId}: ${String(err)}`);
      }
    }
    const health = this.o.runtime.diskHealth();
    recoverPlacements(this.o.layout.disks.map((d) => ({ diskId: d.diskId, path: d.path, state: health.find((h) => h.diskId === d.diskId)?.state ?? 'missing' })), (lfn) => linkPlace(this.o.layout, lfn), this.o.layout.localroot ?? '');
    const port = await this.server.start();
    const host = this.o.listen.slice(0, this.o.listen.lastIndexOf(':'));
    const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
    this.stripesAddress = this.o.advertise ?? `${wildcard ? (this.o.host ?? hostname()) : host}:${port}`;
  }

  bind(send: (p: ProgressReport) => void): void {
    this.send = send;
  }

  /** Running, waiting, and finished-but-unreported tasks: none of them is lost to a restart. */
  runningTasks(): string[] {
    return [...this.executor.runningTasks(), ...this.executor.pendingFinals().map((p) => p.taskId)];
  }

  onTask(w: Parameters<LinkRepair['onTask']>[0]): void {
    const r = repairOrderFromWire(w);
    if (r.ok) this.executor.submit(r.value);
    else {
      log.warn(`refused a repair task: ${r.reason}`);
      this.send({ taskId: w.taskId.slice(0, 64) || 'invalid', attempt: w.attempt, phase: 'failed', blocksDone: 0, blocksTotal: 0, bytesRead: 0, bytesWritten: 0, placed: [], sourceProblems: [], badEntries: [], badEntriesOmitted: 0, errorCode: 'BAD_TASK', error: r.reason });
    }
  }

  onCancel(taskId: string, reason: string, discardSlots: readonly number[] = []): void {
    this.executor.cancel(taskId, reason);
    if (discardSlots.length === 0) return;
    const removed = discardPartials(this.o.layout.disks, taskId, discardSlots);
    if (removed.length > 0) log.info(`task ${taskId} (${reason}): removed ${removed.length} partial archive(s)`);
  }

  onThrottles(t: Parameters<LinkRepair['onThrottles']>[0]): void {
    this.executor.setThrottles({ ...(t.maxTasks > 0 ? { maxTasks: t.maxTasks } : {}), ...(t.mbPerS > 0 ? { mbPerS: t.mbPerS } : {}) });
    if (t.maxSourceStreams > 0) this.server.setMaxStreams(t.maxSourceStreams);
  }

  pendingFinals(): ProgressReport[] {
    return this.executor.pendingFinals();
  }

  async stop(): Promise<void> {
    await this.executor.stop();
    await this.server.stop();
    this.pool.close();
  }
}

