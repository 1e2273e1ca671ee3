// One repair task on the executing agent (DESIGN.md §7): open the sources (this server's own
// files directly, peers' through their Stripes service), check versions and geometry, rebuild
// the missing stripes block by block, stream them to one placement per target (this server or a
// peer; each holder verifies before publishing), and report progress. If anything fails before
// the commits, every placement is aborted: nothing is written.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { PlacedRef, RepairPhase } from '../../shared/domain/repair-task.js';
import { MAX_BAD_ENTRIES, type BadSourceEntry } from '../../shared/domain/bad-source-entry.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { faultPoint } from '../../shared/fault-point.js';
import type { TokenBucket } from '../../shared/throttle/token-bucket.js';
import type { ProgressReport, RepairOrder } from '../../shared/wire/repair-wire.js';
import { rebuildStripes, type StripeRebuild } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import type { BadEntry } from '../../shared/xrdec/rebuild/stripe-index.js';
import { localArchiveSource, type StripeSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { resolveArchiveRef } from '../stripes/archive-ref.js';
import type { PeerPool } from '../stripes/peer-pool.js';
import { localPlacementProgress, remotePlacementProgress } from '../stripes/placement-progress.js';
import { localPlacementSink, remotePlacementSink, type PlacementHeader, type PlacementSink } from '../stripes/placement-sink.js';
import { getLogger } from '../../shared/logger.js';
import { keptDirectories } from './kept-directories.js';
import { restoreMetadataCopies } from './metadata-restore.js';
import { metered } from './metered-source.js';
import { resumePoint } from './resume-point.js';
import { remoteArchiveSource } from '../stripes/remote-source.js';
import type { StripesContext } from '../stripes/stripes-context.js';

export interface TaskRunDeps {
  readonly ctx: StripesContext;
  readonly pool: PeerPool;
  /** Source bytes per second of this agent (shared by its tasks). */
  readonly bucket: TokenBucket;
  readonly codec: ErasureCodec;
  readonly report: (p: ProgressReport) => void;
  readonly signal: AbortSignal;
  /** Minimum time between two progress reports (default 500 ms). */
  readonly progressEveryMs?: number;
}

const log = getLogger('repair');

interface Counters {
  bytesRead: number;
  bytesWritten: number;
  blocksDone: number;
  blocksTotal: number;
}

export async function runRepairTask(order: RepairOrder, d: TaskRunDeps): Promise<ProgressReport> {
  const { plan } = order;
  const c: Counters = { bytesRead: 0, bytesWritten: 0, blocksDone: 0, blocksTotal: 0 };
  let phase: RepairPhase = 'accepted';
  let lastReport = 0;
  const problems: string[] = [];
  const bad: BadSourceEntry[] = [];
  let badOmitted = 0;
  // Source ids (a path for this server's own archives, server:disk/path for a peer's) → the plan's reference.
  const refs = new Map<string, RepairOrder['plan']['sources'][number]>();
  const noteBad = (entries: readonly BadEntry[]): void => {
    for (const b of entries) {
      problems.push(`${b.source} ${b.entry}: ${b.reason}`);
      const ref = refs.get(b.source);
      if (!ref) continue;
      if (bad.length >= MAX_BAD_ENTRIES) badOmitted++;
      else bad.push({ serverId: ref.serverId, diskId: ref.diskId, dataPath: ref.dataPath, block: b.block, stripe: b.stripe, kind: b.kind, ...(b.expectedCrc !== undefined ? { expectedCrc: b.expectedCrc } : {}), ...(b.foundCrc !== undefined ? { foundCrc: b.foundCrc } : {}) });
    }
  };
  const report = (force = false, extra: Pick<Partial<ProgressReport>, 'placed' | 'errorCode' | 'error'> = {}): ProgressReport => {
    const p: ProgressReport = { taskId: order.taskId, attempt: order.attempt, phase, ...c, placed: [], sourceProblems: problems.slice(0, 32), badEntries: [...bad], badEntriesOmitted: badOmitted, ...extra };
    const now = Date.now();
    if (force || now - lastReport >= (d.progressEveryMs ?? 500)) {
      lastReport = now;
      d.report(p);
    }
    return p;
  };
  const closers: (() => Promise<void>)[] = [];
  const sinks: PlacementSink[] = [];
  let rebuild: StripeRebuild | undefined;
  try {
    report(true);
    phase = 'fetching';
    const sources = plan.sources.map((s) => {
      let src: StripeSource;
      if (s.serverId === d.ctx.serverId) {
        const local = localArchiveSource(resolveArchiveRef(d.ctx, { diskId: s.diskId, dataPath: s.dataPath }).path);
        closers.push(() => local.close());
        src = local;
      } else {
        const remote = remoteArchiveSource(d.pool.client(s.serverId, order.addresses.get(s.serverId) ?? ''), s);
        closers.push(() => remote.close());
        src = remote;
      }
      refs.set(src.id, s);
      return metered(src, d.bucket, c, d.signal);
    });
    report(true);
    const kept = await keptDirectories(plan, { ctx: d.ctx, codec: d.codec, client: (id) => d.pool.client(id, order.addresses.get(id) ?? '') }, problems);
    rebuild = await rebuildStripes({
      profile: plan.profile, sources, targets: plan.targets.length, codec: d.codec, expected: { strpver: plan.strpver, filesize: plan.filesize },
      ...(plan.crcKind ? { crcKind: plan.crcKind } : {}), ...(kept?.kept ? { kept: kept.kept } : {}),
      onBlock: (done, total) => {
        c.blocksDone = done;
        c.blocksTotal = total;
        report();
      },
    });
    for (const i of rebuild.ignored) problems.push(`${i.id}: ${i.reason}`);
    c.blocksTotal = rebuild.blockCount;
    faultPoint('repair-fetching');
    const r = rebuild;
    const headers: PlacementHeader[] = plan.targets.map((t, i) => ({
      taskId: order.taskId, slot: t.slot, diskId: t.diskId, lfn: plan.lfn, strpverText: r.version.strpverText, filesizeText: r.version.filesizeText,
      xattrNamespace: r.version.namespace, expectedEntries: [...r.expectedEntries(i)].length,
      ...(r.crcKind ? { crcKind: r.crcKind } : {}), ...(t.replaceLinkOfDisk ? { replaceLinkOfDisk: t.replaceLinkOfDisk } : {}),
      ...(t.replaceLinkOfPath ? { replaceLinkOfPath: t.replaceLinkOfPath } : {}), ...(t.directoryDigest ? { directoryDigest: t.directoryDigest } : {}),
    }));
    // A retry resumes after the blocks every target already holds from an earlier attempt.
    const resume = await resumePoint(r, plan.targets.map((t, i) => () => {
      const h = headers[i] as PlacementHeader;
      return t.serverId === d.ctx.serverId ? Promise.resolve(localPlacementProgress(d.ctx, h)) : remotePlacementProgress(d.pool.client(t.serverId, order.addresses.get(t.serverId) ?? ''), t.serverId, h);
    }), problems);
    if (resume.fromBlock > 0) log.info(`task ${order.taskId}: resuming at block ${resume.fromBlock} of ${r.blockCount} (an earlier attempt wrote the rest)`);
    c.blocksDone = resume.fromBlock;
    plan.targets.forEach((t, i) => {
      const h = { ...(headers[i] as PlacementHeader), ...(resume.keep[i] ? { resumeEntries: resume.keep[i] } : {}) };
      sinks.push(t.serverId === d.ctx.serverId ? localPlacementSink(d.ctx, h) : remotePlacementSink(d.pool.client(t.serverId, order.addresses.get(t.serverId) ?? ''), t.serverId, h));
    });
    phase = 'decoding';
    report(true);
    let first = true;
    for await (const block of r.stream(resume.fromBlock)) {
      if (d.signal.aborted) throw new EcguardError('CANCELLED', `task cancelled: ${String(d.signal.reason)}`);
      if (first) {
        faultPoint('repair-decoding');
        phase = 'writing';
        first = false;
      }
      for (let i = 0; i < block.targets.length; i++) {
        for (const e of block.targets[i] ?? []) {
          await (sinks[i] as PlacementSink).append(e);
          c.bytesWritten += e.data.length;
        }
      }
    }
    faultPoint('repair-writing-temp');
    phase = 'verifying';
    report(true);
    // The holders verify and publish in parallel (a remote one re-reads its archive first).
    const placed: PlacedRef[] = (await Promise.all(sinks.map((s) => s.commit())))
      .map((p) => ({ slot: p.slot, serverId: p.serverId, diskId: p.diskId, dataPath: p.dataPath, size: p.size, linked: p.linked }));
    noteBad(r.badEntries);
    if (kept) await restoreMetadataCopies(order, kept.metadataFile, r.version, d, problems);
    phase = 'done';
    return report(true, { placed });
  } catch (err) {
    // Keep what the targets hold for the retry, unless the task itself was called off.
    const cancelled = d.signal.aborted || (err instanceof EcguardError && err.code === 'CANCELLED');
    for (const s of sinks) {
      if (cancelled) s.abort();
      else s.suspend();
    }
    noteBad(rebuild?.badEntries ?? []);
    phase = 'failed';
    const code = err instanceof EcguardError ? err.code : 'FAILED';
    return report(true, { errorCode: code, error: errorText(err).slice(0, 4000) });
  } finally {
    await Promise.all(closers.map((f) => f().catch(() => undefined)));
  }
}
