// Node/V8 flags the long-running processes (agent, coordinator) run with.
//
// Why: repair and the Stripes service move 1 MiB Buffers at hundreds of MB/s. Buffers still
// queued in a read-ahead window survive two scavenges, are promoted, and their bytes count
// against V8's old-generation limit, which starts at a few tens of MB for a heap of ~10 MB of
// live objects. So V8 ran a full mark-compact every ~25 MB of promoted buffers (hundreds
// per minute), and GC took 18-25% of both processes' CPU in the repair bench. Starting the old
// generation's limit at 128 MB made the raw stripe reads and repairs 1.5-2x faster
// (`npm run bench -- heap` measures it beside V8's defaults). Memory is not reserved by this;
// a process may just hold up to that much garbage before its first full collection.
// The scan is not affected either way (8 alternating runs each: same median time and CPU).
//
// Not allowed in NODE_OPTIONS, so it is passed on the command line: by bin/ecguard.js's
// shebang (`env -S`), and by everything that spawns a daemon with process.execPath (the demo's
// local cluster, the benches). test/cli/daemon-node-flags.test.ts keeps the shebang equal to this.
export const DAEMON_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** True when this process was started with every daemon flag. */
export function hasDaemonNodeFlags(execArgv: readonly string[] = process.execArgv): boolean {
  return DAEMON_NODE_FLAGS.every((f) => execArgv.includes(f));
}
