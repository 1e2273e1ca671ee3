// One timed agent scan in its own process, so maxRSS is the scan's alone:
//   node dist/bench/scan-bench-child.js TREE_ROOT MODE READER WORKERS
// MODE 'scan': scanSite over the bench tree (scan-tree.ts), namespace step off, records kept;
// 'discard': the same with collect: false (records reach only onBucket, as a streaming agent);
// 'read': the native walker alone (records mode, as the scan runs it) on WORKERS walker
// threads, its results not decoded: what the walk itself costs, to set beside the C walker.
// Prints {files, records, seconds, cpuSeconds, rssMB}.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScanAddon } from '../agent/scan/bucket-reader-native.js';
import { walkBuckets } from '../agent/scan/native-records.js';
import { scanSite } from '../agent/scan/site-scanner.js';

type Reader = 'native' | 'js' | 'auto';

async function readOnly(spaceDir: string, threads: number): Promise<number> {
  const { addon, problem } = loadScanAddon();
  if (!addon) throw new Error(`scan-bench-child: no native walker (${problem ?? '?'})`);
  const dirs = readdirSync(spaceDir).sort().map((b) => join(spaceDir, b));
  let files = 0;
  await walkBuckets(addon, dirs, { exports: ['/data'] }, threads, (_i, raw) => {
    files += raw?.readUInt32LE(4) ?? 0;
  });
  return files;
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
    files = await readOnly(join(diskDir, 'public'), Math.max(1, workers));
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

await main();
