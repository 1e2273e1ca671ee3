// Bad sources: a flipped bit is caught by the CRC and another stripe used; too few good stripes
// (found up front or only while streaming) is TOO_FEW_SOURCES and leaves nothing on any disk;
// sources that disagree on the version are refused, older versions are not used.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { getCodec } from '../../shared/codec/index.js';
import { decodeObject } from '../../shared/xrdec/object-decoder.js';
import { rebuildStripes } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import { closeSources, localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { verifyArchive } from '../../agent/repair/verify-archive.js';
import { writeRebuild } from '../../agent/repair/write-rebuild.js';
import { makeFakeSite } from '../helpers/fake-site.js';
import { encodeRandomObject, fingerprint, flipBit, rebuildOntoSites, sha256, stripeMap, treeOf, type EncodedObject } from './repair-harness.js';

const codec = getCodec();
const profile = { nbData: 4, nbParity: 2, chunkSize: 1024 };
const size = 3 * 4096 + 1500;
const isCode = (code: string) => (e: Error & { code?: string }) => e.code === code;

/** The archive holding stripe `stripe` of block `block`. */
function holder(obj: EncodedObject, block: number, stripe: number): number {
  return obj.archives.findIndex((a) => stripeMap(a).get(block)?.includes(stripe));
}

describe('repair: bad sources', function () {
  this.timeout(120_000);
  let obj: EncodedObject;
  let base: string;
  beforeEach(() => {
    obj = encodeRandomObject({ profile, size, crcKind: 'crc32c', seed: 42, codec });
    base = mkdtempSync(join(tmpdir(), 'ecguard-rep-sites-'));
  });
  afterEach(() => {
    obj.cleanup();
    rmSync(base, { recursive: true, force: true });
  });

  it('detects a flipped bit by CRC and rebuilds from another stripe', async () => {
    const lost = holder(obj, 1, 5);
    const bad = holder(obj, 1, 0); // a data stripe: always among the first read
    flipBit(obj.archives[bad] as string, 'obj.1.0', 100);
    const before = obj.archives.map(fingerprint);
    const survivors = obj.archives.filter((_, i) => i !== lost);
    const { rebuild, placed } = await rebuildOntoSites({ profile, codec, targets: 1, lfn: '/data/f', taskId: 'c1', sourcePaths: survivors, base });
    assert.deepEqual(rebuild.badEntries.map((b) => [b.source, b.entry, /CRC mismatch/.test(b.reason)]), [[obj.archives[bad], 'obj.1.0', true]]);
    const p = placed[0];
    assert.ok(p);
    const v = await verifyArchive(p.path, { entries: rebuild.expectedEntries(0), crcKind: 'crc32c', version: rebuild.version, pfn: p.linkPath }, codec);
    assert.deepEqual(v.problems, []);
    // Decoding through the rebuilt archive, without the corrupt one, gives the input back.
    const others = obj.archives.filter((_, i) => i !== lost && i !== bad).slice(0, 3);
    const out = join(base, 'out');
    await decodeObject({ profile, archivePaths: [p.path, ...others], output: out, codec });
    assert.equal(sha256(out), obj.sha256);
    assert.deepEqual(obj.archives.map(fingerprint), before, 'survivors (even the corrupt one) untouched');
  });

  it('fails with TOO_FEW_SOURCES while streaming, after placements opened, and leaves nothing', async () => {
    // Two archives lost: exactly N held per block; one bad entry in block 2 leaves N-1 good.
    const lost = [holder(obj, 0, 0), holder(obj, 0, 1)];
    const survivors = obj.archives.filter((_, i) => !lost.includes(i));
    const victim = survivors.find((a) => stripeMap(a).has(2)) as string;
    flipBit(victim, `obj.2.${stripeMap(victim).get(2)?.[0] as number}`, 3);
    const before = obj.archives.map(fingerprint);
    const sites = [makeFakeSite({ base, disks: 1 }), makeFakeSite({ base, disks: 1 })];
    const trees = sites.map((s) => treeOf(s.root));
    const sources = survivors.map((p) => localArchiveSource(p));
    try {
      const rebuild = await rebuildStripes({ profile, codec, targets: 2, sources });
      const targets = sites.map((s, slot) => ({ diskPath: s.disks[0]?.path as string, space: 'public', linkPath: `${s.localroot}/data/f`, namespaceRoot: s.nsRoot, taskId: 'c2', slot }));
      await assert.rejects(writeRebuild(rebuild, targets), (e: Error & { code?: string }) => e.code === 'TOO_FEW_SOURCES' && /^block 2:/.test(e.message));
    } finally {
      await closeSources(sources);
    }
    sites.forEach((s, i) => {
      // At most an empty bucket directory appeared: no data file, no temp file, no link, no ledger.
      const after = treeOf(s.root).filter((e) => !/^disk\/sda\/public\/[0-9A-F]{2}\/$/.test(e));
      assert.deepEqual(after, trees[i]);
    });
    assert.deepEqual(obj.archives.map(fingerprint), before);
  });

  it('refuses up front when a block has fewer than N stripes held', async () => {
    const survivors = obj.archives.slice(3);
    await assert.rejects(
      rebuildOntoSites({ profile, codec, targets: 3, lfn: '/data/f', taskId: 'c4', sourcePaths: survivors, base }),
      (e: Error & { code?: string }) => e.code === 'TOO_FEW_SOURCES' && /block 0: .* 3 of the 4/.test(e.message),
    );
    assert.deepEqual(treeOf(base), []);
  });

  it('refuses sources that disagree on filesize, and a task planned for another version', async () => {
    const survivors = obj.archives.slice(1);
    setAttributeSync(survivors[0] as string, 'user.U.xrdec.filesize', Buffer.from(String(size + 1)));
    await assert.rejects(rebuildOntoSites({ profile, codec, targets: 1, lfn: '/data/f', taskId: 'c5', sourcePaths: survivors, base }), isCode('SOURCES_DISAGREE'));
    setAttributeSync(survivors[0] as string, 'user.U.xrdec.filesize', Buffer.from(String(size)));
    await assert.rejects(
      rebuildOntoSites({ profile, codec, targets: 1, lfn: '/data/f', taskId: 'c5', sourcePaths: survivors, base, expected: { strpver: obj.strpver - 1 } }),
      isCode('SOURCES_DISAGREE'),
    );
    assert.deepEqual(treeOf(base), []);
  });

  it('does not use a source of an older strpver (its stripes count as missing)', async () => {
    const survivors = obj.archives.slice(1);
    const old = survivors[0] as string;
    setAttributeSync(old, 'user.U.xrdec.strpver', Buffer.from(String(obj.strpver - 100)));
    const { rebuild, placed } = await rebuildOntoSites({ profile, codec, targets: 2, lfn: '/data/f', taskId: 'c6', sourcePaths: survivors, base });
    assert.ok(!rebuild.used.includes(old));
    assert.match(rebuild.ignored.find((i) => i.id === old)?.reason ?? '', /older/);
    const out = join(base, 'out');
    const fresh = survivors.slice(1, 3);
    await decodeObject({ profile, archivePaths: [...placed.map((p) => p.path), ...fresh], output: out, codec });
    assert.equal(sha256(out), obj.sha256);
  });
});
