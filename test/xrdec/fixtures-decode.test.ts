// Decoding the golden objects from every N-subset of their archives, with both codecs: equal
// to the original bytes whenever the subset covers every block with N stripes (always, for
// K = N+M), and a TOO_FEW_STRIPES error otherwise (the k7-irregular case).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TsCodec } from '../../shared/codec/ts-codec.js';
import { getCodec } from '../../shared/codec/index.js';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { decodeObject, DecodeError } from '../../shared/xrdec/object-decoder.js';
import { combinations, fixtureNames, loadFixture, placementOf, type FixtureCase } from '../helpers/fixtures.js';

const codecs: ErasureCodec[] = [getCodec({ prefer: 'native' }), new TsCodec()];
const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('golden fixtures: decode from every N-subset', () => {
  for (const name of fixtureNames()) {
    describe(name, () => {
      let fx: FixtureCase;
      before(() => {
        fx = loadFixture(name);
      });
      after(() => fx.cleanup());

      for (const codec of codecs) {
        it(`${codec.name} codec`, async () => {
          const m = fx.manifest;
          const profile = { nbData: m.nbdata, nbParity: m.nbparity, chunkSize: m.chunksize };
          const placement = placementOf(m);
          const servers = m.servers.map((_, i) => i);
          let decoded = 0;
          let refused = 0;
          // With K > N+M some archives lack whole blocks, so also try the larger subsets.
          const sizes = m.servers.length > m.nbdata + m.nbparity ? servers.slice(m.nbdata).map((_, i) => m.nbdata + i) : [m.nbdata];
          for (const subset of sizes.flatMap((k) => [...combinations(servers, k)])) {
            const covered = placement.every((row) => row.filter((srv) => subset.includes(srv)).length >= m.nbdata);
            const out = join(fx.dir, `out-${codec.name}-${subset.join('-')}`);
            // Any order: reverse the subset so archive order never matches server order.
            const paths = subset.map((i) => fx.archives[i] as string).reverse();
            if (covered) {
              const r = await decodeObject({ profile, archivePaths: paths, output: out, codec });
              assert.equal(sha256(out), m.sha256, `subset ${subset.join(',')}`);
              assert.equal(r.filesize, m.file_size);
              assert.deepEqual(r.badEntries, []);
              rmSync(out);
              decoded++;
            } else {
              await assert.rejects(decodeObject({ profile, archivePaths: paths, output: out, codec }), (e: unknown) => e instanceof DecodeError && e.code === 'TOO_FEW_STRIPES');
              assert.throws(() => readFileSync(out), /ENOENT/, 'no output left behind');
              refused++;
            }
          }
          assert.ok(decoded > 0);
          if (m.servers.length === m.nbdata + m.nbparity) assert.equal(refused, 0);
        });
      }
    });
  }
});
