// Stripe-rebuild repair, end to end, against two baselines in the same run:
//  * throughput: runRepairTask (remote sources over the Stripes service, CRC check, decode, write,
//    the holder's verification, publish) vs a raw read of exactly the same source entries through
//    the same peers (repair-bench-raw.ts). Target: t_raw / t_repair >= 0.8.
//  * I/O per lost archive vs the seed's copy procedure (read the whole file once, write all n+m
//    archives): copy = filesize + the n+m archive files; repair = bytesRead + the rebuilt
//    archive file(s), divided by the archives lost. Target: <= (n+1)/(2n+m).
// In-process cluster on tmpfs (repair-bench-cluster.ts): n+m+2 servers, archive i of every
// object on server i; the lost archives are left in place and only left out of the plan, the
// rebuilt ones go to the two spare servers (executor: the first spare). One task at a time; the
// three measurements of a loss run back to back in rotating order.
// Run alone: node dist/bench/repair-bench.js [objectMiB] [objects]
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

export interface RepairBenchRow {
  /** 'n+m', 1 MiB chunks unless chunkBytes says otherwise. */
  profile: string;
  chunkBytes: number;
  /** Archives lost per object (all rebuilt by one task). */
  lost: number;
  /** Timed repairs (objects × rounds); each also timed as the two raw reads. */
  repairs: number;
  objectMiB: number;
  /** Σ over the timed repairs: source entry bytes (= ProgressReport.bytesRead = raw read bytes). */
  sourceBytes: number;
  /** Σ sizes of the rebuilt archive files (PlacedRef.size). */
  rebuiltBytes: number;
  rawSeconds: number;
  rawBlockSeconds: number;
  repairSeconds: number;
  /** Raw read of the source entries, one stream per survivor (MB = 10^6 bytes). */
  rawMBps: number;
  /** The same entries read like the repair reads them: block by block, one call per entry. */
  rawBlockMBps: number;
  /** Source bytes / repair time. */
  repairSourceMBps: number;
  /** Rebuilt archive bytes / repair time. */
  rebuiltMBps: number;
  /** t_raw / t_repair for the same source bytes (target >= 0.8). */
  repairVsRaw: number;
  repairVsRawBlock: number;
  /** Per round: t_raw / t_repair, to show the spread. */
  roundRatios: number[];
  /** Σ (bytesRead + rebuilt archive bytes) / lost, over Σ (filesize + all n+m archive files). */
  ioPerLostVsCopy: number;
  /** The worst single repair's ratio. */
  ioPerLostVsCopyMax: number;
  /** Also counting the survivors' directory tails (ReadDirectory) and the holder's verification re-read of the new archives. */
  ioPerLostVsCopyAll: number;
  /** (n+1)/(2n+m). */
  ioTarget: number;
}

export interface RepairBenchOptions {
  profiles?: readonly (readonly [number, number])[];
  chunkBytes?: number;
  objectBytes?: number;
  objects?: number;
  rounds?: number;
  /** Loss counts to measure (default 1 and 2). */
  losses?: readonly number[];
  /** Where the cluster lives (default /dev/shm, else the temp dir); removed afterwards. */
  root?: string;
  log?: (line: string) => void;
}

interface Sums {
  repairs: number;
  source: number;
  rebuilt: number;
  raw: number;
  rawBlock: number;
  repair: number;
  copyIO: number;
  repairIO: number;
  repairIOAll: number;
  worstIO: number;
  rounds: { raw: number; repair: number }[];
}

interface Stored extends BenchObject {
  /** Per archive: its entries as name:size:crc, and its directory tail's size. */
  readonly entryKeys: readonly string[][];
  readonly tailBytes: readonly number[];
}

const MODES = ['stream', 'block', 'repair'] as const;

export async function runRepairBench(o: RepairBenchOptions = {}): Promise<RepairBenchRow[]> {
  const log = o.log ?? (() => undefined);
  const profiles = o.profiles ?? [[8, 2], [4, 2]];
  const chunkBytes = o.chunkBytes ?? 1 << 20;
  const objectBytes = o.objectBytes ?? 32 << 20;
  const objects = o.objects ?? 8;
  const rounds = o.rounds ?? 2;
  const losses = o.losses ?? [1, 2];
  const codec = getCodec();
  const base = o.root ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const root = join(base, `ecguard-repair-bench-${process.pid}`);
  mkdirSync(root, { recursive: true });
  setLogLevel('error'); // the Stripes services' insecure-mode warnings and per-placement lines
  const maxK = Math.max(...profiles.map(([n, m]) => n + m));
  const cluster = await startCluster(join(root, 'sites'), maxK + 2, codec);
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
        const sums: Sums = { repairs: 0, source: 0, rebuilt: 0, raw: 0, rawBlock: 0, repair: 0, copyIO: 0, repairIO: 0, repairIOAll: 0, worstIO: 0, rounds: [] };
        const targets = cluster.servers.slice(k, k + lost);
        // Untimed warm-up (JIT, connections, first-use allocations).
        await measure(cluster, stored[0] as Stored, lostSet(k, lost, 0), targets, codec, `w${n}p${m}l${lost}`, undefined, 0);
        for (let r = 0; r < rounds; r++) {
          const round = { raw: 0, repair: 0 };
          for (const [i, obj] of stored.entries()) {
            await measure(cluster, obj, lostSet(k, lost, i + r * objects), targets, codec, `b${n}p${m}l${lost}r${r}o${i}`, sums, r * objects + i, round);
          }
          sums.rounds.push(round);
        }
        rows.push(rowOf(profile, lost, objectBytes, sums));
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

async function measure(c: BenchCluster, obj: Stored, lost: readonly number[], targets: readonly BenchServer[], codec: ErasureCodec, taskId: string, sums: Sums | undefined, turn: number, round?: { raw: number; repair: number }): Promise<void> {
  const survivors = obj.archives.filter((_, i) => !lost.includes(i));
  const raw: Partial<Record<RawMode, { bytes: number; seconds: number }>> = {};
  let rep: { report: ProgressReport; seconds: number } | undefined;
  for (let s = 0; s < MODES.length; s++) {
    const mode = MODES[(turn + s) % MODES.length] as (typeof MODES)[number];
    if (mode === 'repair') rep = await repairOnce(c, obj, survivors, targets, codec, taskId);
    else raw[mode] = await rawRead(c.pool, c.addresses, obj.profile, survivors, mode);
  }
  const { report, seconds } = rep as { report: ProgressReport; seconds: number };
  const stream = raw.stream as { bytes: number; seconds: number };
  const block = raw.block as { bytes: number; seconds: number };
  await checkRepair(c, obj, lost, targets, report);
  if (stream.bytes !== report.bytesRead || block.bytes !== report.bytesRead) {
    throw new Error(`repair bench: ${obj.lfn} lost ${lost.join(',')}: the raw reads got ${stream.bytes} / ${block.bytes} bytes, the repair read ${report.bytesRead}: not the same source bytes`);
  }
  removePlaced(c, report, obj.lfn);
  if (!sums) return;
  const placed = report.placed.reduce((a, p) => a + p.size, 0);
  const copyIO = obj.filesize + obj.archives.reduce((a, x) => a + x.size, 0);
  const repairIO = report.bytesRead + placed;
  const tails = obj.archives.reduce((a, _, i) => a + (lost.includes(i) ? 0 : (obj.tailBytes[i] ?? 0)), 0);
  sums.repairs++;
  sums.source += report.bytesRead;
  sums.rebuilt += placed;
  sums.raw += stream.seconds;
  sums.rawBlock += block.seconds;
  sums.repair += seconds;
  sums.copyIO += copyIO;
  sums.repairIO += repairIO / lost.length;
  sums.repairIOAll += (repairIO + tails + placed) / lost.length;
  sums.worstIO = Math.max(sums.worstIO, repairIO / lost.length / copyIO);
  if (round) {
    round.raw += stream.seconds;
    round.repair += seconds;
  }
}

async function repairOnce(c: BenchCluster, obj: BenchObject, survivors: BenchObject['archives'], targets: readonly BenchServer[], codec: ErasureCodec, taskId: string): Promise<{ report: ProgressReport; seconds: number }> {
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
  const t0 = performance.now();
  const report = await runRepairTask(order, {
    ctx: executor.ctx, pool: c.pool, bucket: new TokenBucket(1e15), codec, report: () => undefined, signal: new AbortController().signal,
  });
  return { report, seconds: (performance.now() - t0) / 1000 };
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

function rowOf(p: EcProfile, lost: number, objectBytes: number, s: Sums): RepairBenchRow {
  const mbps = (bytes: number, sec: number): number => round2(bytes / sec / 1e6);
  return {
    profile: `${p.nbData}+${p.nbParity}`,
    chunkBytes: p.chunkSize,
    lost,
    repairs: s.repairs,
    objectMiB: objectBytes / 2 ** 20,
    sourceBytes: s.source,
    rebuiltBytes: s.rebuilt,
    rawSeconds: round3(s.raw),
    rawBlockSeconds: round3(s.rawBlock),
    repairSeconds: round3(s.repair),
    rawMBps: mbps(s.source, s.raw),
    rawBlockMBps: mbps(s.source, s.rawBlock),
    repairSourceMBps: mbps(s.source, s.repair),
    rebuiltMBps: mbps(s.rebuilt, s.repair),
    repairVsRaw: round3(s.raw / s.repair),
    repairVsRawBlock: round3(s.rawBlock / s.repair),
    roundRatios: s.rounds.map((r) => round3(r.raw / r.repair)),
    ioPerLostVsCopy: round4(s.repairIO / s.copyIO),
    ioPerLostVsCopyMax: round4(s.worstIO),
    ioPerLostVsCopyAll: round4(s.repairIOAll / s.copyIO),
    ioTarget: round4((p.nbData + 1) / (2 * p.nbData + p.nbParity)),
  };
}

export function repairTable(rows: readonly RepairBenchRow[]): string {
  const head = ['profile', 'lost', 'repairs', 'MiB/obj', 'raw MB/s', 'raw/blk MB/s', 'repair src MB/s', 'rebuilt MB/s', 't_raw/t_rep', 'I/O per lost / copy', 'target', '+dirs+verify'];
  const lines = rows.map((r) => [r.profile, String(r.lost), String(r.repairs), String(r.objectMiB), r.rawMBps.toFixed(0), r.rawBlockMBps.toFixed(0), r.repairSourceMBps.toFixed(0), r.rebuiltMBps.toFixed(0), r.repairVsRaw.toFixed(2), r.ioPerLostVsCopy.toFixed(3), `<= ${r.ioTarget.toFixed(3)}`, r.ioPerLostVsCopyAll.toFixed(3)]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padStart(w[i] ?? 0)).join('  ')).join('\n');
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const round4 = (x: number): number => Math.round(x * 10000) / 10000;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mib = Number(process.argv[2] ?? 32);
  const objects = Number(process.argv[3] ?? 8);
  const rows = await runRepairBench({ objectBytes: mib * 2 ** 20, objects, log: (s) => process.stderr.write(`  ${s}\n`) });
  process.stdout.write(repairTable(rows) + '\n');
}
