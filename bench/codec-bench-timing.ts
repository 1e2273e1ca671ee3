// Timing loop shared by the codec benches, the same scheme as bench/c/isal-raw.c: a warm-up
// that also sizes one repetition to ~repMs, then `reps` timed repetitions; median GB/s.

export interface TimingOptions {
  reps: number;
  repMs: number;
  warmMs: number;
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Median GB/s (1 GB = 1e9 bytes) of `fn`, which processes `bytes` per call. */
export function medianGBps(fn: () => void, bytes: number, opts: TimingOptions): number {
  let warm = 0;
  const t0 = nowMs();
  let elapsed: number;
  do {
    fn();
    warm++;
    elapsed = nowMs() - t0;
  } while (elapsed < opts.warmMs);
  const iters = Math.max(1, Math.floor((warm * opts.repMs) / elapsed));
  const rates: number[] = [];
  for (let r = 0; r < opts.reps; r++) {
    const start = nowMs();
    for (let i = 0; i < iters; i++) fn();
    rates.push((bytes * iters) / ((nowMs() - start) / 1000) / 1e9);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}
