// `npm run bench`: runs every benchmark, prints the side-by-side tables and writes one JSON
// file per run to bench/results/ (plus latest.json). Targets are checked here and reported,
// never asserted in unit tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCodecBench, type CodecBenchRow } from './codec-bench.js';
import { fairnessNotes, runScanBench, scanBenchTable } from './scan-bench.js';
import { runCoordinatorBench } from './coordinator-bench.js';
import { catalogTable, runCatalogBench } from './catalog-bench.js';
import { repairTable, runRepairBench } from './repair-bench.js';
import { runPgBench } from './pg-bench.js';
import { DAEMON_NODE_FLAGS, hasDaemonNodeFlags } from '../shared/daemon-node-flags.js';
import { heapTable, runHeapBench } from './heap-bench.js';
import { runScrubBench } from './scrub-bench.js';

interface Target {
  readonly name: string;
  readonly met: boolean;
  readonly detail: string;
}

if (!hasDaemonNodeFlags()) {
  // The benches measure agent and coordinator code as those daemons run it: with their Node flags.
  const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

function codecTable(rows: CodecBenchRow[]): string {
  const head = ['op', 'profile', 'lost', 'raw GB/s', 'native GB/s', 'ts GB/s', 'native/raw'];
  const lines = rows.map((r) => [r.op, r.profile, String(r.erasures), r.rawGBps.toFixed(2), r.nativeGBps.toFixed(2), r.tsGBps.toFixed(3), r.nativeVsRaw.toFixed(2)]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padStart(w[i] ?? 0)).join('  ')).join('\n');
}

const results: Record<string, unknown> = { startedAt: new Date().toISOString(), node: process.version };
const targets: Target[] = [];

if (want('codec')) {
  process.stderr.write('bench: codec (native ISA-L addon vs raw ISA-L C loop vs TypeScript)…\n');
  const rows = await runCodecBench();
  results.codec = rows;
  process.stdout.write('\n== codec, 1 MiB chunks ==\n' + codecTable(rows) + '\n');
  for (const r of rows.filter((x) => x.op === 'encode' || x.op === 'decode' || x.op.startsWith('crc'))) {
    targets.push({ name: `codec ${r.op} ${r.profile} lost ${r.erasures}: native >= 0.9x raw`, met: r.nativeVsRaw >= 0.9, detail: r.nativeVsRaw.toFixed(2) });
  }
}

if (want('scan')) {
  process.stderr.write('bench: scan (agent vs C reference walker vs getfattr -R -d, 200k files; first run builds the tree in /dev/shm)…\n');
  const rows = await runScanBench({});
  results.scan = rows;
  process.stdout.write('\n== scan ==\n' + scanBenchTable(rows) + '\nfairness:\n' + fairnessNotes(rows[1]?.threads ?? 2) + '\n');
  const agent = rows.find((r) => r.what === 'agent scan, native reader');
  if (agent) {
    targets.push({ name: 'scan: agent >= 0.9x C walker (same threads)', met: (agent.ratioToC ?? 0) >= 0.9, detail: `${(agent.ratioToC ?? 0).toFixed(2)} (${agent.what})` });
    targets.push({ name: 'scan: agent >= 4x getfattr -R -d', met: (agent.ratioToGetfattr ?? 0) >= 4, detail: (agent.ratioToGetfattr ?? 0).toFixed(2) });
    targets.push({ name: 'scan: agent RSS <= 150 MB', met: (agent.rssMB ?? Infinity) <= 150, detail: `${agent.rssMB ?? '?'} MB` });
  }
}

if (want('pg')) {
  process.stderr.write('bench: the catalog on PostgreSQL beside SQLite (a throw-away server on loopback)…\n');
  const rows = await runPgBench({ files: Number(process.env.ECGUARD_BENCH_PG_FILES ?? 20_000), log: (s) => process.stderr.write(`  ${s}\n`) });
  results.pg = rows;
  process.stdout.write('\n== catalog on PostgreSQL ==\n' + rows.map((r) => `${r.name.padEnd(70)} ${String(r.records).padStart(8)} ${r.seconds.toFixed(2).padStart(7)} s ${Math.round(r.perSecond).toString().padStart(8)}/s  ${r.note}`).join('\n') + '\n');
}

if (want('coordinator')) {
  process.stderr.write('bench: coordinator ingest + correlate, and disk-missing → damaged list…\n');
  const rows = await runCoordinatorBench({ files: Number(process.env.ECGUARD_BENCH_FILES ?? 100_000), diskFiles: Number(process.env.ECGUARD_BENCH_DISK_FILES ?? 1_000_000), log: (s) => process.stderr.write(`  ${s}\n`) });
  results.coordinator = rows;
  process.stdout.write('\n== coordinator ==\n' + rows.map((r) => `${r.name.padEnd(78)} ${String(r.records).padStart(9)} ${r.seconds.toFixed(2).padStart(7)} s ${Math.round(r.perSecond).toString().padStart(9)}/s  ${r.note}`).join('\n') + '\n');
  const corr = rows.find((r) => r.name.startsWith('ingest + correlate'));
  if (corr) targets.push({ name: 'coordinator: ingest + correlate >= 500,000 records/s', met: corr.perSecond >= 500_000, detail: `${Math.round(corr.perSecond)}/s` });
  const sim = rows.find((r) => r.name.startsWith('synthetic agents over gRPC: ... until every file'));
  if (sim) targets.push({ name: 'coordinator with synthetic agents over gRPC (ecguard simulate): ingest + correlate >= 500,000 records/s', met: sim.perSecond >= 500_000, detail: `${Math.round(sim.perSecond)}/s` });
  const list = rows.find((r) => r.name.startsWith('disk missing → complete damaged-file list'));
  if (list) targets.push({ name: 'coordinator: disk missing → complete damaged list < 2 s (1M archives on the disk)', met: list.records >= 1_000_000 && list.seconds < 2, detail: `${list.seconds.toFixed(2)} s for ${list.records} files` });
  const follow = rows.find((r) => r.name.includes('every file on the disk reclassified'));
  if (follow) targets.push({ name: 'coordinator (stricter, beyond the issue): disk missing → every file state recomputed < 2 s', met: follow.records >= 1_000_000 && follow.seconds < 2, detail: `${follow.seconds.toFixed(2)} s for ${follow.records} files` });
}

if (want('catalog')) {
  // The full-size run (1M archives ingested, a 1M-archive disk in a 10M-archive site) takes many
  // minutes on 2 cores: ECGUARD_BENCH_FULL=1 runs it; by default a tenth of it.
  const full = process.env.ECGUARD_BENCH_FULL === '1';
  process.stderr.write(`bench: catalog store (${full ? 'full size' : 'reduced size; ECGUARD_BENCH_FULL=1 for 1M'})…\n`);
  const rows = await runCatalogBench({ archives: full ? 1_000_000 : 100_000, diskArchives: full ? 1_000_000 : 100_000, reps: full ? 3 : 1, log: (s) => process.stderr.write(`  ${s}\n`) });
  results.catalog = rows;
  process.stdout.write('\n== catalog store ==\n' + catalogTable(rows) + '\n');
}

if (want('repair')) {
  // Stripe rebuild end to end vs a raw read of the same source entries through the same Stripes
  // peers, and its I/O per lost archive vs the copy procedure (read the file, write all n+m).
  process.stderr.write('bench: repair (stripe rebuild vs raw read of its source bytes; I/O vs the copy procedure; 8+2 and 4+2 on tmpfs)…\n');
  const rows = await runRepairBench({ log: (s) => process.stderr.write(`  ${s}\n`) });
  results.repair = rows;
  process.stdout.write(`\n== repair, 1 MiB chunks, ${rows[0]?.objectMiB ?? '?'} MiB objects, MB = 10^6 bytes ==\n` + repairTable(rows) + '\n');
  for (const r of rows) {
    const [n = 0, m = 0] = r.profile.split('+').map(Number);
    // End-to-end throughput as the agent runs by default (repair throttle perAgentTasks tasks
    // in flight), against the raw reads with as many in flight; one task at a time beside it.
    const c = r.concurrent;
    targets.push({ name: `repair ${r.profile} lost ${r.lost}: rebuild time vs raw read of the same source bytes >= 0.8 (${c.tasks} tasks in flight, the agent's default)`, met: c.ratio >= 0.8, detail: `${c.ratio.toFixed(2)} (raw ${c.rawMBps.toFixed(0)} MB/s, repair reads ${c.repairSourceMBps.toFixed(0)} MB/s); one task at a time: ${r.repairVsRaw.toFixed(2)} (raw ${r.rawMBps.toFixed(0)} MB/s, repair reads ${r.repairSourceMBps.toFixed(0)} MB/s, rebuilds ${r.rebuiltMBps.toFixed(0)} MB/s)` });
    targets.push({ name: `repair ${r.profile} lost ${r.lost}: I/O per lost archive <= (n+1)/(2n+m) of the copy procedure`, met: r.ioPerLostVsCopy <= r.ioTarget, detail: `${r.ioPerLostVsCopy.toFixed(4)}, target ${n + 1}/${2 * n + m} = ${r.ioTarget.toFixed(4)}` });
  }
}

if (want('scrub')) {
  // The scrub's read-and-check against a plain read of the same archive files.
  process.stderr.write('bench: scrub (every entry CRC-checked vs a plain read of the same files, tmpfs)…\n');
  const rows = await runScrubBench({ log: (s) => process.stderr.write(`  ${s}\n`) });
  results.scrub = rows;
  process.stdout.write('\n== scrub ==\n' + rows.map((r) => `${r.what.padEnd(76)} ${String(r.archives).padStart(5)} archives ${(r.bytes / 1e6).toFixed(0).padStart(6)} MB ${r.seconds.toFixed(3).padStart(7)} s ${r.mbps.toFixed(0).padStart(6)} MB/s${r.vsRawRead !== undefined ? `  ${r.vsRawRead.toFixed(2)}× the plain read` : ''}`).join('\n') + '\n');
}

if (want('heap')) {
  // The daemons' V8 heap setting against V8's defaults (each side its own process).
  process.stderr.write(`bench: heap (${DAEMON_NODE_FLAGS.join(' ')} vs V8 defaults: raw stripe reads and repairs, 2 tasks in flight)…\n`);
  const rows = runHeapBench({ log: (s) => process.stderr.write(`  ${s}\n`) });
  results.heap = rows;
  process.stdout.write('\n== heap: the daemons\' Node flags vs V8 defaults ==\n' + heapTable(rows) + '\n');
}

results.targets = targets;
results.finishedAt = new Date().toISOString();
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${(results.startedAt as string).replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
process.stdout.write('\n== targets ==\n' + targets.map((t) => `${t.met ? 'met   ' : 'MISSED'} ${t.name} (${t.detail})`).join('\n') + '\n');
process.stdout.write(`\nwrote ${file}\n`);
