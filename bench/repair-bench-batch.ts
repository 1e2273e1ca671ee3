// The repair bench at the agent's default task concurrency (repair throttle perAgentTasks = 2):
// every object of a loss case repaired by one executor with `tasks` tasks in flight, timed as a
// whole, against the raw stream read of the same source entries with as many reads in flight.
// This is the agent's end-to-end throughput as it runs by default: one task's directory fetch
// and its holders' verification overlap the other task's streaming, as they do in production.
// The one-task-at-a-time figures (repair-bench.ts) stay beside it.
import { performance } from 'node:perf_hooks';
import type { ErasureCodec } from '../shared/codec/codec.js';
import type { BenchCluster, BenchServer } from './repair-bench-cluster.js';
import { rawRead } from './repair-bench-raw.js';
import { checkRepair, removePlaced, repairOnce, type Repaired, type Stored } from './repair-bench-task.js';

export interface BatchTimes {
  readonly tasks: number;
  readonly rawSeconds: number;
  readonly repairSeconds: number;
  readonly sourceBytes: number;
}

/** Runs `work` for 0..count-1 with at most `limit` in flight; resolves when all are done. */
async function inFlight(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await work(i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

export async function measureBatch(c: BenchCluster, objs: readonly Stored[], lostOf: (i: number) => number[], targets: readonly BenchServer[], codec: ErasureCodec, tasks: number, tag: string, rawFirst: boolean): Promise<BatchTimes> {
  const survivors = (i: number): Stored['archives'] => (objs[i] as Stored).archives.filter((_, a) => !lostOf(i).includes(a));
  let rawBytes = 0;
  const raw = async (): Promise<number> => {
    const t0 = performance.now();
    await inFlight(objs.length, tasks, async (i) => {
      const got = await rawRead(c.pool, c.addresses, (objs[i] as Stored).profile, survivors(i), 'stream');
      rawBytes += got.bytes; // after the await: `x += await f()` would read x before the wait
    });
    return (performance.now() - t0) / 1000;
  };
  const done: Repaired[] = [];
  const repair = async (): Promise<number> => {
    const t0 = performance.now();
    await inFlight(objs.length, tasks, async (i) => {
      done[i] = await repairOnce(c, objs[i] as Stored, survivors(i), targets, codec, `${tag}o${i}`);
    });
    return (performance.now() - t0) / 1000;
  };
  let rawSeconds: number;
  let repairSeconds: number;
  if (rawFirst) {
    rawSeconds = await raw();
    repairSeconds = await repair();
  } else {
    repairSeconds = await repair();
    rawSeconds = await raw();
  }
  let sourceBytes = 0;
  for (const [i, obj] of objs.entries()) {
    const { report } = done[i] as Repaired;
    await checkRepair(c, obj, lostOf(i), targets, report);
    sourceBytes += report.bytesRead;
    removePlaced(c, report, obj.lfn);
  }
  if (rawBytes !== sourceBytes) throw new Error(`repair bench (${tasks} tasks in flight): the raw reads got ${rawBytes} bytes, the repairs read ${sourceBytes}: not the same source bytes`);
  return { tasks, rawSeconds, repairSeconds, sourceBytes };
}
