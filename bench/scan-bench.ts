// Scan throughput, side by side on one generated tree (scan-tree.ts, default 200k files in 256
// buckets on tmpfs): the C reference walker (bench/c/scan-walker.c, same syscalls) with 1 and N
// threads, the agent's scanSite (each run in a child process, so its maxRSS is the scan's alone)
// with the native walker (N walker threads of its own, records built as in production) and
// with the JS reader (N worker threads), the native walker alone, and `getfattr -R -d`.
// Warm cache: one untimed round first; then rounds interleaved, medians kept (ratios: median of
// the per-round ratios). fairnessNotes() says what is and is not the same between the rows;
// the machine's load is printed with them.
// Run alone: node dist/bench/scan-bench.js [files] [root]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../shared/codec/package-root.js';
import { DAEMON_NODE_FLAGS } from '../shared/daemon-node-flags.js';
import { ensureScanTree, type ScanTree } from './scan-tree.js';

export interface ScanBenchRow {
  what: string;
  threads: number;
  files: number;
  /** Median over the timed rounds. */
  seconds: number;
  filesPerSec: number;
  /**
   * Median over rounds of this row's files/s / the C walker's (N threads) in the same round:
   * rows of one round run back to back, so a pair sees about the same machine load.
   */
  ratioToC?: number;
  /** The same against getfattr -R -d. */
  ratioToGetfattr?: number;
  /** maxRSS of the process that scanned (agent rows): MB = 10^6 bytes. */
  rssMB?: number;
  /** CPU time (user + system, all threads) per file: steadier than files/s on a shared machine. */
  cpuUsPerFile?: number;
  /** The 2-thread C walker's cpuUsPerFile / this row's: files per CPU-second relative to C. */
  cpuRatioToC?: number;
}

export interface ScanBenchOptions {
  /** Tree location (default /dev/shm/ecguard-bench-tree); a disk path measures that filesystem. */
  root?: string;
  files?: number;
  /** Timed rounds (default 5: the machines are shared, single rounds swing by 2x). */
  rounds?: number;
  /** Worker threads of the agent scan and of the C walker's second row (default 2). */
  threads?: number;
  log?: (line: string) => void;
}

interface Run {
  files: number;
  seconds: number;
  cpuSeconds?: number;
  rssMB?: number;
}

interface Config {
  what: string;
  threads: number;
  run: () => Run;
}

function buildWalker(): string {
  const dir = path.join(packageRoot(), 'bench', 'c');
  const source = path.join(dir, 'scan-walker.c');
  const binary = path.join(dir, 'bin', 'scan-walker');
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync('gcc', ['-O2', '-pthread', '-o', binary, source], { encoding: 'utf8' });
  if (cc.error) throw new Error(`scan bench: cannot run gcc (${cc.error.message}); install it with \`apt-get install gcc\``);
  if (cc.status !== 0) throw new Error(`scan bench: gcc failed:\n${cc.stderr}`);
  return binary;
}

function runJson(cmd: string, args: string[], what: string): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error || r.status !== 0) throw new Error(`scan bench: ${what} failed (${r.error?.message ?? `status ${r.status}`}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Run;
}

// Through bash for `times`: the CPU getfattr used (its output goes to /dev/null).
function runGetfattr(tree: ScanTree): Run {
  const script = 'getfattr -R -d "$1" > /dev/null 2>&1; s=$?; times; exit $s';
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script, 'bash', tree.spaceDir], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw new Error(`scan bench: cannot run bash (${r.error.message})`);
  if (r.status !== 0) throw new Error(`scan bench: getfattr exited ${r.status} (is it installed? \`apt-get install attr\`)`);
  const children = r.stdout.trim().split('\n')[1] ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { files: tree.files, seconds, ...(secs.length === 2 ? { cpuSeconds: (secs[0] as number) + (secs[1] as number) } : {}) };
}

function configs(tree: ScanTree, threads: number): Config[] {
  const walker = buildWalker();
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scan-bench-child.js');
  const agent = (what: string, mode: string, reader: string, nodeArgs: readonly string[] = DAEMON_NODE_FLAGS): Config => ({
    what,
    threads,
    // by default the agent daemon's flags: the scan runs in that process
    run: () => runJson(process.execPath, [...nodeArgs, child, tree.root, mode, reader, String(threads)], what),
  });
  return [
    { what: 'C walker', threads: 1, run: () => runJson(walker, [tree.spaceDir, '1'], 'C walker') },
    { what: 'C walker', threads, run: () => runJson(walker, [tree.spaceDir, String(threads)], 'C walker') },
    agent('agent scan, native reader', 'discard', 'native'),
    // next to the agent row: its paired ratio sees about the same load
    { what: 'getfattr -R -d', threads: 1, run: () => runGetfattr(tree) },
    agent('agent scan, native reader, records kept', 'scan', 'native'),
    // the daemons' heap flags (shared/daemon-node-flags.ts) against V8's defaults
    agent('agent scan, native reader, V8 default heap', 'discard', 'native', []),
    agent('agent scan, JS reader', 'discard', 'js'),
    agent('native walker alone (records mode, not decoded)', 'read', 'native'),
  ];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function runScanBench(opts: ScanBenchOptions = {}): Promise<ScanBenchRow[]> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const threads = opts.threads ?? 2;
  const rounds = opts.rounds ?? 5;
  const tree = ensureScanTree({
    ...(opts.root !== undefined ? { root: opts.root } : {}),
    ...(opts.files !== undefined ? { files: opts.files } : {}),
    onProgress: (done, total) => log(`scan bench: generating tree ${done}/${total}`),
  });
  log(`scan bench: tree ${tree.root}, ${tree.files} files${tree.generated ? `, generated in ${tree.seconds.toFixed(1)} s` : ' (reused)'}`);
  const list = configs(tree, threads);
  loadAtStart = loadAverage();
  const runs: Run[][] = list.map(() => []);
  for (let round = 0; round <= rounds; round++) {
    for (const [i, c] of list.entries()) {
      const r = c.run();
      if (r.files !== tree.files) throw new Error(`scan bench: ${c.what} saw ${r.files} files, the tree has ${tree.files}`);
      const extra = `${r.cpuSeconds !== undefined ? `, ${((r.cpuSeconds * 1e6) / r.files).toFixed(1)} CPU us/file` : ''}${r.rssMB !== undefined ? `, ${r.rssMB.toFixed(0)} MB` : ''}`;
      log(`scan bench: ${round === 0 ? 'warm-up' : `round ${round}/${rounds}`}: ${c.what} x${c.threads}: ${(r.files / r.seconds / 1e3).toFixed(1)}k files/s${extra}`);
      if (round > 0) runs[i]?.push(r);
    }
  }
  const rows: ScanBenchRow[] = list.map((c, i) => {
    const rs = runs[i] ?? [];
    const seconds = median(rs.map((r) => r.seconds));
    const rss = rs.flatMap((r) => (r.rssMB !== undefined ? [r.rssMB] : []));
    const cpu = rs.flatMap((r) => (r.cpuSeconds !== undefined ? [r.cpuSeconds] : []));
    return {
      what: c.what, threads: c.threads, files: tree.files, seconds, filesPerSec: tree.files / seconds,
      ...(rss.length ? { rssMB: Math.max(...rss) } : {}),
      ...(cpu.length ? { cpuUsPerFile: (median(cpu) * 1e6) / tree.files } : {}),
    };
  });
  const c2i = list.findIndex((c) => c.what === 'C walker' && c.threads === threads);
  const gfi = list.findIndex((c) => c.what.startsWith('getfattr'));
  const c2 = rows[c2i];
  const paired = (base: number, i: number): number | undefined => {
    const b = runs[base];
    return b ? median((runs[i] ?? []).map((r, k) => (b[k] as Run).seconds / r.seconds)) : undefined;
  };
  return rows.map((r, i) => {
    const toC = paired(c2i, i);
    const toGf = paired(gfi, i);
    return {
      ...r,
      ...(toC !== undefined ? { ratioToC: toC } : {}),
      ...(toGf !== undefined ? { ratioToGetfattr: toGf } : {}),
      ...(c2?.cpuUsPerFile && r.cpuUsPerFile ? { cpuRatioToC: c2.cpuUsPerFile / r.cpuUsPerFile } : {}),
    };
  });
}

let loadAtStart = '';

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/** What the rows share and where they differ: printed under the table. */
export function fairnessNotes(threads: number): string {
  return [
    `same tree, same cache state (tmpfs or warm page cache: one untimed round, then rounds interleaved row by row); ${threads} threads walk in the C walker and in the agent`,
    'same syscalls per entry in the C walker and the native walker (getdents64; openat, fstat, fgetxattr of the Pfn and the user.U. xrdec pair (the user. pair too when that one is absent) asking 256 bytes (8 KiB again for a longer value), pread of the last <= 16 KiB, close): checked with strace -c -f',
    `the agent also builds every ArchiveRecord (C++ for the usual archive, then one object per file on the main thread) and has Node's own threads (main, GC); the C walker builds nothing`,
    'agent rows time scanSite only (not node startup or module loading; the addon loads inside the timed part); the C walker is timed from its main()',
    'getfattr -R -d is one thread and also lists every xattr name (listxattr) and prints the values (to /dev/null)',
    `machine load (1/5/15 min) at start: ${loadAtStart || '?'}, at end: ${loadAverage()}; on a loaded machine compare "CPU vs C" (files per CPU-second) as well as files/s`,
  ].map((l) => `  - ${l}`).join('\n');
}

export function scanBenchTable(rows: readonly ScanBenchRow[]): string {
  const head = ['what', 'threads', 'files/s', 'seconds', 'vs C', 'vs getfattr', 'max RSS MB', 'CPU us/file', 'CPU vs C'];
  const lines = rows.map((r) => [
    r.what, String(r.threads), `${(r.filesPerSec / 1e3).toFixed(1)}k`, r.seconds.toFixed(2), r.ratioToC?.toFixed(2) ?? '',
    r.ratioToGetfattr?.toFixed(2) ?? '', r.rssMB?.toFixed(0) ?? '', r.cpuUsPerFile?.toFixed(1) ?? '', r.cpuRatioToC?.toFixed(2) ?? '',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => (i === 0 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ')).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [files, root] = process.argv.slice(2);
  const rows = await runScanBench({ ...(files ? { files: Number(files) } : {}), ...(root ? { root } : {}) });
  process.stdout.write(scanBenchTable(rows) + '\nfairness:\n' + fairnessNotes(rows[1]?.threads ?? 2) + '\n');
}
