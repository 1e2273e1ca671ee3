// `ecguard simulate`: size a coordinator before trusting it with a site (DESIGN.md §9). It runs
// a coordinator with its own new catalog and drives it with synthetic agents over gRPC, then
// prints each phase's time, rate and the checks that the coordinator showed what it had to.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ProfileMap } from '../../coordinator/profile-map.js';
import { parseDuration } from '../../shared/config/duration.js';
import { UsageError } from '../../shared/errors.js';
import { EXIT } from '../exit-codes.js';
import { parseIntFlag } from '../options.js';
import { printJson, table } from '../output.js';
import { checkSimCatalog } from '../simulate/sim-coordinator.js';
import { SIM_PHASES, Simulation, type SimPhase, type SimPhaseResult, type SimReport } from '../simulate/sim-run.js';

interface SimulateFlags {
  servers: string;
  disks: string;
  files: string;
  profile: string;
  batch: string;
  churn: string;
  churnTime: string;
  phases: string;
  downAfter: string;
  timeout: string;
  db?: string;
  keep?: boolean;
  json?: boolean;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('drive a coordinator with synthetic agents over gRPC and measure it: inventory, churn, a disk and a server lost, a coordinator restart, a digest resync')
    .option('--servers <n>', 'synthetic data servers (each its own gRPC connection)', '12')
    .option('--disks <n>', 'disks per server', '2')
    .option('--files <n>', 'files at the start (each N+M archives)', '100000')
    .option('--profile <N+M:C>', 'EC profile of every file', '8+2:1048576')
    .option('--batch <n>', 'records or deltas per message, as the agent sends them', '1000')
    .option('--churn <files/s>', 'files created, and as many deleted, per second in the churn phase and while the server phase\'s server is away (0: none)', '200')
    .option('--churn-time <duration>', 'how long the churn phase lasts', '10s')
    .option('--phases <list>', `phases after the inventory, comma-separated: ${SIM_PHASES.slice(1).join(',')} (or none)`, SIM_PHASES.slice(1).join(','))
    .option('--down-after <duration>', 'the coordinator\'s --down-after (the server phase waits for it)', '3s')
    .option('--timeout <duration>', 'longest wait for one phase\'s outcome', '10m')
    .option('--db <path|url>', 'the coordinator\'s catalog: a new SQLite file, or an empty postgres:// database (default: a new file in a temp dir)')
    .option('--keep', 'keep the temp dir (catalog, event log, coordinator log)')
    .option('--json', 'machine-readable report')
    .action(async (f: SimulateFlags) => {
      const profile = ProfileMap.parseSpec(f.profile);
      if (profile.prefix !== undefined) throw new UsageError(`--profile wants N+M:C (e.g. 8+2:1048576), got ${JSON.stringify(f.profile)}`);
      const phases = parsePhases(f.phases);
      const opts = {
        shape: { servers: parseIntFlag('--servers', f.servers, 1), disksPerServer: parseIntFlag('--disks', f.disks, 1), profile: profile.profile },
        files: parseIntFlag('--files', f.files, 1),
        batch: parseIntFlag('--batch', f.batch, 1),
        churnPerSecond: parseIntFlag('--churn', f.churn, 0),
        churnSeconds: parseDuration(f.churnTime) / 1000,
        downAfter: f.downAfter,
        timeoutMs: parseDuration(f.timeout),
      };
      if (parseDuration(f.downAfter) < 1000) throw new UsageError(`--down-after ${f.downAfter}: give 1s or more (the coordinator's liveness checks run at a quarter of it)`);
      if (opts.timeoutMs < 1000) throw new UsageError(`--timeout ${f.timeout}: give 1s or more`);
      if (opts.batch > 10_000) throw new UsageError(`--batch ${opts.batch}: at most 10000 per message (the coordinator's message size limit)`);
      if (opts.files > 100_000_000) throw new UsageError(`--files ${opts.files}: at most 100,000,000`);
      const dir = mkdtempSync(join(tmpdir(), 'ecguard-simulate-'));
      const db = f.db ?? join(dir, 'catalog.db');
      try {
        await checkSimCatalog(db);
        const say = (s: string): void => {
          if (!f.json) process.stdout.write(s + '\n');
        };
        say(`simulate: ${opts.shape.servers} servers × ${opts.shape.disksPerServer} disks, ${opts.files} files of ${f.profile} (${opts.files * (profile.profile.nbData + profile.profile.nbParity)} archives); coordinator log in ${dir}${f.keep ? '' : ' (removed at the end: --keep keeps it)'}`);
        const sim = new Simulation({ ...opts, phases, dir, db, onProgress: (t) => say(`… ${t}`), onPhase: (r) => say(phaseLine(r)) });
        const report = await sim.run();
        if (f.json) printJson(report);
        else process.stdout.write('\n' + summary(report));
        if (!report.ok) process.exitCode = EXIT.PROBLEMS;
      } finally {
        if (!f.keep) rmSync(dir, { recursive: true, force: true });
      }
    });
}

function parsePhases(text: string): Set<SimPhase> {
  if (text === 'none') return new Set();
  const out = new Set<SimPhase>();
  for (const p of text.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    if (!(SIM_PHASES as readonly string[]).includes(p) || p === 'inventory') throw new UsageError(`--phases: unknown phase ${JSON.stringify(p)}; pick from ${SIM_PHASES.slice(1).join(', ')} (the inventory always runs), or none`);
    out.add(p as SimPhase);
  }
  return out;
}

function phaseLine(r: SimPhaseResult): string {
  const bad = r.checks.filter((c) => !c.ok);
  return `${r.phase}: ${r.seconds.toFixed(2)} s${r.sent > 0 && r.perSecond > 0 ? `, ${Math.round(r.perSecond).toLocaleString('en-US')}/s` : ''} — ${r.note}${bad.length ? `\n  FAILED: ${bad.map((c) => `${c.what}: ${c.observed}, expected ${c.expected}`).join('; ')}` : ''}`;
}

function summary(r: SimReport): string {
  const rows = r.phases.map((p) => [p.phase, p.seconds.toFixed(2), p.sent, p.perSecond > 0 ? Math.round(p.perSecond) : '', p.coordinatorCpuSeconds.toFixed(2), p.checks.every((c) => c.ok) ? 'ok' : 'FAILED']);
  return table(['PHASE', 'SECONDS', 'SENT', 'PER SECOND', 'COORD CPU S', 'CHECKS'], rows) +
    `${r.files} files (${r.archives} archives) on ${r.servers} servers; coordinator peak RSS ${r.coordinatorPeakRssMB} MB; ${r.ok ? 'every check passed' : 'some checks FAILED (above)'}\n`;
}
