// Namespace roots: `all.export /` is the filesystem root, nested exports are walked once, and a
// root that is missing (unmounted) is reported as such instead of every data file looking
// unlinked — by the scanner and by `ecguard namespace check|rebuild`, which stop early.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootOf } from '../../agent/namespace/namespace-roots.js';
import { namespaceRoots, scanSite } from '../../agent/scan/site-scanner.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from '../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

const cli = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

describe('namespace roots', () => {
  it('all.export / without a localroot is /, not the empty string', () => {
    assert.deepEqual(namespaceRoots({ exports: ['/'] }), ['/']);
    assert.deepEqual(namespaceRoots({ exports: ['/'], localroot: '/srv/ns/' }), ['/srv/ns']);
    assert.equal(rootOf('/data/f', ['/']), '/');
  });

  it('nested and repeated exports give one root each; the longest root wins', () => {
    assert.deepEqual(namespaceRoots({ exports: ['/data/ro', '/data', '/data/', '/database'], localroot: '/ns' }), ['/data', '/database'].map((e) => `/ns${e}`));
    assert.equal(rootOf('/ns/data/ro/a', ['/ns/data', '/ns/data/ro']), '/ns/data/ro');
    assert.equal(rootOf('/ns/database/a', ['/ns/data']), undefined);
  });

  describe('on a site', () => {
    let site: FakeSite;
    let tpl: ArchiveTemplate;
    before(() => {
      tpl = makeArchiveTemplate();
    });
    beforeEach(() => {
      site = makeFakeSite({ disks: 1 });
      for (const lfn of ['/data/ro/a', '/data/ro/b', '/data/c']) site.store(lfn, 0, (p) => writeArchive(p, tpl));
    });
    afterEach(() => site.cleanup());
    const config = (extra = ''): string => {
      const cfg = join(site.root, 'xrootd.cfg');
      writeFileSync(cfg, `all.export /data\n${extra}oss.localroot ${site.localroot}\noss.space public ${site.disks[0]?.path}\n`);
      return cfg;
    };
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

    it('nested exports: each link once, no duplicate LFNs', async () => {
      const r = await scanSite({ serverId: 's', disks: site.disks, exports: ['/data', '/data/ro'], localroot: site.localroot as string }, {});
      assert.equal(r.links.length, 3);
      assert.deepEqual(r.findings.filter((f) => f.kind === 'duplicate-lfn'), []);
      const c = run('namespace', 'check', '--xrootd-config', config('all.export /data/ro r/o\n'), '--json');
      assert.equal(c.status, 0, c.stdout + c.stderr);
      assert.deepEqual(JSON.parse(c.stdout).findings, []);
    });

    it('namespace root missing: the scanner says so and reports no file as unlinked; check and rebuild stop', async () => {
      renameSync(site.nsRoot, `${site.nsRoot}.away`);
      const r = await scanSite({ serverId: 's', disks: site.disks, exports: ['/data'], localroot: site.localroot as string }, {});
      assert.deepEqual(r.findings.filter((f) => f.kind === 'data-without-symlink'), []);
      const u = r.findings.filter((f) => f.kind === 'unreadable');
      assert.equal(u.length, 1);
      assert.match(u[0]?.reason ?? '', /namespace root .*\/data does not exist \(not mounted\?\): mount it before check\/rebuild/);
      const cfg = config();
      const c = run('namespace', 'check', '--xrootd-config', cfg, '--json');
      assert.equal(c.status, 1, c.stdout + c.stderr);
      assert.equal(JSON.parse(c.stdout).error.code, 'NAMESPACE_ROOT_UNUSABLE');
      assert.match(c.stderr, /does not exist \(not mounted\?\): mount it before check\/rebuild/);
      const b = run('namespace', 'rebuild', '--xrootd-config', cfg, '--trust-pfn', '--dry-run');
      assert.equal(b.status, 1, b.stdout + b.stderr);
      assert.doesNotMatch(b.stdout, /would create/);
    });

    it('namespace check lists unreadable findings', async () => {
      const cfg = config();
      const c = run('namespace', 'check', '--xrootd-config', cfg, '--json');
      assert.equal(c.status, 0, c.stdout + c.stderr);
      // The disk's space directory made unreadable by renaming it away: the check shows it.
      const disk = site.disks[0]?.path as string;
      renameSync(join(disk, 'public'), join(disk, 'public.away'));
      writeFileSync(join(disk, 'public'), 'not a directory');
      const d = run('namespace', 'check', '--xrootd-config', cfg, '--json');
      assert.equal(d.status, 1, d.stdout + d.stderr);
      assert.ok((JSON.parse(d.stdout).findings as { kind: string }[]).some((f) => f.kind === 'unreadable'), d.stdout);
    });
  });
});
