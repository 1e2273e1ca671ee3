// The inspect and decode commands, run as an operator would: real files, real xattrs, exit codes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { loadFixture, type FixtureCase } from '../helpers/fixtures.js';
import { runCli, runCliJson } from '../helpers/cli.js';

const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Overwrites a few bytes in the middle of an entry's data. */
function corruptEntry(path: string, index: number): string {
  const e = readZipDirectoryFileSync(path).entries[index];
  assert.ok(e && e.size > 8);
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from('ROT!'), 0, 4, e.lfhOffset + 30 + e.name.length + 4);
  closeSync(fd);
  return e.name;
}

describe('ecguard inspect / decode (CLI)', () => {
  let fx: FixtureCase;
  beforeEach(() => {
    fx = loadFixture('case-4p2-c1024-crc32c-mt-multi-partial');
  });
  afterEach(() => fx.cleanup());

  it('inspect --verify --json: every archive ok, exit 0', () => {
    const r = runCliJson<{ archives: { problems: string[]; crcKind: string; entries: unknown[]; xattrs: { strpver: number } }[] }>(['inspect', '--verify', ...fx.archives]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.archives.length, 6);
    for (const a of r.json.archives) {
      assert.deepEqual(a.problems, []);
      assert.equal(a.crcKind, 'crc32c');
      assert.equal(a.entries.length, fx.manifest.blocks);
    }
  });

  it('inspect of the .mt file lists one member per archive', () => {
    const r = runCliJson<{ archives: { kind: string; entries: unknown[]; problems: string[] }[] }>(['inspect', join(fx.dir, 'server-0', 'file.dat.mt')]);
    assert.equal(r.code, 0);
    assert.equal(r.json.archives[0]?.kind, 'metadata');
    assert.equal(r.json.archives[0]?.entries.length, 6);
  });

  it('inspect --verify finds a corrupt entry: exit 1, names the entry', () => {
    const name = corruptEntry(fx.archives[3] as string, 1);
    const r = runCli(['inspect', '--verify', fx.archives[3] as string]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`problem: ${name.replace(/\./g, '\\.')}: CRC mismatch`));
    // without --verify the directory alone looks fine
    assert.equal(runCli(['inspect', fx.archives[3] as string]).code, 0);
  });

  it('inspect of garbage: typed error with offset, exit 1', () => {
    const junk = join(fx.dir, 'junk');
    writeFileSync(junk, 'this is not a zip at all');
    const r = runCliJson<{ archives: { error: { code: string; offset: number } }[] }>(['inspect', junk]);
    assert.equal(r.code, 1);
    assert.equal(r.json.archives[0]?.error.code, 'NOT_A_ZIP');
    assert.equal(r.json.archives[0]?.error.offset, 0);
  });

  it('decode skips corrupt entries and older-strpver debris, and rebuilds the original', () => {
    corruptEntry(fx.archives[0] as string, 0);
    corruptEntry(fx.archives[1] as string, 2);
    // server-5's archive becomes debris: an older version of the object
    setAttributeSync(fx.archives[5] as string, 'user.xrdec.strpver', Buffer.from('1000'));
    const out = join(fx.dir, 'rebuilt');
    const r = runCliJson<{ used: string[]; ignored: { path: string; reason: string }[]; badEntries: { entry: string }[]; blocksRebuilt: number }>(
      ['decode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--out', out, ...fx.archives.slice().reverse()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(out), fx.manifest.sha256);
    assert.equal(r.json.used.length, 5);
    assert.equal(r.json.ignored.length, 1);
    assert.match(r.json.ignored[0]?.reason ?? '', /older than the newest/);
    assert.ok(r.json.badEntries.length >= 1);
    assert.ok(r.json.blocksRebuilt >= 1);
  });

  it('decode with too few good stripes: exit 1, TOO_FEW_STRIPES, no output file', () => {
    const out = join(fx.dir, 'rebuilt');
    const r = runCli(['decode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--out', out, ...fx.archives.slice(0, 3)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TOO_FEW_STRIPES/);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(out + '.ecguard-partial'), false);
  });

  it('decode with bad flags: exit 2 and a message naming the flag; nothing written', () => {
    const out = join(fx.dir, 'rebuilt');
    for (const [args, re] of [
      [['--nbdata', 'four', '--nbparity', '2', '--chunksize', '1024'], /--nbdata/],
      [['--nbdata', '4', '--nbparity', '0', '--chunksize', '1024'], /--nbparity/],
      [['--nbparity', '2', '--chunksize', '1024'], /--nbdata N --nbparity M --chunksize C/],
      [['--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--size', '-5'], /--size/],
    ] as const) {
      const r = runCli(['decode', ...args, '--out', out, ...fx.archives]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(existsSync(out), false);
    }
    assert.equal(runCli(['decode', '--bogus']).code, 2);
  });

  it('decode refuses to replace an existing output unless --force', () => {
    const out = join(fx.dir, 'rebuilt');
    writeFileSync(out, 'precious');
    const args = ['decode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--out', out, ...fx.archives];
    assert.equal(runCli(args).code, 1);
    assert.equal(readFileSync(out, 'utf8'), 'precious');
    assert.equal(runCli([...args, '--force']).code, 0);
    assert.equal(sha256(out), fx.manifest.sha256);
  });
});
