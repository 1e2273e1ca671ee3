// Starts a real, standalone xrootd data server (XRootD 5.5.3, no cmsd) on a temp tree for one
// test and stops it again. Tests that need it must fail, not skip, when xrootd is missing.
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface StartOptions {
  /** Number of disk directories, one `oss.space` line each. */
  spaces?: number;
  /** Space name; creates outside `public` need `?oss.cgroup=NAME` in the URL. */
  spaceName?: string;
  /** With `oss.localroot <root>/ns` and export `/data`; without, the export is `<root>/ns/data`. */
  localroot: boolean;
  extraConfig?: string[];
  readyTimeoutMs?: number;
}

export interface XrdResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface XrootdServer {
  /** `root://127.0.0.1:PORT` */
  url: string;
  port: number;
  pid: number;
  root: string;
  disks: string[];
  spaceName: string;
  /** Local directory holding the export's symlinks: `<localroot><export>`. */
  nsRoot: string;
  /** Exported LFN prefix. */
  export: string;
  localroot?: string;
  configPath: string;
  logPath: string;
  /** `root://127.0.0.1:PORT/<lfn>` for xrdcp. */
  lfnUrl(lfn: string): string;
  /** `<localroot><lfn>`: the symlink's local path. */
  nsPath(lfn: string): string;
  /** Run xrdcp / `xrdfs URL …`; throw with stderr on failure, return stdout. */
  xrdcp(args: string[]): string;
  xrdfs(args: string[]): string;
  /** Same, but return the result whatever the exit status. */
  tryXrdcp(args: string[]): XrdResult;
  tryXrdfs(args: string[]): XrdResult;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const XROOTD = '/usr/bin/xrootd';
const live = new Set<ChildProcess>();
let instances = 0;

// A crashed test run must not leave servers behind.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function xrootdAvailable(): boolean {
  return ['xrootd', 'xrdcp', 'xrdfs'].every((b) => existsSync(`/usr/bin/${b}`));
}

export function requireXrootd(): void {
  if (!xrootdAvailable()) {
    throw new Error('xrootd, xrdcp and xrdfs must be installed in /usr/bin (Debian xrootd-server, xrootd-client 5.5.3)');
  }
}

/** The server refuses to run as root: as root, run it as user `xrootd`; otherwise as ourselves. */
function serverIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'xrootd'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`running as root needs the system user "xrootd": ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function runXrd(cmd: 'xrdcp' | 'xrdfs', args: string[], env: Record<string, string> = {}): XrdResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(cmd: 'xrdcp' | 'xrdfs', args: string[]): string {
  const r = runXrd(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${path})`;
  }
}

function layout(root: string, o: StartOptions): { disks: string[]; exp: string; localroot?: string; nsRoot: string } {
  const disks = Array.from({ length: o.spaces ?? 2 }, (_, i) => join(root, 'disk', `sd${String.fromCharCode(97 + i)}`));
  if (o.localroot) return { disks, exp: '/data', localroot: join(root, 'ns'), nsRoot: join(root, 'ns', 'data') };
  const exp = join(root, 'ns', 'data');
  return { disks, exp, nsRoot: exp };
}

function writeConfig(path: string, root: string, port: number, space: string, l: ReturnType<typeof layout>, extra: string[]): void {
  const lines = [
    `all.export ${l.exp}`,
    ...(l.localroot ? [`oss.localroot ${l.localroot}`] : []),
    ...l.disks.map((d) => `oss.space ${space} ${d}`),
    `xrd.port ${port}`,
    // Defaults are /tmp: keep the admin socket, pid file and checkpoints in the temp tree.
    `all.adminpath ${join(root, 'var', 'admin')}`,
    `all.pidpath ${join(root, 'var', 'run')}`,
    ...extra,
  ];
  writeFileSync(path, lines.join('\n') + '\n');
}

function chownTree(paths: string[], ids: { uid: number; gid: number } | undefined): void {
  for (const p of paths) {
    mkdirSync(p, { recursive: true });
    if (ids) chownSync(p, ids.uid, ids.gid);
    chmodSync(p, 0o755);
  }
}

async function waitReady(child: ChildProcess, url: string, logPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Fail fast when nothing listens yet instead of the client's long retry window.
  const env = { ...process.env, XRD_CONNECTIONRETRY: '1', XRD_CONNECTIONWINDOW: '1', XRD_REQUESTTIMEOUT: '5' };
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`xrootd exited (${child.exitCode ?? child.signalCode}) while starting; log tail:\n${tail(logPath, 30)}`);
    }
    const ok = await new Promise<boolean>((res) => {
      execFile('xrdfs', [url, 'query', 'config', 'version'], { env, timeout: 5000 }, (err) => res(!err));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`xrootd on ${url} not ready after ${timeoutMs} ms; log tail:\n${tail(logPath, 30)}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

async function startOnce(o: StartOptions): Promise<XrootdServer> {
  const ids = serverIds();
  const root = mkdtempSync(join(tmpdir(), 'ecguard-xrootd-'));
  const space = o.spaceName ?? 'public';
  const l = layout(root, o);
  const dirs = [root, join(root, 'disk'), ...l.disks, join(root, 'ns'), l.nsRoot, join(root, 'var'), join(root, 'log')];
  chownTree(dirs, ids);
  const port = await freePort();
  const configPath = join(root, 'xrootd.cfg');
  writeConfig(configPath, root, port, space, l, o.extraConfig ?? []);
  const instance = `ecg${process.pid}x${++instances}`;
  const logArg = join(root, 'log', 'xrootd.log');
  // With -n NAME, xrootd writes the log to <dir>/NAME/<file>.
  const logPath = join(dirname(logArg), instance, basename(logArg));
  const child = spawn(XROOTD, ['-c', configPath, '-l', logArg, '-n', instance], {
    cwd: root,
    stdio: 'ignore',
    ...(ids ?? {}),
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const url = `root://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await stopChild(child);
    if (process.env.KEEP_XROOTD === '1') return;
    for (const d of l.disks) if (existsSync(d)) chmodSync(d, 0o755); // a test may have made one unreadable
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitReady(child, url, logPath, o.readyTimeoutMs ?? 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    port,
    pid: child.pid ?? -1,
    root,
    disks: l.disks,
    spaceName: space,
    nsRoot: l.nsRoot,
    export: l.exp,
    ...(l.localroot ? { localroot: l.localroot } : {}),
    configPath,
    logPath,
    lfnUrl: (lfn) => `${url}/${lfn}`,
    nsPath: (lfn) => (l.localroot ?? '') + lfn,
    xrdcp: (args) => must('xrdcp', args),
    xrdfs: (args) => must('xrdfs', [url, ...args]),
    tryXrdcp: (args) => runXrd('xrdcp', args),
    tryXrdfs: (args) => runXrd('xrdfs', [url, ...args]),
    logTail: (lines = 30) => tail(logPath, lines),
    stop,
  };
}

export async function startXrootd(o: StartOptions): Promise<XrootdServer> {
  requireXrootd();
  // The free port may be taken between probe and bind: retry on a bind failure.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o);
    } catch (e) {
      if (attempt >= 3 || !/address already in use|unable to bind/i.test(String(e))) throw e;
    }
  }
}
