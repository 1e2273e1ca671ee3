// Reading the golden archives written by the reference XrdEc library: every archive parses,
// entries equal the manifest, every CRC verifies, parity recomputes byte-identically.
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { TsCodec } from '../../shared/codec/ts-codec.js';
import { getCodec } from '../../shared/codec/index.js';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { readEntrySync, readZipDirectorySync } from '../../shared/xrdec/archive-io.js';
import { inspectArchive } from '../../shared/xrdec/archive-inspect.js';
import { codingLength } from '../../shared/xrdec/profile.js';
import { readEcXattrsSync } from '../../shared/xrdec/xattrs.js';
import { fixtureNames, loadFixture, type FixtureCase } from '../helpers/fixtures.js';

const codecs: ErasureCodec[] = [getCodec({ prefer: 'native' }), new TsCodec()];

describe('golden fixtures: reading', () => {
  for (const name of fixtureNames()) {
    describe(name, () => {
      let fx: FixtureCase;
      before(() => {
        fx = loadFixture(name);
      });
      after(() => fx.cleanup());

      it('parses every archive; entries, sizes, offsets and CRCs equal the manifest', () => {
        for (const f of fx.manifest.files.filter((x) => x.kind === 'archive')) {
          const fd = openSync(`${fx.dir}/${f.path}`, 'r');
          try {
            const dir = readZipDirectorySync(fd);
            assert.equal(dir.archiveSize, f.size);
            assert.equal(dir.empty, f.size === 0);
            const got = dir.entries.map((e) => ({ name: e.name, size: e.size, crc: (e.crc >>> 0).toString(16).padStart(8, '0'), lfh_offset: e.lfhOffset }));
            const want = (f.entries ?? []).map((e) => ({ name: e.name, size: e.size, crc: e.crc, lfh_offset: e.lfh_offset }));
            assert.deepEqual(got, want);
            // data offsets: the entry bytes come from where the manifest says
            for (const [i, e] of dir.entries.entries()) {
              const m = f.entries?.[i];
              assert.ok(m);
              assert.equal(e.lfhOffset + 30 + e.name.length, m.data_offset);
              assert.equal(readEntrySync(fd, dir, e).length, e.size);
            }
          } finally {
            closeSync(fd);
          }
          const xa = readEcXattrsSync(`${fx.dir}/${f.path}`);
          assert.equal(xa.namespace, 'user.');
          assert.equal(String(xa.filesize), Buffer.from(f.xattrs_hex['user.xrdec.filesize'] ?? '', 'hex').toString());
          assert.equal(String(xa.strpver), Buffer.from(f.xattrs_hex['user.xrdec.strpver'] ?? '', 'hex').toString());
        }
      });

      it('inspect --verify passes with the right CRC kind and stripe map', async () => {
        for (const [server, path] of fx.archives.entries()) {
          const r = await inspectArchive(path, codecs[0] as ErasureCodec, true);
          assert.deepEqual(r.problems, [], `${path}: ${r.problems.join('; ')}`);
          const hasData = r.entries.some((e) => e.size > 0);
          assert.equal(r.crcKind, hasData ? fx.manifest.digest : 'unknown');
          assert.ok(r.entries.every((e) => e.crcOk === true));
          for (let b = 0; b < fx.manifest.blocks; b++) {
            const row = fx.manifest.placement[String(b)] ?? {};
            const want = Object.entries(row).filter(([, srv]) => srv === server).map(([s]) => Number(s)).sort((x, y) => x - y);
            assert.deepEqual(r.stripesByBlock?.[String(b)] ?? [], want, `${path} block ${b}`);
          }
        }
      });

      for (const codec of codecs) {
        it(`recomputes every parity entry byte-identically (${codec.name} codec)`, () => {
          const m = fx.manifest;
          const p = { nbData: m.nbdata, nbParity: m.nbparity, chunkSize: m.chunksize };
          const fds = fx.archives.map((a) => openSync(a, 'r'));
          try {
            const dirs = fds.map((fd) => readZipDirectorySync(fd));
            const find = (b: number, s: number): Buffer => {
              for (const [i, dir] of dirs.entries()) {
                const e = dir.entries.find((x) => x.stripe?.block === b && x.stripe.stripe === s);
                if (e) return readEntrySync(fds[i] as number, dir, e);
              }
              throw new Error(`no obj.${b}.${s}`);
            };
            for (let b = 0; b < m.blocks; b++) {
              const len = codingLength(p, m.file_size, b);
              const data = Array.from({ length: m.nbdata }, (_, s) => {
                const buf = Buffer.alloc(len);
                find(b, s).copy(buf);
                return buf;
              });
              const parity = codec.encode(m.nbdata, m.nbparity, data, len);
              for (let j = 0; j < m.nbparity; j++) assert.ok(find(b, m.nbdata + j).equals(parity[j] as Buffer), `block ${b} parity ${j}`);
            }
          } finally {
            fds.forEach((fd) => closeSync(fd));
          }
        });
      }
    });
  }
});
