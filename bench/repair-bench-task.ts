// One timed repair task of the repair bench, and the checks that it worked: the executor's
// runRepairTask against the bench cluster, its phases from the task's own forced progress
// reports, the rebuilt entries compared with the lost ones, and the placed archives removed again.
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { runRepairTask } from '../agent/repair/task-run.js';
import type { ErasureCodec } from '../shared/codec/codec.js';
import { TokenBucket } from '../shared/throttle/token-bucket.js';
import type { ProgressReport, RepairOrder } from '../shared/wire/repair-wire.js';
import { readZipDirectoryFile } from '../shared/xrdec/archive-io.js';
import type { BenchCluster, BenchObject, BenchServer } from './repair-bench-cluster.js';
import type { RepairPhases } from './repair-bench-report.js';

export interface Stored extends BenchObject {
  /** Per archive: its entries as name:size:crc, and its directory tail's size. */
  readonly entryKeys: readonly string[][];
  readonly tailBytes: readonly number[];
}

export interface Repaired {
  readonly report: ProgressReport;
  readonly seconds: number;
  /** open: sources' directories and xattrs, the placements opened; stream: every block read, rebuilt and written; finish: seal, the holder's verification, publish, link. */
  readonly phases: RepairPhases;
}

export async function repairOnce(c: BenchCluster, obj: BenchObject, survivors: BenchObject['archives'], targets: readonly BenchServer[], codec: ErasureCodec, taskId: string): Promise<Repaired> {
  const executor = targets[0] as BenchServer;
  const order: RepairOrder = {
    taskId,
    attempt: 1,
    addresses: c.addresses,
    plan: {
      lfn: obj.lfn, profile: obj.profile, strpver: obj.strpver, filesize: obj.filesize, crcKind: 'crc32c', xattrNamespace: 'user.U.',
      sources: survivors.map((a) => ({ serverId: a.serverId, diskId: a.diskId, dataPath: a.dataPath })),
      targets: targets.map((t, slot) => ({ slot, serverId: t.serverId, diskId: 'sda' })),
      bytesRead: obj.filesize, bytesWritten: Math.ceil((obj.filesize / obj.profile.nbData) * targets.length),
    },
  };
  // Phase changes are reported at once (forced reports): when sources and placements are open
  // ('decoding'), when every block is written ('verifying'), and at the end.
  const at = new Map<string, number>();
  const t0 = performance.now();
  const report = await runRepairTask(order, {
    ctx: executor.ctx, pool: c.pool, bucket: new TokenBucket(1e15), codec, signal: new AbortController().signal, progressEveryMs: 1e9,
    report: (p) => void (at.has(p.phase) || at.set(p.phase, performance.now())),
  });
  const t1 = performance.now();
  const decoding = at.get('decoding') ?? t1;
  const verifying = at.get('verifying') ?? t1;
  return { report, seconds: (t1 - t0) / 1000, phases: { open: (decoding - t0) / 1000, stream: (verifying - decoding) / 1000, finish: (t1 - verifying) / 1000 } };
}

/** The repair must be one that worked: done, and the rebuilt entries exactly the lost ones (names, sizes, CRCs). */
export async function checkRepair(c: BenchCluster, obj: Stored, lost: readonly number[], targets: readonly BenchServer[], report: ProgressReport): Promise<void> {
  const fail = (why: string): never => {
    throw new Error(`repair bench: ${obj.lfn} lost ${lost.join(',')}: ${why}`);
  };
  if (report.phase !== 'done') fail(`the repair ended ${report.phase}: ${report.errorCode ?? ''} ${report.error ?? ''}`);
  if (report.placed.length !== targets.length || report.placed.some((p) => !p.linked)) fail(`placed ${JSON.stringify(report.placed)}`);
  const lostSize = lost.reduce((a, i) => a + (obj.archives[i]?.size ?? 0), 0);
  const placedSize = report.placed.reduce((a, p) => a + p.size, 0);
  if (placedSize !== lostSize) fail(`rebuilt ${placedSize} bytes of archives, the lost ones were ${lostSize}`);
  const want = lost.flatMap((i) => obj.entryKeys[i] ?? []).sort();
  const got = (await Promise.all(report.placed.map((p) => rebuiltKeys(c, p)))).flat().sort();
  if (want.join('\n') !== got.join('\n')) fail(`the rebuilt entries (${got.length}) differ from the lost ones (${want.length}) in name, size or CRC`);
}

async function rebuiltKeys(c: BenchCluster, p: ProgressReport['placed'][number]): Promise<string[]> {
  return (await readZipDirectoryFile(placedPath(c, p))).entries.map((e) => `${e.name}:${e.size}:${e.crc >>> 0}`);
}

function placedPath(c: BenchCluster, p: ProgressReport['placed'][number]): string {
  const s = c.servers.find((x) => x.serverId === p.serverId);
  const disk = s?.ctx.disk(p.diskId);
  if (!disk) throw new Error(`repair bench: placed on unknown ${p.serverId}:${p.diskId}`);
  return `${disk.path}/${p.dataPath}`;
}

export function removePlaced(c: BenchCluster, report: ProgressReport, lfn: string): void {
  for (const p of report.placed) {
    const s = c.servers.find((x) => x.serverId === p.serverId) as BenchServer;
    rmSync(placedPath(c, p), { force: true });
    rmSync(s.ctx.linkFor(lfn).linkPath, { force: true });
  }
}
