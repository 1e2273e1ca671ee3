// An object's `.mt` file (written by XrdEc without nomtfile) is recognised as metadata: its
// record names it, no "bad archive" finding is raised for it, and look-alikes still are.
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { setAttributeSync } from 'fs-xattr';
import { scanSite, type SiteLayout } from '../../agent/scan/site-scanner.js';
import { getCodec } from '../../shared/codec/index.js';
import { buildMetadataFile, METADATA_NOTE } from '../../shared/xrdec/mt-file.js';
import { loadFixture, type FixtureCase } from '../helpers/fixtures.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

describe('scan: .mt metadata files', () => {
  let fx: FixtureCase;
  let site: FakeSite;
  before(() => {
    fx = loadFixture('case-4p2-c1024-crc32c-mt-multi-partial');
    site = makeFakeSite({ serverId: 'srv0' });
    const archive = fx.archives[0] as string;
    site.store('/data/obj.dat', 0, (p) => {
      copyFileSync(archive, p);
      for (const [k, v] of [['user.U.xrdec.strpver', '1795364467'], ['user.U.xrdec.filesize', String(fx.manifest.file_size)]] as const) setAttributeSync(p, k, Buffer.from(v));
    });
    site.store('/data/obj.dat.mt', 1, (p) => copyFileSync(`${archive}.mt`, p));
    // Look-alikes: index-named members but not named .mt; named .mt but carrying a strpver.
    const mt = buildMetadataFile([Buffer.from('a'), Buffer.from('b')], 'crc32c', getCodec(), { time: 0, date: 33 });
    site.store('/data/zip-of-indices', 0, (p) => writeFileSync(p, mt));
    site.store('/data/fake.mt', 0, (p) => {
      writeFileSync(p, mt);
      setAttributeSync(p, 'user.U.xrdec.strpver', Buffer.from('1700000000'));
    });
  });
  after(() => {
    site.cleanup();
    fx.cleanup();
  });

  const layout = (): SiteLayout => ({ serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) });

  for (const workers of [0, 2]) {
    it(`the fixture's .mt is metadata, not a bad archive; look-alikes are still flagged (${workers} workers)`, async () => {
      const scan = await scanSite(layout(), { workers });
      const byLfn = new Map(scan.records.map((r) => [r.lfn, r]));
      const mt = byLfn.get('/data/obj.dat.mt');
      assert.equal(mt?.parseStatus, 'not-ec');
      assert.equal(mt?.parseError, `${METADATA_NOTE} of /data/obj.dat: 6 members`);
      assert.equal(byLfn.get('/data/obj.dat')?.parseStatus, 'ok');
      const bad = scan.findings.filter((f) => f.kind === 'bad-archive').map((f) => f.path).sort();
      assert.equal(bad.length, 2, bad.join(', '));
      assert.ok(!bad.some((p) => p === mt?.dataPath || p.endsWith(mt?.dataPath ?? '?')), 'the .mt file is not flagged');
      assert.ok(!(byLfn.get('/data/zip-of-indices')?.parseError ?? '').startsWith(METADATA_NOTE));
      assert.ok(!(byLfn.get('/data/fake.mt')?.parseError ?? '').startsWith(METADATA_NOTE));
    });
  }
});
