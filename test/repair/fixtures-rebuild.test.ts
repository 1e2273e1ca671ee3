// Stripe rebuild of the golden objects: drop 1..M archives, rebuild them from the survivors onto
// fake data servers, then decode from sets where every rebuilt archive is needed → the original
// bytes. The rebuilt archives hold exactly the lost stripes (same bytes, same CRCs), sizes by
// geometry, the fixture's CRC kind, the survivors' strpver and filesize; survivors are untouched.
import assert from 'node:assert/strict';
import { closeSync, openSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getCodec } from '../../shared/codec/index.js';
import { readEntrySync, readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { decodeObject } from '../../shared/xrdec/object-decoder.js';
import { closeSources, localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { verifyArchive, verifyStripeSet } from '../../agent/repair/verify-archive.js';
import { combinations, fixtureNames, loadFixture, placementOf, type FixtureCase } from '../helpers/fixtures.js';
import { covers, fingerprint, profileOf, rebuildOntoSites, sha256, spread, stripeMap } from './repair-harness.js';

const codec = getCodec();

/** name → stored bytes and CRC of every entry of these archives. */
function entriesOf(paths: readonly string[]): Map<string, { data: Buffer; crc: number }> {
  const out = new Map<string, { data: Buffer; crc: number }>();
  for (const p of paths) {
    const dir = readZipDirectoryFileSync(p);
    const fd = openSync(p, 'r');
    try {
      for (const e of dir.entries) out.set(e.name, { data: readEntrySync(fd, dir, e), crc: e.crc });
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

describe('repair: stripe rebuild of the golden fixtures', function () {
  this.timeout(300_000);
  for (const name of fixtureNames()) {
    describe(name, () => {
      let fx: FixtureCase;
      before(() => {
        fx = loadFixture(name);
      });
      after(() => fx.cleanup());

      it('rebuilds every lost archive so that the object decodes through it', async () => {
        const m = fx.manifest;
        const profile = profileOf(m);
        const n = m.nbdata;
        const placement = placementOf(m);
        const servers = m.servers.map((_, i) => i);
        const rawText = (key: string): string => Buffer.from(m.files[0]?.xattrs_hex[`user.xrdec.${key}`] ?? '', 'hex').toString('latin1');
        let rebuilt = 0;
        let decodes = 0;
        for (let d = 1; d <= m.nbparity; d++) {
          for (const dropped of spread([...combinations(servers, d)], 3)) {
            const survivors = servers.filter((s) => !dropped.includes(s));
            const before = fx.archives.map(fingerprint);
            const missingPerBlock = placement.map((row) => row.filter((srv) => dropped.includes(srv)).length);
            const heldOk = placement.every((row) => row.filter((srv) => !dropped.includes(srv)).length >= n);
            const targets = m.blocks === 0 ? d : Math.min(d, Math.max(...missingPerBlock));
            const label = `${name} drop ${dropped.join(',')}`;
            const run = rebuildOntoSites({
              profile, codec, targets, lfn: `/data/ec/${m.object}`, taskId: `fx${d}`,
              sourcePaths: survivors.map((s) => fx.archives[s] as string).reverse(),
            });
            if (!heldOk) {
              await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'TOO_FEW_SOURCES', label);
              continue;
            }
            const { rebuild, placed, sites } = await run;
            try {
              rebuilt++;
              assert.equal(rebuild.version.strpverText, rawText('strpver'), label);
              assert.equal(rebuild.version.filesizeText, rawText('filesize'), label);
              assert.equal(rebuild.crcKind, m.blocks === 0 ? undefined : m.digest, label);
              const lost = entriesOf(dropped.map((s) => fx.archives[s] as string));
              const got = new Set<string>();
              for (const [t, p] of placed.entries()) {
                assert.ok(p.linked, `${label}: target ${t} linked (${p.linkProblem ?? ''})`);
                assert.equal(readlinkSync(p.linkPath), p.path);
                const v = await verifyArchive(p.path, {
                  entries: rebuild.expectedEntries(t), ...(rebuild.crcKind ? { crcKind: rebuild.crcKind } : {}),
                  version: { strpverText: rawText('strpver'), filesizeText: rawText('filesize') }, pfn: p.linkPath,
                }, codec);
                assert.deepEqual(v.problems, [], `${label}: target ${t}`);
                // The rebuilt entries are the lost ones, byte for byte, with the same CRCs.
                const mine = entriesOf([p.path]);
                for (const [entry, e] of mine) {
                  const orig = lost.get(entry);
                  assert.ok(orig, `${label}: ${entry} was not lost`);
                  assert.ok(e.data.equals(orig.data), `${label}: ${entry} bytes`);
                  assert.equal(e.crc, orig.crc, `${label}: ${entry} CRC`);
                  got.add(entry);
                }
                if (m.servers.length === n + m.nbparity && targets === d) {
                  const map = stripeMap(p.path);
                  assert.equal(map.size, m.blocks, `${label}: one entry per block`);
                  for (const s of map.values()) assert.equal(s.length, 1);
                }
              }
              assert.deepEqual([...got].sort(), [...lost.keys()].sort(), `${label}: every lost stripe rebuilt`);

              // Decode from sets that need every rebuilt archive.
              const rebuiltPaths = placed.map((p) => p.path);
              const rebuiltMaps = rebuiltPaths.map(stripeMap);
              const survMaps = new Map(survivors.map((s) => [s, stripeMap(fx.archives[s] as string)]));
              const sets: number[][] = [];
              if (m.blocks === 0) sets.push(survivors.slice(0, Math.max(0, n - d)));
              for (let size = 0; size <= survivors.length && sets.length < 2 && m.blocks > 0; size++) {
                for (const r of combinations(survivors, size)) {
                  const maps = r.map((s) => survMaps.get(s) as ReadonlyMap<number, readonly number[]>);
                  if (!covers([...rebuiltMaps, ...maps], m.blocks, n)) continue;
                  if (rebuiltMaps.some((_, i) => covers([...rebuiltMaps.filter((__, j) => j !== i), ...maps], m.blocks, n))) continue;
                  sets.push(r);
                  if (sets.length >= 2) break;
                }
              }
              assert.ok(sets.length > 0, `${label}: a decode set needing every rebuilt archive`);
              for (const r of sets) {
                const out = join(fx.dir, `decoded-${dropped.join('-')}-${r.join('-')}`);
                const paths = [...rebuiltPaths, ...r.map((s) => fx.archives[s] as string)];
                const rep = await decodeObject({ profile, archivePaths: paths, output: out, codec });
                assert.equal(sha256(out), m.sha256, `${label}: decoded from rebuilt + ${r.join(',')}`);
                assert.deepEqual(rep.badEntries, []);
                rmSync(out);
                decodes++;
              }

              // The full stripe set (survivors + rebuilt) recomputes to the same parity.
              const all = [...survivors.map((s) => fx.archives[s] as string), ...rebuiltPaths].map((p) => localArchiveSource(p));
              try {
                const vs = await verifyStripeSet({ profile, sources: all, codec, ...(rebuild.crcKind ? { crcKind: rebuild.crcKind } : {}) });
                assert.deepEqual(vs.problems, [], label);
                assert.equal(vs.checkedBlocks, m.blocks, label);
              } finally {
                await closeSources(all);
              }
              assert.deepEqual(fx.archives.map(fingerprint), before, `${label}: survivors untouched`);
            } finally {
              for (const s of sites) s.cleanup();
            }
          }
        }
        assert.ok(rebuilt > 0);
        if (m.blocks > 0) assert.ok(decodes >= rebuilt);
      });
    });
  }
});
