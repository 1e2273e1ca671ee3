// One side of the heap bench (heap-bench.ts), run as its own process so that its Node flags
// are the only difference: the repair bench's cluster (peers in a child, which inherits these
// flags), objects stored once, then `rounds` batches of raw stream reads and stripe repairs of
// the same objects with the agent's default tasks in flight. Prints one JSON line.
// usage: node [flags] heap-bench-child.js ROOT N M LOST OBJECTS ROUNDS
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_THROTTLES } from '../coordinator/repair/repair-settings.js';
import { getCodec } from '../shared/codec/index.js';
import { setLogLevel } from '../shared/logger.js';
import { readZipDirectoryFile } from '../shared/xrdec/archive-io.js';
import { measureBatch } from './repair-bench-batch.js';
import { startCluster, storeObject } from './repair-bench-cluster.js';
import type { Stored } from './repair-bench-task.js';

export interface HeapSideResult {
  readonly execArgv: readonly string[];
  readonly sourceBytes: number;
  readonly rawSeconds: number;
  readonly repairSeconds: number;
  readonly cpuSeconds: number;
}

const [root = '', n = 4, m = 2, lost = 2, objects = 8, rounds = 3] = [process.argv[2], ...process.argv.slice(3).map(Number)] as [string, ...number[]];
if (!root) throw new Error('usage: heap-bench-child.js ROOT N M LOST OBJECTS ROUNDS');
setLogLevel('error');
const codec = getCodec();
mkdirSync(root, { recursive: true });
const cluster = await startCluster(join(root, 'sites'), n + m + lost, codec);
try {
  const profile = { nbData: n, nbParity: m, chunkSize: 1 << 20 };
  const stored: Stored[] = [];
  for (let i = 0; i < objects; i++) {
    const obj = storeObject(cluster, { profile, lfn: `/data/bench/heap${i}`, filesize: 32 << 20, stage: join(root, 'stage'), index: i, codec });
    const dirs = await Promise.all(obj.archives.map((a) => readZipDirectoryFile(a.path)));
    stored.push({ ...obj, entryKeys: dirs.map((d) => d.entries.map((e) => `${e.name}:${e.size}:${e.crc >>> 0}`)), tailBytes: dirs.map((d) => d.tail.length) });
  }
  const k = n + m;
  const lostOf = (i: number): number[] => Array.from({ length: lost }, (_, x) => (i + Math.floor((x * k) / lost)) % k);
  const targets = cluster.servers.slice(k, k + lost);
  const tasks = DEFAULT_THROTTLES.perAgentTasks;
  await measureBatch(cluster, stored, lostOf, targets, codec, tasks, 'heapwarm', true); // JIT, connections
  const cpu0 = process.cpuUsage();
  let sourceBytes = 0;
  let rawSeconds = 0;
  let repairSeconds = 0;
  for (let r = 0; r < rounds; r++) {
    const b = await measureBatch(cluster, stored, lostOf, targets, codec, tasks, `heap${r}`, r % 2 === 0);
    sourceBytes += b.sourceBytes;
    rawSeconds += b.rawSeconds;
    repairSeconds += b.repairSeconds;
  }
  const cpu = process.cpuUsage(cpu0);
  const out: HeapSideResult = { execArgv: process.execArgv, sourceBytes, rawSeconds, repairSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}
