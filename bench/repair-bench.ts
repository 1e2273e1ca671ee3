// Stripe-rebuild repair, end to end, against two baselines in the same run:
//  * throughput: runRepairTask (remote sources over the Stripes service, CRC check, decode, write,
//    the holder's verification, publish) vs a raw read of exactly the same source entries through
//    the same peers (repair-bench-raw.ts). Target: t_raw / t_repair >= 0.8.
//  * I/O per lost archive vs the seed's copy procedure (read the whole file once, write all n+m
//    archives): copy = filesize + the n+m archive files; repair = bytesRead + the rebuilt
//    archive file(s), divided by the archives lost. Target: <= (n+1)/(2n+m).
// Cluster on tmpfs (repair-bench-cluster.ts): n+m+2 sites, archive i of every object on site i,
// the peers' Stripes services in a child process (the executor's process runs only the executor,
// as when the sources are other machines). The lost archives stay in place and are only left out
// of the plan; the rebuilt ones go to the two spare sites (executor: the first spare; with two
// lost, the second archive is placed remotely). One task at a time; a loss's three measurements
// (raw stream, raw block pattern, repair) run back to back in rotating order. Then the same
// repairs with the agent's default tasks in flight against raw reads with as many in flight
// (repair-bench-batch.ts): the target's figure. Every repair is
// checked (done, placed and linked, entries equal to the lost archive's in name, size and CRC).
// Run alone: node dist/bench/repair-bench.js [objectMiB] [objects] [child|in-process]
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErasureCodec } from '../shared/codec/codec.js';
import { getCodec } from '../shared/codec/index.js';
import { setLogLevel } from '../shared/logger.js';
import { readZipDirectoryFile } from '../shared/xrdec/archive-io.js';
import type { EcProfile } from '../shared/xrdec/profile.js';
import { startCluster, storeObject, type BenchCluster, type BenchServer } from './repair-bench-cluster.js';
import { DEFAULT_THROTTLES } from '../coordinator/repair/repair-settings.js';
import { measureBatch } from './repair-bench-batch.js';
import { rawRead, type RawMode } from './repair-bench-raw.js';
import { checkRepair, removePlaced, repairOnce, type Repaired, type Stored } from './repair-bench-task.js';
import { RepairSums, repairTable, type RepairBenchRow } from './repair-bench-report.js';

export { repairTable, type RepairBenchRow };

export interface RepairBenchOptions {
  profiles?: readonly (readonly [number, number])[];
  chunkBytes?: number;
  objectBytes?: number;
  objects?: number;
  rounds?: number;
  /** Where the peers' Stripes services run (default 'child': their own process). */
  peers?: RepairBenchRow['peers'];
  /** Tasks in flight for the concurrent measurement (default: the repair throttle's perAgentTasks). */
  tasks?: number;
  /** Rounds of the concurrent measurement over all objects (default 3). */
  batchRounds?: number;
  /** Loss counts to measure (default 1 and 2). */
  losses?: readonly number[];
  /** Where the cluster lives (default /dev/shm, else the temp dir); removed afterwards. */
  root?: string;
  log?: (line: string) => void;
}

const MODES = ['stream', 'block', 'repair'] as const;

export async function runRepairBench(o: RepairBenchOptions = {}): Promise<RepairBenchRow[]> {
  const log = o.log ?? (() => undefined);
  const profiles = o.profiles ?? [[8, 2], [4, 2]];
  const chunkBytes = o.chunkBytes ?? 1 << 20;
  const objectBytes = o.objectBytes ?? 32 << 20;
  const objects = o.objects ?? 8;
  const rounds = o.rounds ?? 1;
  const peers = o.peers ?? 'child';
  const losses = o.losses ?? [1, 2];
  const tasks = o.tasks ?? DEFAULT_THROTTLES.perAgentTasks;
  const batchRounds = o.batchRounds ?? 3;
  const codec = getCodec();
  const base = o.root ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const root = join(base, `ecguard-repair-bench-${process.pid}`);
  mkdirSync(root, { recursive: true });
  setLogLevel('error'); // the Stripes services' insecure-mode warnings and per-placement lines
  const maxK = Math.max(...profiles.map(([n, m]) => n + m));
  const cluster = await startCluster(join(root, 'sites'), maxK + 2, codec, { peers });
  const rows: RepairBenchRow[] = [];
  try {
    for (const [n, m] of profiles) {
      const profile: EcProfile = { nbData: n, nbParity: m, chunkSize: chunkBytes };
      const k = n + m;
      log(`repair ${n}+${m}: storing ${objects} × ${objectBytes / 2 ** 20} MiB objects on ${k} servers…`);
      const stored: Stored[] = [];
      for (let i = 0; i < objects; i++) {
        const obj = storeObject(cluster, { profile, lfn: `/data/bench/${n}p${m}/obj${i}`, filesize: objectBytes, stage: join(root, 'stage'), index: i, codec });
        const dirs = await Promise.all(obj.archives.map((a) => readZipDirectoryFile(a.path)));
        stored.push({ ...obj, entryKeys: dirs.map((d) => d.entries.map((e) => `${e.name}:${e.size}:${e.crc >>> 0}`)), tailBytes: dirs.map((d) => d.tail.length) });
      }
      for (const lost of losses.filter((l) => l <= m)) {
        const sums = new RepairSums();
        const targets = cluster.servers.slice(k, k + lost);
        // Untimed warm-up (JIT, connections, first-use allocations).
        await measure(cluster, stored[0] as Stored, lostSet(k, lost, 0), targets, codec, `w${n}p${m}l${lost}`, undefined, 0);
        for (let r = 0; r < rounds; r++) {
          for (const [i, obj] of stored.entries()) {
            const turn = r * objects + i;
            await measure(cluster, obj, lostSet(k, lost, turn), targets, codec, `b${n}p${m}l${lost}r${r}o${i}`, sums, turn);
          }
        }
        // The same objects and losses with the agent's default number of tasks in flight.
        let batchRaw = 0;
        let batchRepair = 0;
        // several rounds: one round of 8 objects varied by ±0.2 between runs on this machine
        for (let r = 0; r < batchRounds; r++) {
          const b = await measureBatch(cluster, stored, (i) => lostSet(k, lost, r * objects + i), targets, codec, tasks, `c${n}p${m}l${lost}r${r}`, r % 2 === 0);
          batchRaw += b.rawSeconds;
          batchRepair += b.repairSeconds;
        }
        rows.push(sums.row(profile, lost, objectBytes, peers, { tasks, rounds: batchRounds, rawSeconds: batchRaw, repairSeconds: batchRepair }));
        const row = rows[rows.length - 1] as RepairBenchRow;
        log(`repair ${n}+${m} lost ${lost}: raw ${row.rawMBps.toFixed(0)} MB/s, repair reads ${row.repairSourceMBps.toFixed(0)} MB/s (${row.repairVsRaw.toFixed(2)}× one task at a time, ${row.concurrent.ratio.toFixed(2)}× with ${tasks} in flight), I/O ${row.ioPerLostVsCopy.toFixed(3)} of copy`);
      }
    }
  } finally {
    await cluster.stop();
    setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info');
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

/** `lost` archive indices for the `i`-th repair: spread over all positions, distinct. */
function lostSet(k: number, lost: number, i: number): number[] {
  return Array.from({ length: lost }, (_, x) => (i + Math.floor((x * k) / lost)) % k);
}

async function measure(c: BenchCluster, obj: Stored, lost: readonly number[], targets: readonly BenchServer[], codec: ErasureCodec, taskId: string, sums: RepairSums | undefined, turn: number): Promise<void> {
  const survivors = obj.archives.filter((_, i) => !lost.includes(i));
  const raw: Partial<Record<RawMode, { bytes: number; seconds: number }>> = {};
  let rep: Repaired | undefined;
  for (let s = 0; s < MODES.length; s++) {
    const mode = MODES[(turn + s) % MODES.length] as (typeof MODES)[number];
    if (mode === 'repair') rep = await repairOnce(c, obj, survivors, targets, codec, taskId);
    else raw[mode] = await rawRead(c.pool, c.addresses, obj.profile, survivors, mode);
  }
  const { report, seconds, phases } = rep as Repaired;
  const stream = raw.stream as { bytes: number; seconds: number };
  const block = raw.block as { bytes: number; seconds: number };
  await checkRepair(c, obj, lost, targets, report);
  if (stream.bytes !== report.bytesRead || block.bytes !== report.bytesRead) {
    throw new Error(`repair bench: ${obj.lfn} lost ${lost.join(',')}: the raw reads got ${stream.bytes} / ${block.bytes} bytes, the repair read ${report.bytesRead}: not the same source bytes`);
  }
  removePlaced(c, report, obj.lfn);
  sums?.add({
    sourceBytes: report.bytesRead,
    rebuiltBytes: report.placed.reduce((a, p) => a + p.size, 0),
    raw: stream.seconds,
    rawBlock: block.seconds,
    repair: seconds,
    phases,
    lost: lost.length,
    copyIO: obj.filesize + obj.archives.reduce((a, x) => a + x.size, 0),
    tailBytes: obj.archives.reduce((a, _, i) => a + (lost.includes(i) ? 0 : (obj.tailBytes[i] ?? 0)), 0),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mib = Number(process.argv[2] ?? 32);
  const objects = Number(process.argv[3] ?? 8);
  const peers = process.argv[4] === 'in-process' ? 'in-process' : 'child';
  const rows = await runRepairBench({ objectBytes: mib * 2 ** 20, objects, peers, log: (s) => process.stderr.write(`  ${s}\n`) });
  process.stdout.write(repairTable(rows) + '\n');
}
