// The writer reproduces the reference archives: for each fixture's input and recorded placement,
// encode yields the same entries (names, sizes, CRCs, bytes), the same archive bytes apart from
// DOS time/date, the same xattrs, and `.mt` files of the same structure.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCodec } from '../../shared/codec/index.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';
import { readEcXattrsSync } from '../../shared/xrdec/xattrs.js';
import { readMetadataFile } from '../../shared/xrdec/mt-file.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { endRecords } from '../../shared/xrdec/zip-layout.js';
import { fixtureNames, loadFixture, placementOf, type FixtureCase } from '../helpers/fixtures.js';
import { maskDosTimes } from '../helpers/zip-mask.js';

describe('golden fixtures: writer reproduces the reference', () => {
  for (const name of fixtureNames()) {
    it(name, async () => {
      const fx: FixtureCase = loadFixture(name);
      const codec = getCodec({ prefer: 'native' });
      const out = mkdtempSync(join(tmpdir(), 'ecguard-enc-'));
      try {
        const m = fx.manifest;
        const dirs = m.servers.map((s) => join(out, s));
        dirs.forEach((d) => mkdirSync(d));
        const strpver = Number(Buffer.from(m.files[0]?.xattrs_hex['user.xrdec.strpver'] ?? '', 'hex').toString());
        encodeObject({
          profile: { nbData: m.nbdata, nbParity: m.nbparity, chunkSize: m.chunksize },
          crcKind: m.digest, input: fx.original, archivePaths: dirs.map((d) => join(d, m.object)),
          placement: placementOf(m), xattrNamespace: 'user.', mtFile: !m.nomtfile, strpver, codec,
        });
        for (const f of m.files) {
          const ref = readFileSync(join(fx.dir, f.path));
          const mine = readFileSync(join(out, f.path));
          assert.equal(mine.length, ref.length, `${f.path} size`);
          const names = f.kind === 'metadata' ? 'any' : 'xrdec';
          assert.ok(maskDosTimes(mine, names).equals(maskDosTimes(ref, names)), `${f.path} bytes (DOS times masked)`);
          if (f.kind === 'metadata') {
            // member i is archive i's CD + EOCD byte for byte, with a CRC of the object's kind
            const { members } = await readMetadataFile(join(out, f.path));
            assert.equal(members.length, m.servers.length);
            for (const mem of members) {
              const tail = archiveTail(join(out, m.servers[mem.index] as string, m.object));
              assert.ok(mem.bytes.equals(tail), `member ${mem.index} equals archive ${mem.index}'s directory`);
              assert.equal(mem.crc, m.digest === 'crc32c' ? codec.crc32c(mem.bytes) : codec.crc32(mem.bytes));
            }
          }
          if (f.kind === 'archive') {
            const xa = readEcXattrsSync(join(out, f.path));
            assert.deepEqual(xa.raw, Object.fromEntries(Object.entries(f.xattrs_hex).map(([k, v]) => [k, Buffer.from(v, 'hex').toString()])));
          }
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});

/** An archive's CD + end records (for the empty archive: the bare EOCD XrdEc puts in .mt). */
function archiveTail(path: string): Buffer {
  const dir = readZipDirectoryFileSync(path);
  return dir.empty ? endRecords(0, 0, 0) : dir.tail;
}
