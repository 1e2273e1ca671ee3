// Scrub on real files: the golden archives written by XrdEc scrub clean with the CRC kind their
// manifest names; a flipped bit, a truncated entry and a shredded directory are found and named
// (LFN from the Pfn, entry, recorded and read CRC); the scrub changes nothing (bytes, xattrs,
// atime); a saved cursor resumes after the last archive; the rate limit is asked for every
// entry's bytes; `ecguard scrub` exits 1 and lists the damaged file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { scrubArchive } from '../../../agent/scrub/archive-scrub.js';
import { runScrubPass, type LocalScrubFinding as ScrubFinding } from '../../../agent/scrub/scrub-pass.js';
import type { ScrubCursor } from '../../../agent/scrub/scrub-walk.js';
import { getCodec } from '../../../shared/codec/index.js';
import { readZipDirectoryFile } from '../../../shared/xrdec/archive-io.js';
import { makeArchiveTemplate, writeArchive } from '../../helpers/archive-factory.js';
import { runCli } from '../../helpers/cli.js';
import { makeFakeSite, type FakeSite } from '../../helpers/fake-site.js';
import { fixtureNames, loadFixture } from '../../helpers/fixtures.js';
import { treeSnapshot as snapshotTree } from '../../helpers/tree-snapshot.js';

const codec = getCodec();

describe('agent: scrub', () => {
  it('every golden XrdEc archive scrubs clean, with the CRC kind of its manifest', async () => {
    let checked = 0;
    for (const name of fixtureNames()) {
      const fx = loadFixture(name);
      try {
        for (const path of fx.archives) {
          const r = await scrubArchive(path, codec);
          assert.equal(r.error, undefined, `${name} ${path}`);
          assert.deepEqual(r.problems, [], `${name} ${path}`);
          const dir = await readZipDirectoryFile(path);
          assert.equal(r.entries, dir.entries.length);
          assert.equal(r.bytes, dir.entries.reduce((a, e) => a + e.size, 0));
          if (dir.entries.some((e) => e.size > 0)) assert.equal(r.crcKind, fx.manifest.digest, `${name}: CRC kind`);
          checked++;
        }
      } finally {
        fx.cleanup();
      }
    }
    assert.ok(checked > 100, `${checked} archives`);
    // and the objects' .mt files (zips of the archives' directories), checked like any zip
    let mt = 0;
    for (const name of fixtureNames()) {
      const fx = loadFixture(name);
      try {
        for (const f of fx.manifest.files.filter((x) => x.kind === 'metadata')) {
          const r = await scrubArchive(join(fx.dir, f.path), codec);
          assert.equal(r.error, undefined, `${name} ${f.path}`);
          assert.deepEqual(r.problems, []);
          assert.ok(r.entries > 0);
          mt++;
        }
      } finally {
        fx.cleanup();
      }
    }
    assert.ok(mt > 10, `${mt} .mt files`);
  });

  it('only xrootd data files in real bucket directories: other names, a FIFO, directory or symlink named like one, and a bucket swapped for a symlink are not read', async () => {
    const site = makeFakeSite({ disks: 1 });
    const outside = mkdtempSync(join(tmpdir(), 'ecguard-outside-'));
    try {
      const tpl = makeArchiveTemplate(9000);
      const good = site.store('/data/o/good', 0, (p) => writeArchive(p, tpl));
      const bucket = dirname(good);
      writeFileSync(join(bucket, 'notes.txt'), 'not an archive');
      writeArchive(join(bucket, 'stray.zip'), tpl);
      // names like data files that are not regular files: never opened
      execFileSync('mkfifo', [join(bucket, 'pipe%')]); // opening it for reading would block
      mkdirSync(join(bucket, 'dir%'));
      symlinkSync('/etc/passwd', join(bucket, 'link%'));
      // a corrupt "archive" outside the disk, reachable through a bucket that is a symlink
      writeFileSync(join(outside, 'evil%'), Buffer.alloc(5000, 1));
      symlinkSync(outside, join(site.disks[0]?.path ?? '', 'public', '7E'));
      const seen: string[] = [];
      const s = await runScrubPass({ disks: () => site.disks, exports: ['/data'], codec, onFinding: () => undefined, onArchive: (c) => void seen.push(`${c.bucket}/${c.name}`) });
      assert.deepEqual(seen, [good.slice((site.disks[0]?.path ?? '').length + 1)]);
      assert.equal(s.notArchives, 0);
    } finally {
      site.cleanup();
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a file rewritten while it is read gives no finding', async () => {
    const site = makeFakeSite({ disks: 1 });
    try {
      const tpl = makeArchiveTemplate(20_000);
      const p = site.store('/data/o/moving', 0, (x) => writeArchive(x, tpl));
      const b = readFileSync(p);
      b[100] = (b[100] as number) ^ 1; // inside entry 0's data: would be a CRC mismatch
      writeFileSync(p, b);
      let n = 0;
      const r = await scrubArchive(p, codec, { take: async () => {
        if (n++ === 2) appendFileSync(p, Buffer.alloc(10)); // xrootd writing meanwhile
      } });
      assert.deepEqual(r.problems, []);
      assert.equal(r.error?.code, 'CHANGED');
    } finally {
      site.cleanup();
    }
  });

  describe('a site with damage', () => {
    let site: FakeSite;
    const tpl = makeArchiveTemplate(9000);
    let good: string[];
    let flipped: string;
    let truncated: string;
    let shredded: string;
    before(async () => {
      site = makeFakeSite({ disks: 2 });
      good = Array.from({ length: 6 }, (_, i) => site.store(`/data/s/good${i}`, i % 2, (p) => writeArchive(p, tpl)));
      flipped = site.store('/data/s/flipped', 0, (p) => writeArchive(p, tpl));
      truncated = site.store('/data/s/truncated', 1, (p) => writeArchive(p, tpl));
      shredded = site.store('/data/s/shredded', 1, (p) => writeArchive(p, tpl));
      const dir = await readZipDirectoryFile(flipped);
      const e = dir.entries[1];
      assert.ok(e && e.size > 10);
      const bytes = readFileSync(flipped);
      const at = e.lfhOffset + 30 + e.name.length + 5; // inside the entry's data
      bytes[at] = (bytes[at] as number) ^ 0x10;
      writeFileSync(flipped, bytes);
      truncateSync(truncated, 200); // the directory is gone with the tail
      const sb = readFileSync(shredded);
      sb.fill(0x41, sb.length - 60); // the end records overwritten
      writeFileSync(shredded, sb);
    });
    after(() => site.cleanup());

    const pass = async (after?: ScrubCursor, take?: (n: number) => Promise<void>): Promise<{ findings: ScrubFinding[]; summary: Awaited<ReturnType<typeof runScrubPass>> }> => {
      const findings: ScrubFinding[] = [];
      const summary = await runScrubPass({ disks: () => site.disks, exports: ['/data'], ...(site.localroot ? { localroot: site.localroot } : {}), codec, ...(after ? { after } : {}), ...(take ? { take } : {}), onFinding: (f) => void findings.push(f) });
      return { findings, summary };
    };

    it('finds the flipped bit, names the file, entry and both CRCs; the broken archives are counted apart', async () => {
      const { findings, summary } = await pass();
      assert.equal(summary.complete, true);
      assert.equal(summary.archives, 7); // 6 good + the flipped one: the other two have no directory
      assert.equal(summary.notArchives, 2);
      assert.equal(summary.corruptArchives, 1);
      assert.equal(findings.length, 1);
      const f = findings[0] as ScrubFinding;
      assert.equal(f.lfn, '/data/s/flipped');
      assert.equal(f.path, flipped);
      assert.equal(f.diskId, site.disks[0]?.diskId);
      assert.equal(f.crcKind, 'crc32c');
      assert.equal(f.problems.length, 1);
      const p = f.problems[0];
      const e = (await readZipDirectoryFile(flipped)).entries[1];
      assert.equal(p?.name, e?.name);
      assert.equal(p?.kind, 'crc-mismatch');
      assert.equal(p?.block, e?.stripe?.block);
      assert.equal(p?.stripe, e?.stripe?.stripe);
      assert.equal(p?.expectedCrc, (e?.crc ?? 0) >>> 0);
      assert.notEqual(p?.foundCrc, p?.expectedCrc);
    });

    it('reads only: bytes, xattrs and atimes unchanged', async () => {
      const before = snapshotTree(site.root);
      const atimes = [...good, flipped].map((p) => statSync(p).atimeMs);
      await pass();
      assert.deepEqual(snapshotTree(site.root), before);
      assert.deepEqual([...good, flipped].map((p) => statSync(p).atimeMs), atimes);
    });

    it('a cursor resumes after the last archive it names; every entry\'s bytes go through the rate limit', async () => {
      const all: ScrubCursor[] = [];
      let asked = 0;
      const first = await runScrubPass({ disks: () => site.disks, exports: ['/data'], codec, take: async (n) => void (asked += n), onFinding: () => undefined, onArchive: (c) => void all.push(c) });
      assert.equal(all.length, 9);
      assert.ok(asked >= first.bytes + 7 * 22, `${asked} bytes asked for, ${first.bytes} of entries read (+ each directory read)`);
      const mid = all[4] as ScrubCursor;
      const seen: ScrubCursor[] = [];
      await runScrubPass({ disks: () => site.disks, exports: ['/data'], codec, after: mid, onFinding: () => undefined, onArchive: (c) => void seen.push(c) });
      assert.deepEqual(seen, all.slice(5));
    });

    it('stops at once when its signal is aborted, without a cursor past what it finished', async () => {
      const ac = new AbortController();
      const done: ScrubCursor[] = [];
      const s = await runScrubPass({ disks: () => site.disks, exports: ['/data'], codec, signal: ac.signal, onFinding: () => undefined, onArchive: (c) => {
        done.push(c);
        if (done.length === 3) ac.abort();
      } });
      assert.equal(s.complete, false);
      assert.deepEqual(s.cursor, done[2]);
    });

    it('an archive already known corrupt (same file) is skipped, not read or reported again', async () => {
      const findings: ScrubFinding[] = [];
      const s = await runScrubPass({ disks: () => site.disks, exports: ['/data'], codec, onFinding: (f) => void findings.push(f), known: (_d, dataPath) => flipped.endsWith(dataPath) });
      assert.equal(findings.length, 0);
      assert.equal(s.skippedKnown, 1);
      assert.equal(s.archives, 6);
    });

    it('`ecguard scrub` exits 1 and lists the damaged file; --json names it too', () => {
      const cfg = `${site.root}/xrootd.cfg`;
      writeFileSync(cfg, `all.export /data\noss.localroot ${site.localroot}\n${site.disks.map((d) => `oss.space ${d.space} ${d.path}`).join('\n')}\n`);
      const text = runCli(['scrub', '--xrootd-config', cfg, '--mbps', '0']);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /^7 archives, \d+ entries, .* read: 1 archive\(s\) with corrupt or unreadable entries$/m);
      assert.match(text.stdout, /2 data file\(s\) are not readable XrdEc archives/);
      assert.match(text.stdout, /\/data\/s\/flipped/);
      const json = runCli(['scrub', '--xrootd-config', cfg, '--json']);
      assert.equal(json.code, 1, json.stderr);
      const r = JSON.parse(json.stdout) as { summary: { corruptArchives: number }; findings: { lfn: string; problems: { expectedCrc: string }[] }[] };
      assert.equal(r.summary.corruptArchives, 1);
      assert.equal(r.findings[0]?.lfn, '/data/s/flipped');
      assert.match(r.findings[0]?.problems[0]?.expectedCrc ?? '', /^[0-9a-f]{8}$/);
      const bad = runCli(['scrub', '--xrootd-config', cfg, '--mbps', 'fast']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--mbps/);
    });
  });
});
