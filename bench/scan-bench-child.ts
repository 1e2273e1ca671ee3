// One timed agent scan in its own process, so maxRSS is the scan's alone:
//   node dist/bench/scan-bench-child.js TREE_ROOT MODE READER WORKERS
// MODE 'scan': scanSite over the bench tree (scan-tree.ts), namespace step off, records kept;
// 'discard': the same with collect: false (records reach only onBucket, as a streaming agent);
// 'read': the bucket reader alone in WORKERS worker threads pulling buckets from a shared
// counter, no records (what the native walker costs, to set beside the C walker).
// Prints {files, records, seconds, cpuSeconds, rssMB}.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pickBucketReader } from '../agent/scan/bucket-reader.js';
import { scanSite } from '../agent/scan/site-scanner.js';

type Reader = 'native' | 'js' | 'auto';

interface ReadJob {
  readonly buckets: string[];
  readonly reader: Reader;
  readonly next: Int32Array;
}

function readerWorker(job: ReadJob): void {
  const read = pickBucketReader(job.reader);
  let files = 0;
  for (let i = Atomics.add(job.next, 0, 1); i < job.buckets.length; i = Atomics.add(job.next, 0, 1)) {
    files += read(job.buckets[i] as string).files.length;
  }
  parentPort?.postMessage(files);
}

async function readOnly(spaceDir: string, reader: Reader, workers: number): Promise<number> {
  const buckets = readdirSync(spaceDir).sort().map((b) => join(spaceDir, b));
  const next = new Int32Array(new SharedArrayBuffer(4));
  const counts = await Promise.all(Array.from({ length: workers }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { buckets, reader, next } satisfies ReadJob });
    w.once('message', (n: number) => void w.terminate().then(() => resolve(n)));
    w.once('error', reject);
  })));
  return counts.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  const [root, mode, reader, workersArg] = process.argv.slice(2);
  const workers = Number(workersArg);
  if (root === undefined || !['scan', 'discard', 'read'].includes(mode ?? '') || !['native', 'js', 'auto'].includes(reader ?? '') || !(workers >= 0)) {
    process.stderr.write('usage: scan-bench-child TREE_ROOT scan|discard|read native|js|auto WORKERS\n');
    process.exit(2);
  }
  const diskDir = join(root, 'disk', 'sda');
  let files = 0;
  let records = 0;
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  if (mode === 'read') {
    files = await readOnly(join(diskDir, 'public'), reader as Reader, Math.max(1, workers));
  } else {
    const r = await scanSite(
      { serverId: 'bench', disks: [{ diskId: 'bench:sda', space: 'public', path: diskDir }], exports: ['/data'] },
      {
        workers,
        reader: reader as Reader,
        namespace: false,
        collect: mode === 'scan',
        onBucket: (b) => {
          files += b.entries;
          records += b.records.length;
        },
      },
    );
    if (r.findings.length > 0) process.stderr.write(`scan-bench-child: ${r.findings.length} findings, first: ${JSON.stringify(r.findings[0])}\n`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // All threads of the process (workers included), from the start of the scan.
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssMB = (process.resourceUsage().maxRSS * 1024) / 1e6;
  process.stdout.write(JSON.stringify({ files, records, seconds, cpuSeconds, rssMB }) + '\n');
}

if (isMainThread) await main();
else readerWorker(workerData as ReadJob);
