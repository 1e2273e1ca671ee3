// Objects written without nomtfile: a rebuilt archive keeps the lost archive's directory, taken
// from the `.mt` member with the lost archive's digest, so every `.mt` copy stays true. On the
// golden fixtures the rebuilt archive is the lost one byte for byte (data file and directory).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getCodec } from '../../shared/codec/index.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { directoryDigest } from '../../shared/xrdec/directory-digest.js';
import { readMetadataFile } from '../../shared/xrdec/mt-file.js';
import { keptDirectory, type KeptEntry } from '../../shared/xrdec/rebuild/kept-directory.js';
import { combinations, fixtureNames, loadFixture, type FixtureCase } from '../helpers/fixtures.js';
import { profileOf, rebuildOntoSites, treeOf } from './repair-harness.js';
import { writeRebuild } from '../../agent/repair/write-rebuild.js';
import { rebuildStripes } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import { closeSources, localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { makeFakeSite } from '../helpers/fake-site.js';

const codec = getCodec();
const mtCases = fixtureNames().filter((n) => n.includes('-mt-') && !n.endsWith('-empty'));

async function membersByDigest(mtPath: string): Promise<Map<string, Buffer>> {
  const { members } = await readMetadataFile(mtPath);
  return new Map(members.map((m) => [directoryDigest(codec, m.bytes), m.bytes]));
}

describe('repair: archives of .mt objects keep their directory', function () {
  this.timeout(120_000);

  it('finds mt fixtures to test', () => assert.ok(mtCases.length >= 10, mtCases.join(', ')));

  for (const name of mtCases) {
    describe(name, () => {
      let fx: FixtureCase;
      before(() => {
        fx = loadFixture(name);
      });
      after(() => fx.cleanup());

      it('every .mt member is the directory of one archive, and our layout reproduces it', async () => {
        const m = fx.manifest;
        const members = await membersByDigest(`${fx.archives[0] as string}.mt`);
        for (const a of fx.archives) {
          const tail = readZipDirectoryFileSync(a).tail;
          const member = members.get(directoryDigest(codec, tail));
          assert.ok(member && member.equals(tail), `${a}: a member equal to its directory`);
          const kept = keptDirectory(member, profileOf(m), m.file_size);
          assert.equal(kept.length, readZipDirectoryFileSync(a).entries.length);
        }
      });

      it('rebuilds lost archives byte for byte from the survivors and the .mt members', async () => {
        const m = fx.manifest;
        const profile = profileOf(m);
        const servers = m.servers.map((_, i) => i);
        let runs = 0;
        for (let d = 1; d <= m.nbparity; d++) {
          for (const dropped of [...combinations(servers, d)].slice(0, 3)) {
            const survivors = servers.filter((s) => !dropped.includes(s));
            // The .mt copy of a surviving server; the lost archives' digests as the catalog knew them.
            const members = await membersByDigest(`${fx.archives[survivors[0] as number] as string}.mt`);
            const digests = dropped.map((s) => directoryDigest(codec, readZipDirectoryFileSync(fx.archives[s] as string).tail));
            const kept: KeptEntry[][] = digests.map((dg) => keptDirectory(members.get(dg) as Buffer, profile, m.file_size));
            const { placed, sites } = await rebuildOntoSites({
              profile, codec, targets: d, lfn: `/data/ec/${m.object}`, taskId: `mt${d}`, kept, directoryDigests: digests,
              sourcePaths: survivors.map((s) => fx.archives[s] as string),
            });
            try {
              dropped.forEach((s, t) => {
                const got = readFileSync((placed[t] as { path: string }).path);
                assert.ok(got.equals(readFileSync(fx.archives[s] as string)), `${name} drop ${dropped.join(',')}: rebuilt archive ${s} equals the original byte for byte`);
              });
              runs++;
            } finally {
              for (const site of sites) site.cleanup();
            }
          }
        }
        assert.ok(runs >= 2);
      });

      it('refuses a member that the survivors do not rebuild (wrong CRC)', async () => {
        const m = fx.manifest;
        const profile = profileOf(m);
        const tail = readZipDirectoryFileSync(fx.archives[0] as string).tail;
        const kept = keptDirectory(tail, profile, m.file_size).map((e, i) => (i === 0 ? { ...e, crc: (e.crc ^ 1) >>> 0 } : e));
        await assert.rejects(
          rebuildOntoSites({ profile, codec, targets: 1, lfn: `/data/ec/${m.object}`, taskId: 'mtbad', kept: [kept], sourcePaths: fx.archives.slice(1) }),
          (e: Error & { code?: string }) => e.code === 'DIRECTORY_MISMATCH' && /CRC/.test(e.message),
        );
      });
    });
  }

  it('the holder never publishes an archive whose directory is not the one it must keep', async () => {
    const fx = loadFixture(mtCases[0] as string);
    const site = makeFakeSite({ serverId: 'srvX', disks: 1 });
    const sources = fx.archives.slice(1).map((p) => localArchiveSource(p));
    try {
      const m = fx.manifest;
      const tail = readZipDirectoryFileSync(fx.archives[0] as string).tail;
      const rebuild = await rebuildStripes({ profile: profileOf(m), sources, targets: 1, codec, kept: [keptDirectory(tail, profileOf(m), m.file_size)] });
      const d = site.disks[0] as (typeof site.disks)[number];
      const target = { diskPath: d.path, space: d.space, linkPath: `${site.localroot ?? ''}/data/ec/${m.object}`, namespaceRoot: site.nsRoot, taskId: 'mtseal', slot: 0, directoryDigest: '0000000000000000' };
      await assert.rejects(writeRebuild(rebuild, [target]), (e: Error & { code?: string }) => e.code === 'DIRECTORY_MISMATCH');
      assert.deepEqual(treeOf(site.root).filter((p) => p.endsWith('%') || p.endsWith('.part') || p.endsWith('@')), [], 'no data file, partial or link');
    } finally {
      await closeSources(sources);
      site.cleanup();
      fx.cleanup();
    }
  });

  it('rejects a member that is not a directory of this object', () => {
    const fx = loadFixture(mtCases[0] as string);
    try {
      const m = fx.manifest;
      const tail = readZipDirectoryFileSync(fx.archives[0] as string).tail;
      assert.throws(() => keptDirectory(tail.subarray(0, tail.length - 1), profileOf(m), m.file_size), (e: Error & { code?: string }) => e.code === 'DIRECTORY_MISMATCH');
      assert.throws(() => keptDirectory(tail, profileOf(m), m.file_size + m.chunksize * m.nbdata * 3), (e: Error & { code?: string }) => e.code === 'DIRECTORY_MISMATCH' && /geometry|fit/.test(e.message));
      const odd = Buffer.from(tail);
      odd.writeUInt16LE(0x7fff, 8); // flags XrdEc never sets
      assert.throws(() => keptDirectory(odd, profileOf(m), m.file_size), (e: Error & { code?: string }) => e.code === 'DIRECTORY_MISMATCH');
    } finally {
      fx.cleanup();
    }
  });
});
