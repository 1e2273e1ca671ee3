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
// (raw stream, raw block pattern, repair) run back to back in rotating order. Every repair is
// checked (done, placed and linked, entries equal to the lost archive's in name, size and CRC).
// Run alone: node dist/bench/repair-bench.js [objectMiB] [objects] [child|in-process]
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runRepairTask } from '../agent/repair/task-run.js';
import type { ErasureCodec } from '../shared/codec/codec.js';
import { getCodec } from '../shared/codec/index.js';
import { setLogLevel } from '../shared/logger.js';
import { TokenBucket } from '../shared/throttle/token-bucket.js';
import type { ProgressReport, RepairOrder } from '../shared/wire/repair-wire.js';
import { readZipDirectoryFile } from '../shared/xrdec/archive-io.js';
import type { EcProfile } from '../shared/xrdec/profile.js';
import { startCluster, storeObject, type BenchCluster, type BenchObject, type BenchServer } from './repair-bench-cluster.js';
import { rawRead, type RawMode } from './repair-bench-raw.js';
import { RepairSums, repairTable, type RepairBenchRow, type RepairPhases } from './repair-bench-report.js';

export { repairTable, type RepairBenchRow };

export interface RepairBenchOptions {
  profiles?: readonly (readonly [number, number])[];
  chunkBytes?: number;
  objectBytes?: number;
  objects?: number;
  rounds?: number;
  /** Where the peers' Stripes services run (default 'child': their own process). */
  peers?: RepairBenchRow['peers'];
  /** Loss counts to measure (default 1 and 2). */
  losses?: readonly number[];
  /** Where the cluster lives (default /dev/shm, else the temp dir); removed afterwards. */
  root?: string;
  log?: (line: string) => void;
}

interface Stored extends BenchObject {
  /** Per archive: its entries as name:size:crc, and its directory tail's size. */
  readonly entryKeys: readonly string[][];
  readonly tailBytes: readonly number[];
}

const MODES = ['stream', 'block', 'repair'] as const;

interface Repaired {
  readonly report: ProgressReport;
  readonly seconds: number;
  /** open: sources' directories and xattrs, the placements opened; stream: every block read, rebuilt and written; finish: seal, the holder's verification, publish, link. */
  readonly phases: RepairPhases;
}

export async function runRepairBench(o: RepairBenchOptions = {}): Promise<RepairBenchRow[]> {
  const log = o.log ?? (() => undefined);
  const profiles = o.profiles ?? [[8, 2], [4, 2]];
  const chunkBytes = o.chunkBytes ?? 1 << 20;
  const objectBytes = o.objectBytes ?? 32 << 20;
  const objects = o.objects ?? 8;
  const rounds = o.rounds ?? 1;
  const peers = o.peers ?? 'child';
  const losses = o.losses ?? [1, 2];
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
        rows.push(sums.row(profile, lost, objectBytes, peers));
        const row = rows[rows.length - 1] as RepairBenchRow;
        log(`repair ${n}+${m} lost ${lost}: raw ${row.rawMBps.toFixed(0)} MB/s, repair reads ${row.repairSourceMBps.toFixed(0)} MB/s (${row.repairVsRaw.toFixed(2)}×), I/O ${row.ioPerLostVsCopy.toFixed(3)} of copy`);
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

async function repairOnce(c: BenchCluster, obj: BenchObject, survivors: BenchObject['archives'], targets: readonly BenchServer[], codec: ErasureCodec, taskId: string): Promise<Repaired> {
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
async function checkRepair(c: BenchCluster, obj: Stored, lost: readonly number[], targets: readonly BenchServer[], report: ProgressReport): Promise<void> {
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

function removePlaced(c: BenchCluster, report: ProgressReport, lfn: string): void {
  for (const p of report.placed) {
    const s = c.servers.find((x) => x.serverId === p.serverId) as BenchServer;
    rmSync(placedPath(c, p), { force: true });
    rmSync(s.ctx.linkFor(lfn).linkPath, { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mib = Number(process.argv[2] ?? 32);
  const objects = Number(process.argv[3] ?? 8);
  const peers = process.argv[4] === 'in-process' ? 'in-process' : 'child';
  const rows = await runRepairBench({ objectBytes: mib * 2 ** 20, objects, peers, log: (s) => process.stderr.write(`  ${s}\n`) });
  process.stdout.write(repairTable(rows) + '\n');
}
