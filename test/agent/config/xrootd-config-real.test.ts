// Differential test: the real xrootd (5.5.3) reads the same config files as the parser, and both
// must agree on the disks (oss.space), the localroot and the exports, and on whether the config
// is acceptable at all (xrootd refuses to start exactly when the parser reports an error).
// Like the other xrootd tests it fails, not skips, when xrootd is missing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseXrootdConfig, type XrootdSiteConfig } from '../../../agent/config/xrootd-config.js';
import { TempTree } from './config-paths.js';

const XROOTD = '/usr/bin/xrootd';

interface XrootdView {
  started: boolean;
  host: string;
  spaces: string[];
  localroot?: string;
  exports: string[];
  log: string;
}

/** xrootd refuses to run as root: run it as user xrootd then. */
function serverIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'xrootd'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Starts xrootd on `cfg` until it reports its initialization result, then stops it. */
async function xrootdView(cfg: string, cwd: string, args: string[] = []): Promise<XrootdView> {
  const port = await freePort();
  const child = spawn(XROOTD, ['-c', cfg, '-p', String(port), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(serverIds() ?? {}) });
  let log = '';
  const done = /^------ xrootd \S+ initialization (completed|failed)\./m;
  const started = await new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`xrootd did not finish initializing; log:\n${log}`)), 20_000);
    const onData = (b: Buffer): void => {
      log += b.toString();
      const m = done.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] === 'completed');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
  });
  child.kill('SIGKILL');
  const host = /\+\+\+\+\+\+ xrootd \S+@(\S+) initialization started/.exec(log)?.[1] ?? '';
  const spaces = [...log.matchAll(/^\s+oss\.space (\S+) (\S+) -> /gm)].map((m) => `${m[1]} ${(m[2] as string).replace(/\/+$/, '')}`);
  const localroot = /^\s+oss\.localroot (\S+)/m.exec(log)?.[1];
  const exports = [...new Set([...log.matchAll(/^Config exporting (\S+)/gm)].map((m) => m[1] as string))];
  return { started, host, spaces: [...new Set(spaces)].sort(), ...(localroot ? { localroot } : {}), exports: exports.sort(), log };
}

function parserView(c: XrootdSiteConfig): Omit<XrootdView, 'log' | 'host'> {
  return {
    started: !c.diagnostics.some((d) => d.severity === 'error'),
    spaces: [...new Set(c.spaces.map((s) => `${s.name} ${s.path}`))].sort(),
    ...(c.localroot ? { localroot: c.localroot } : {}),
    exports: [...new Set(c.exports.map((e) => e.path))].sort(),
  };
}

describe('xrootd config: the parser agrees with XRootD 5.5.3', function () {
  this.timeout(120_000);
  let t: TempTree;
  before(() => {
    t = new TempTree();
    for (const d of ['disk/sda', 'disk/sdb', 'disk/sdc', 'disk/other', 'ns', 'adm', 'config.d']) t.mkdir(d);
    t.write('disk/sdc/mnt.sdc', ''); // chkmount marker
    t.write('config.d/10-disks.cfg', `oss.space scratch ${t.path('disk/sdb')}\n`);
    t.write('config.d/20-site.cfg', 'all.sitename TEST\n');
    t.write('config.d/30-old.cfg.rpmsave', `oss.space old ${t.path('disk/sda')}\n`);
    t.write('config.d/40-notes.txt', `oss.space notes ${t.path('disk/sda')}\n`);
    // Everything must be readable by the xrootd user; the disks (xrootd creates PATH/SPACE/)
    // and its admin directory writable.
    const ids = serverIds();
    const walk = (p: string, own: boolean): void => {
      const dir = statSync(p).isDirectory();
      chmodSync(p, dir ? 0o755 : 0o644);
      if (own && ids) chownSync(p, ids.uid, ids.gid);
      if (dir) for (const e of readdirSync(p)) walk(join(p, e), own || e === 'disk' || e === 'adm');
    };
    walk(t.root, false);
  });
  after(() => t.remove());

  const head = (): string[] => [`all.adminpath ${t.path('adm')}`, `all.pidpath ${t.path('adm')}`];

  async function agree(name: string, lines: string[], opts: { instance?: string; expectStart: boolean }): Promise<XrootdSiteConfig> {
    const cfg = t.write(`${name}.cfg`, [...head(), ...lines].join('\n') + '\n');
    chmodSync(cfg, 0o644);
    const real = await xrootdView(cfg, t.root, opts.instance ? ['-n', opts.instance] : []);
    assert.ok(real.host, `no host in xrootd's log:\n${real.log}`);
    const parsed = parseXrootdConfig(cfg, { host: real.host, ...(opts.instance ? { instance: opts.instance } : {}), env: {} });
    const mine = parserView(parsed);
    assert.equal(real.started, opts.expectStart, `xrootd ${real.started ? 'started' : 'failed'}; log:\n${real.log}`);
    // A config xrootd refuses has no effective oss listing to compare; the parser must flag it.
    if (!real.started) {
      assert.equal(mine.started, false, `xrootd refused ${name} but the parser found no error:\n${real.log}`);
      return parsed;
    }
    assert.deepEqual(mine, { started: real.started, spaces: real.spaces, ...(real.localroot ? { localroot: real.localroot } : {}), exports: real.exports }, real.log);
    return parsed;
  }

  const site = (): string[] => [
    `set disks = ${t.path('disk')}`,
    'all.export /data',
    `oss.localroot ${t.path('ns')}`,
    'oss.space public $(disks)/sda',
    `oss.space public $disks/sdc chkmount mnt nofail`,
    'if exec cmsd',
    '   oss.space cmsonly ${disks}/sda',
    'fi',
    'if named gw',
    '   all.export /gw',
    'else if named other',
    '   oss.space other $(disks)/other',
    'else',
    '   all.export /plain # not a comment',
    'fi',
  ];

  it('variables, chkmount, if exec / if named / else if / else, for three instances', async () => {
    await agree('site-anon', site(), { expectStart: true });
    await agree('site-gw', site(), { instance: 'gw', expectStart: true });
    await agree('site-other', site(), { instance: 'other', expectStart: true });
  });

  it('host patterns: exact, one *, lists, no match', async () => {
    const probe = await xrootdView(t.write('probe.cfg', [...head(), 'all.export /data'].join('\n') + '\n'), t.root);
    const host = probe.host;
    assert.ok(host, probe.log);
    const disk = (n: string): string => `   oss.space ${n} ${t.path('disk/sda')}`;
    const c = await agree(
      'hosts',
      ['all.export /data', `if ${host}`, disk('exact'), 'fi', `if ${host[0]}*`, disk('star'), 'fi', `if nomatch.example.org *${host.slice(-1)}`, disk('list'), 'fi', 'if nomatch.example.org', disk('nomatch'), 'fi'],
      { expectStart: true },
    );
    assert.deepEqual(c.spaces.map((x) => x.name), ['exact', 'star', 'list']);
  });

  it('oss.space wildcard and one disk in two spaces', async () => {
    const c = await agree('wild', ['all.export /data', `oss.space public ${t.path('disk')}/sd*`, `oss.space scratch ${t.path('disk/sda')}`], { expectStart: true });
    assert.equal(c.spaces.length, 4);
  });

  it('continue DIR: files in order, package leftovers skipped, the rest of the file ignored', async () => {
    await agree('cont', ['all.export /data', `oss.space public ${t.path('disk/sda')}`, `continue ${t.path('config.d')}/`, `oss.space after ${t.path('disk/sdc')}`], { expectStart: true });
    await agree('cont-sfx', ['all.export /data', `continue ${t.path('config.d')}/ *.cfg if exec xrootd`, `oss.space after ${t.path('disk/sdc')}`], { expectStart: true });
    await agree('cont-skip', ['all.export /data', `continue ${t.path('config.d')}/ if exec cmsd`, `oss.space after ${t.path('disk/sdc')}`], { expectStart: true });
    await agree('cont-noop', ['all.export /data', `continue ?${t.path('nothing.cfg')}`, 'continue', `oss.space after ${t.path('disk/sdc')}`], { expectStart: true });
  });

  it('configs xrootd refuses are errors for the parser too', async () => {
    const refused: [string, string[]][] = [
      ['nested-if', ['all.export /data', 'if exec xrootd', 'if named anon', `oss.space public ${t.path('disk/sda')}`, 'fi', 'fi']],
      ['undefined-var', ['all.export /data', 'oss.space public $(nodisks)/sda']],
      ['continue-in-if', ['all.export /data', 'if exec xrootd', `continue ${t.path('config.d/20-site.cfg')}`, 'fi']],
      ['relative-space', ['all.export /data', 'oss.space public disk/sda']],
      ['setenv-xrd', ['all.export /data', 'setenv XRDFOO = 1']],
    ];
    for (const [name, lines] of refused) await agree(name, lines, { expectStart: false });
  });
});
