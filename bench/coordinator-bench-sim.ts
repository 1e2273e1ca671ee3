// The coordinator as a site runs it, in the same bench run as the store-level rows: a real
// coordinator process fed by synthetic agents over gRPC (`ecguard simulate`, DESIGN.md §9), so
// the wire, the sessions, the reclassifier and safe mode are all in the time. Its inventory rate
// is set beside the raw SQLite insert of the coordinator section.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation } from '../cli/simulate/sim-run.js';
import type { CoordinatorBenchRow } from './coordinator-bench-row.js';

export async function runSimulateBench(opts: { files?: number; baselinePerSecond: number; log?: (s: string) => void }): Promise<CoordinatorBenchRow[]> {
  const files = opts.files ?? 100_000;
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ecguard-simbench-'));
  try {
    const sim = new Simulation({
      shape: { servers: 12, disksPerServer: 2, profile: { nbData: 8, nbParity: 2, chunkSize: 1048576 } },
      files, batch: 1000, churnPerSecond: 0, churnSeconds: 0, phases: new Set(['disk', 'resync']),
      dir, db: join(dir, 'catalog.db'), downAfter: '30s', timeoutMs: 600_000, ...(opts.log ? { onProgress: opts.log } : {}),
    });
    const r = await sim.run();
    const phase = (name: string) => r.phases.find((p) => p.phase === name);
    const inv = phase('inventory');
    const disk = phase('disk');
    const resync = phase('resync');
    const failed = r.phases.flatMap((p) => p.checks.filter((c) => !c.ok).map((c) => `${p.phase}: ${c.what} ${c.observed} (expected ${c.expected})`));
    const checks = failed.length ? `; CHECKS FAILED: ${failed.join('; ')}` : '; every check passed';
    const vs = (perSecond: number): string => `${(perSecond / opts.baselinePerSecond).toFixed(2)}× the indexed baseline`;
    const rows: CoordinatorBenchRow[] = [];
    if (inv) {
      const acked = inv.detail.ackedSeconds ?? inv.seconds;
      rows.push({ name: 'synthetic agents over gRPC: 12 full inventories stored (acked)', records: inv.sent, seconds: acked, perSecond: inv.sent / acked, note: `${vs(inv.sent / acked)}; a coordinator process, ${r.servers} agents on one connection each, ${files} files × 10 archives${checks}` });
      rows.push({ name: 'synthetic agents over gRPC: ... until every file is classified healthy', records: inv.sent, seconds: inv.seconds, perSecond: inv.perSecond, note: `${vs(inv.perSecond)}; target ≥ 500,000 records/s; includes the 2 s safe-mode settle; coordinator CPU ${inv.coordinatorCpuSeconds} s, peak RSS ${r.coordinatorPeakRssMB} MB` });
    }
    if (disk) rows.push({ name: 'synthetic agents over gRPC: disk missing → every damaged file classified', records: disk.detail.files ?? 0, seconds: disk.seconds, perSecond: disk.perSecond, note: `the DiskEvent on the wire to the Admin API's counts; healthy again ${(disk.detail.healthyAgainSeconds ?? 0).toFixed(2)} s after the disk returned` });
    if (resync) rows.push({ name: 'synthetic agents over gRPC: digest resync of every server, 0.1% of files changed', records: resync.sent, seconds: resync.seconds, perSecond: resync.perSecond, note: `${(resync.detail.ratioToInventory ?? 0).toFixed(2)}× the full inventories' time; records = those sent again` });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
