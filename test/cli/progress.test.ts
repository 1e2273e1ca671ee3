// Long scans show progress on a terminal (run under script(1) for a pty), and never with --json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeArchiveTemplate, writeArchive } from '../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { repoRoot } from '../helpers/cli.js';

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs the CLI with a terminal on stdout and stderr: returns what the terminal showed. */
function onTerminal(args: string[]): string {
  const cmd = [process.execPath, join(repoRoot, 'bin', 'ecguard.js'), ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 }).stdout;
}

describe('ecguard progress on a terminal', () => {
  let site: FakeSite;
  let cfg: string;
  before(function () {
    if (!hasScript) this.skip();
  });
  beforeEach(() => {
    site = makeFakeSite({ disks: 1 });
    const tpl = makeArchiveTemplate();
    for (const lfn of ['/data/a', '/data/b']) site.store(lfn, 0, (p) => writeArchive(p, tpl));
    cfg = join(site.root, 'xrootd.cfg');
    writeFileSync(cfg, `all.export /data\noss.localroot ${site.localroot}\noss.space public ${site.disks[0]?.path}\n`);
  });
  afterEach(() => site.cleanup());

  for (const cmd of [['scan'], ['namespace', 'check'], ['namespace', 'rebuild', '--trust-pfn', '--dry-run']]) {
    it(`${cmd.join(' ')}: progress on a terminal, none with --json`, () => {
      assert.match(onTerminal([...cmd, '--xrootd-config', cfg]), new RegExp(`${cmd.slice(0, 2).join(' ')}: \\d+/\\d+ buckets`));
      assert.doesNotMatch(onTerminal([...cmd, '--xrootd-config', cfg, '--json']), /buckets,/);
    });
  }
});
