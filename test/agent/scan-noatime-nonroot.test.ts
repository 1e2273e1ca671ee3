// An agent that does not run as root (nor as the files' owner) may not open with O_NOATIME:
// the kernel answers EPERM. The readers then open without it; without that fallback every
// data file would be an EPERM finding and the disk would look empty. Proven by a child that
// loads the readers as root, drops to `nobody`, and must read what root reads.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readBucketJs, type BucketListing } from '../../agent/scan/bucket-reader-js.js';
import { makeArchiveTemplate, writeArchive } from '../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

const NOBODY = 65534;
const dist = (rel: string): string => pathToFileURL(join(import.meta.dirname, '..', '..', rel)).href;

/** What a reading yields that must not depend on who reads: per file, errors, sizes, xattrs, tail. */
function digest(l: BucketListing): string[] {
  return l.files
    .map((f) => `${f.name} ${f.error ? `${f.error.step}:${f.error.code}` : 'ok'} ${f.size} ${f.xattrs.map((x) => (x === undefined ? '-' : Buffer.from(x).toString('hex'))).join(',')} ${Buffer.from(f.tail).toString('hex').slice(-64)}`)
    .sort();
}

// The child: import as root, then setgid/setuid nobody, then read every bucket both ways.
const CHILD = `
const js = await import(process.env.JS_READER);
const nat = await import(process.env.NATIVE_READER);
const { loadNativeAddon } = await import(process.env.NATIVE_CODEC);
const reader = nat.nativeBucketReader(loadNativeAddon());
process.setgroups([]); process.setgid(${NOBODY}); process.setuid(${NOBODY});
const buckets = JSON.parse(process.env.BUCKETS);
const hex = (b) => Buffer.from(b).toString('hex');
const plain = (l) => ({ ...l, files: l.files.map((f) => ({ ...f, xattrs: f.xattrs.map((x) => (x === undefined ? null : hex(x))), tail: hex(f.tail) })) });
process.stdout.write(JSON.stringify({ uid: process.getuid(), js: buckets.map((d) => plain(js.readBucketJs(d))), native: buckets.map((d) => plain(reader(d))) }));
`;

interface ChildListing {
  files: (Omit<BucketListing['files'][number], 'xattrs' | 'tail'> & { xattrs: (string | null)[]; tail: string })[];
  error?: string;
}
const revive = (l: ChildListing): BucketListing =>
  ({ ...l, files: l.files.map((f) => ({ ...f, xattrs: f.xattrs.map((x) => (x === null ? undefined : Buffer.from(x, 'hex'))), tail: Buffer.from(f.tail, 'hex') })) }) as BucketListing;

describe('scan as a user that may not use O_NOATIME', () => {
  let site: FakeSite | undefined;
  afterEach(() => site?.cleanup());

  it('reads every file as root does (EPERM on O_NOATIME → opened without it), JS and native reader', function () {
    if (process.getuid?.() !== 0) this.skip(); // needs root to drop to nobody (CI runs as root)
    site = makeFakeSite({ base: '/dev/shm' });
    const small = makeArchiveTemplate(3000);
    const big = makeArchiveTemplate(100_000);
    for (let i = 0; i < 12; i++) site.store(`/data/f${i}`, i % 2, (p) => writeArchive(p, i % 3 ? small : big));
    const buckets = site.disks.flatMap((d) => readdirSync(join(d.path, d.space)).map((b) => join(d.path, d.space, b)));
    // Root-owned files (0644) in directories nobody may traverse and list.
    chmodSync(site.root, 0o755);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: {
        ...process.env, BUCKETS: JSON.stringify(buckets),
        JS_READER: dist('agent/scan/bucket-reader-js.js'), NATIVE_READER: dist('agent/scan/bucket-reader-native.js'), NATIVE_CODEC: dist('shared/codec/native-codec.js'),
      },
      encoding: 'utf8',
    });
    const got = JSON.parse(out) as { uid: number; js: ChildListing[]; native: ChildListing[] };
    assert.equal(got.uid, NOBODY);
    const want = buckets.map((d) => digest(readBucketJs(d)));
    assert.equal(want.flat().length, 12);
    assert.ok(want.flat().every((l) => / ok /.test(l)), 'root reads every file');
    assert.deepEqual(got.js.map((l) => digest(revive(l))), want, 'JS reader as nobody');
    assert.deepEqual(got.native.map((l) => digest(revive(l))), want, 'native reader as nobody');
  });
});
