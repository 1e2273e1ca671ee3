// The encode command: reproducible placement, round trip through decode, both xattr
// namespaces, .mt files, and refusal to overwrite.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEcXattrsSync } from '../../shared/xrdec/xattrs.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { maskDosTimes } from '../helpers/zip-mask.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('ecguard encode (CLI)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ecguard-enc-cli-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const dirs = (tag: string, k: number): string[] => Array.from({ length: k }, (_, i) => {
    const d = join(root, `${tag}${i}`);
    mkdirSync(d);
    return d;
  });

  for (const size of [0, 1, 4095, 4096 * 8 * 3 + 17]) {
    it(`${size} bytes, 8+2, round trip through decode; same seed gives the same archives`, () => {
      const input = join(root, 'in.bin');
      const data = randomBytes(size);
      writeFileSync(input, data);
      const a = dirs('a', 10);
      const b = dirs('b', 10);
      const flags = ['--nbdata', '8', '--nbparity', '2', '--chunksize', '4096', '--crc32c', '--placement-seed', '42', '--strpver', '1700000000'];
      const r1 = runCliJson<{ filesize: number; blocks: number }>(['encode', ...flags, '--out-dirs', a.join(','), input]);
      assert.equal(r1.code, 0, r1.stderr);
      assert.equal(r1.json.filesize, size);
      assert.equal(runCli(['encode', ...flags, '--out-dirs', b.join(','), input]).code, 0);
      for (let i = 0; i < 10; i++) {
        const pa = readFileSync(join(a[i] as string, 'in.bin'));
        const pb = readFileSync(join(b[i] as string, 'in.bin'));
        assert.ok(maskDosTimes(pa).equals(maskDosTimes(pb)), `archive ${i} differs between two runs with one seed`);
        const xa = readEcXattrsSync(join(a[i] as string, 'in.bin'));
        assert.equal(xa.namespace, 'user.U.');
        assert.equal(xa.strpver, 1700000000);
        assert.equal(xa.filesize, size);
      }
      const out = join(root, 'out.bin');
      const archives = a.slice(2).map((d) => join(d, 'in.bin'));
      const d = runCli(['decode', '--nbdata', '8', '--nbparity', '2', '--chunksize', '4096', '--out', out, ...archives]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(sha(readFileSync(out)), sha(data));
    });
  }

  it('user. namespace, zip CRC-32 and .mt files; inspect agrees', () => {
    const input = join(root, 'obj');
    writeFileSync(input, randomBytes(10000));
    const a = dirs('s', 6);
    const r = runCli(['encode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--xattr-namespace', 'user.', '--mtfile', '--out-dirs', a.join(','), input]);
    assert.equal(r.code, 0, r.stderr);
    const insp = runCliJson<{ archives: { kind: string; crcKind?: string; problems: string[]; xattrs: { namespace?: string } }[] }>(
      ['inspect', '--verify', ...a.map((d) => join(d, 'obj')), ...a.map((d) => join(d, 'obj.mt'))]);
    assert.equal(insp.code, 0, JSON.stringify(insp.json));
    for (const x of insp.json.archives.filter((z) => z.kind === 'archive')) {
      assert.equal(x.crcKind, 'crc32');
      assert.equal(x.xattrs.namespace, 'user.');
    }
    assert.equal(insp.json.archives.filter((z) => z.kind === 'metadata').length, 6);
  });

  it('refuses to overwrite an existing archive and leaves it untouched', () => {
    const input = join(root, 'obj');
    writeFileSync(input, randomBytes(5000));
    const a = dirs('s', 6);
    writeFileSync(join(a[3] as string, 'obj'), 'existing data');
    const r = runCli(['encode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--out-dirs', a.join(','), input]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /never overwrites/);
    assert.equal(readFileSync(join(a[3] as string, 'obj'), 'utf8'), 'existing data');
    for (const [i, d] of a.entries()) if (i !== 3) assert.equal(existsSync(join(d, 'obj')), false, `no partial archive left in ${d}`);
  });

  it('bad input: exit 2 naming the problem', () => {
    const input = join(root, 'obj');
    writeFileSync(input, 'x');
    const a = dirs('s', 3);
    assert.match(runCli(['encode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--out-dirs', a.join(','), input]).stderr, /needs at least 6/);
    assert.match(runCli(['encode', '--nbdata', '2', '--nbparity', '1', '--chunksize', '1024', '--xattr-namespace', 'trusted.', '--out-dirs', a.join(','), input]).stderr, /--xattr-namespace/);
    assert.equal(runCli(['encode', '--nbdata', '2', '--nbparity', '1', '--chunksize', '1024', '--out-dirs', a.join(','), input, '--placement-seed', 'x']).code, 2);
  });
});
