// Stripe rebuild of objects written by our encoder: 4+2 and 8+2, both CRC kinds, sizes from
// empty to several blocks with partial last blocks, both codecs. Every rebuilt set decodes to
// the input through the rebuilt archives, verifies, and leaves the survivors untouched.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { getCodec } from '../../shared/codec/index.js';
import { TsCodec } from '../../shared/codec/ts-codec.js';
import { decodeObject } from '../../shared/xrdec/object-decoder.js';
import { seededRandom } from '../../shared/xrdec/placement.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import { assignMissing } from '../../shared/xrdec/rebuild/stripe-assign.js';
import { closeSources, localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { readEcXattrsSync } from '../../shared/xrdec/xattrs.js';
import { verifyArchive, verifyStripeSet } from '../../agent/repair/verify-archive.js';
import { encodeRandomObject, fingerprint, rebuildOntoSites, sha256, stripeMap } from './repair-harness.js';

const codecs: ErasureCodec[] = [getCodec(), new TsCodec()];
const profiles: EcProfile[] = [{ nbData: 4, nbParity: 2, chunkSize: 1024 }, { nbData: 8, nbParity: 2, chunkSize: 512 }];
const kinds: CrcKind[] = ['crc32c', 'crc32'];

function sizesFor(p: EcProfile): number[] {
  const c = p.chunkSize;
  const b = p.nbData * c;
  return [0, 1, c - 1, c + 1, b, b + 1, 3 * b + Math.floor(c / 2) + 7, 5 * b];
}

describe('repair: rebuild of random objects', function () {
  this.timeout(300_000);
  let seed = 1;
  for (const profile of profiles) {
    for (const [j, crcKind] of kinds.entries()) {
      for (const [i, size] of sizesFor(profile).entries()) {
        const s = seed++;
        // Each size meets both codecs (over the two CRC kinds).
        const codec = codecs[(i + j) % 2] as ErasureCodec;
        it(`${profile.nbData}+${profile.nbParity} ${crcKind} ${size} bytes (${codec.name} codec)`, async () => {
          const obj = encodeRandomObject({ profile, size, crcKind, seed: s, codec });
          const rand = seededRandom(s * 7919);
          const k = profile.nbData + profile.nbParity;
          try {
            // Lose 1..M archives; once more with M lost but all stripes put into one target.
            const runs: { lost: number; targets: number }[] = [];
            for (let d = 1; d <= profile.nbParity; d++) runs.push({ lost: d, targets: d });
            runs.push({ lost: profile.nbParity, targets: 1 });
            for (const { lost, targets } of runs) {
              const order = Array.from({ length: k }, (_, i) => i);
              for (let i = k - 1; i > 0; i--) {
                const j = rand(i + 1);
                [order[i], order[j]] = [order[j] as number, order[i] as number];
              }
              const dropped = order.slice(0, lost);
              const survivors = order.slice(lost);
              const before = obj.archives.map(fingerprint);
              const label = `lost ${dropped.join(',')} → ${targets} target(s)`;
              let progress = 0;
              const { rebuild, placed, sites } = await rebuildOntoSites({
                onBlock: (done) => (progress = done), profile, codec, targets, lfn: '/data/r/file.dat', taskId: `t${s}`, sourcePaths: survivors.map((i) => obj.archives[i] as string),
              });
              try {
                assert.equal(rebuild.version.strpverText, String(obj.strpver));
                assert.equal(rebuild.version.filesizeText, String(size));
                assert.equal(rebuild.crcKind, size === 0 ? undefined : crcKind);
                const blocks = rebuild.blockCount;
                assert.equal(progress, blocks, 'onBlock saw every block');
                const perTarget = assignMissing(Array.from({ length: lost }, (_, i) => i), targets).map((a) => a.length);
                for (const [t, p] of placed.entries()) {
                  const x = readEcXattrsSync(p.path);
                  assert.deepEqual([x.namespace, x.strpver, x.filesize], ['user.U.', obj.strpver, size], label);
                  const v = await verifyArchive(p.path, {
                    entries: rebuild.expectedEntries(t), ...(rebuild.crcKind ? { crcKind: rebuild.crcKind } : {}),
                    version: rebuild.version, pfn: p.linkPath,
                  }, codec);
                  assert.deepEqual(v.problems, [], `${label} target ${t}`);
                  // The assignment rule: t-th missing stripe to target t, the extra ones to the last.
                  const map = stripeMap(p.path);
                  for (let b = 0; b < blocks; b++) {
                    assert.equal(map.get(b)?.length ?? 0, perTarget[t], `${label} target ${t} block ${b}`);
                  }
                }
                // Decode from the rebuilt archives + just enough survivors.
                const need = Math.max(0, profile.nbData - lost);
                for (const pick of [survivors.slice(0, need), survivors.slice(survivors.length - need)]) {
                  const out = join(obj.dir, 'decoded');
                  const paths = [...placed.map((p) => p.path), ...pick.map((i) => obj.archives[i] as string)];
                  await decodeObject({ profile, archivePaths: paths, output: out, codec });
                  assert.equal(sha256(out), obj.sha256, `${label}: decoded with ${pick.join(',')}`);
                  rmSync(out);
                }
                const all = [...survivors.map((i) => obj.archives[i] as string), ...placed.map((p) => p.path)].map((p) => localArchiveSource(p));
                try {
                  const vs = await verifyStripeSet({ profile, sources: all, codec, ...(rebuild.crcKind ? { crcKind: rebuild.crcKind } : {}) });
                  assert.deepEqual(vs.problems, [], label);
                  assert.equal(vs.checkedBlocks, blocks);
                } finally {
                  await closeSources(all);
                }
                assert.deepEqual(obj.archives.map(fingerprint), before, `${label}: survivors untouched`);
              } finally {
                for (const site of sites) site.cleanup();
              }
            }
          } finally {
            obj.cleanup();
          }
        });
      }
    }
  }
});
