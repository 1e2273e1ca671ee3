// Proves, against a real XRootD 5.5.3 data server, the namespace/disk facts of
// XRDEC-FORMAT.md §A that ecguard relies on: symlink → data file layout, Pfn, user.U.* attrs,
// mv/rm behaviour, and what a lost disk leaves behind.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { listAttributesSync } from 'fs-xattr';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.js';
import { claimsOf, linkTarget, parseDataFileName, readDataFileFacts, withDiskGone, withDiskUnreadable } from '../helpers/xrootd-layout.js';

for (const localroot of [true, false]) {
  describe(`xrootd data server layout (§A, ${localroot ? 'with' : 'without'} oss.localroot)`, function () {
    let srv: XrootdServer;
    let tmp: string;
    let src: string;
    let t0: number;
    const lfn = (p: string): string => `${srv.export}${p}`;
    const put = (l: string, force = false): void => void srv.xrdcp([...(force ? ['-f'] : []), src, srv.lfnUrl(l)]);
    const diskOf = (target: string): number => srv.disks.findIndex((d) => target.startsWith(`${d}/`));

    /** Creates `<base>-<i>` until one lands on disk `idx` (placement alternates between disks). */
    function putOn(idx: number, base: string): string {
      for (let i = 0; i < 8; i++) {
        const l = lfn(`${base}-${i}`);
        put(l);
        if (diskOf(linkTarget(srv.nsPath(l))) === idx) return l;
      }
      throw new Error(`no create landed on ${srv.disks[idx]}`);
    }

    before(async function () {
      t0 = Math.floor(Date.now() / 1000);
      srv = await startXrootd({ localroot });
      tmp = mkdtemp();
      src = join(tmp, 'src.bin');
      writeFileSync(src, randomBytes(1000));
    });
    after(async function () {
      await srv?.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('stores a file as an absolute symlink <localroot><LFN> → <disk>/<space>/<XX>/<name>%', function () {
      const l = lfn('/dir/f1');
      put(l);
      const link = srv.nsPath(l);
      assert.equal(link, localroot ? `${srv.root}/ns/data/dir/f1` : l);
      assert.ok(lstatSync(link).isSymbolicLink());
      const target = linkTarget(link);
      assert.ok(isAbsolute(target), target);
      const disk = srv.disks[diskOf(target)];
      assert.ok(disk, `${target} is on no configured disk`);
      const m = /^public\/([0-9A-F]{2})\/([^/]+)$/.exec(target.slice(disk.length + 1));
      assert.ok(m, target);
      const [, bucket, name] = m as unknown as [string, string, string];
      assert.equal(name.length, 40, `name ${name} (36 chars of fields + 4-char suffix)`);
      const f = parseDataFileName(name);
      assert.ok(f, `unexpected name shape ${name}`);
      assert.equal(f.spaceOffset, (disk.length + 1) % 256, 'suffix hex digits 1-2 = length of <diskdir>/');
      assert.equal(target.slice(f.spaceOffset, f.spaceOffset + 'public'.length), 'public');
      assert.equal(f.spaceLen, 'public'.length);
      assert.equal(bucket, (f.counter & 0xff).toString(16).toUpperCase().padStart(2, '0'), 'XX = counter low byte');
      assert.equal(f.pid, srv.pid);
      assert.ok(f.startTime >= t0 - 2 && f.startTime <= Date.now() / 1000, `start time ${f.startTime}`);
      // Observed: the two "port" bytes are zero (so is §A's own example); the address follows.
      assert.equal(f.portHex.slice(0, 4), '0000');
      assert.ok(statSync(target).isFile());
      assertOnlyDirsAndLinks(srv.nsRoot);
    });

    it('data file carries user.XrdFrm.Pfn = <localroot><LFN> + NUL; directories carry no xattrs', function () {
      const l = lfn('/pfn/with space');
      put(l);
      const facts = readDataFileFacts(linkTarget(srv.nsPath(l)));
      assert.deepEqual(facts.pfnRaw, Buffer.from(`${srv.nsPath(l)}\0`));
      assert.deepEqual(facts.names, ['user.XrdFrm.Pfn']);
      assert.deepEqual(listAttributesSync(dirname(srv.nsPath(l))), []);
    });

    it('client xattrs land as user.U.<k>, raw bytes without NUL; clients cannot read or forge the Pfn', function () {
      const l = lfn('/attrs/f');
      put(l);
      srv.xrdfs(['xattr', l, 'set', 'xrdec.strpver=123']);
      assert.match(srv.xrdfs(['xattr', l, 'get', 'xrdec.strpver']), /xrdec\.strpver="123"/);
      const pfnRead = srv.tryXrdfs(['xattr', l, 'get', 'XrdFrm.Pfn']);
      assert.notEqual(pfnRead.status, 0);
      assert.match(pfnRead.stderr, /\[3027\]/);
      srv.xrdfs(['xattr', l, 'set', 'XrdFrm.Pfn=/evil']);
      const facts = readDataFileFacts(linkTarget(srv.nsPath(l)));
      assert.deepEqual(facts.userAttrs['xrdec.strpver'], Buffer.from('123'));
      assert.deepEqual(facts.userAttrs['XrdFrm.Pfn'], Buffer.from('/evil'));
      assert.equal(facts.pfn, srv.nsPath(l));
    });

    it('xrdcp -f rewrites the same data file in place and keeps user.U.*', function () {
      const l = lfn('/over/f');
      put(l);
      srv.xrdfs(['xattr', l, 'set', 'xrdec.filesize=1000']);
      const target = linkTarget(srv.nsPath(l));
      const ino = statSync(target).ino;
      const other = join(tmp, 'other.bin');
      writeFileSync(other, randomBytes(3000));
      srv.xrdcp(['-f', other, srv.lfnUrl(l)]);
      assert.equal(linkTarget(srv.nsPath(l)), target);
      assert.equal(statSync(target).ino, ino);
      assert.deepEqual(readFileSync(target), readFileSync(other));
      assert.deepEqual(readDataFileFacts(target).userAttrs['xrdec.filesize'], Buffer.from('1000'));
    });

    it('mv of a file renames the symlink and rewrites the Pfn', function () {
      const [a, b] = [lfn('/mvf/a'), lfn('/mvf/b')];
      put(a);
      const target = linkTarget(srv.nsPath(a));
      srv.xrdfs(['mv', a, b]);
      assert.ok(!existsSync(srv.nsPath(a)));
      assert.equal(linkTarget(srv.nsPath(b)), target);
      assert.equal(readDataFileFacts(target).pfn, srv.nsPath(b));
    });

    it('mv of a directory leaves the Pfn of the files below stale', function () {
      put(lfn('/mvd/a/sub/x'));
      const target = linkTarget(srv.nsPath(lfn('/mvd/a/sub/x')));
      srv.xrdfs(['mv', lfn('/mvd/a'), lfn('/mvd/b')]);
      assert.equal(linkTarget(srv.nsPath(lfn('/mvd/b/sub/x'))), target);
      assert.equal(readDataFileFacts(target).pfn, srv.nsPath(lfn('/mvd/a/sub/x')));
    });

    it('rm deletes the data file and the symlink; the empty bucket directory stays', function () {
      const l = lfn('/rm/f');
      put(l);
      const target = linkTarget(srv.nsPath(l));
      srv.xrdfs(['rm', l]);
      assert.ok(!existsSync(target));
      assert.throws(() => lstatSync(srv.nsPath(l)), /ENOENT/);
      assert.ok(statSync(dirname(target)).isDirectory());
    });

    it('unreadable disk: reads fail [3010], some creates fail, rm succeeds but leaves the data file; a re-create claims the LFN again', function () {
      const l = putOn(1, '/unr/f');
      const old = linkTarget(srv.nsPath(l));
      const created: string[] = [];
      let failed = 0;
      withDiskUnreadable(srv.disks[1] as string, () => {
        const r = srv.tryXrdcp([srv.lfnUrl(l), join(tmp, 'out.bin')]);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /\[3010\].*permission denied/);
        for (let i = 0; i < 4; i++) {
          const n = lfn(`/unr/new-${i}`);
          const c = srv.tryXrdcp([src, srv.lfnUrl(n)]);
          if (c.status === 0) created.push(linkTarget(srv.nsPath(n)));
          else {
            failed++;
            assert.match(c.stderr, /\[3010\]/);
            assert.throws(() => lstatSync(srv.nsPath(n)), /ENOENT/, 'a failed create leaves no symlink');
          }
        }
        assert.match(srv.xrdfs(['rm', l]), /SUCCESS/);
        assert.throws(() => lstatSync(srv.nsPath(l)), /ENOENT/);
        retryCreate(srv, src, l);
      });
      assert.ok(failed >= 1 && created.length >= 1, `failed ${failed}, created ${created.length}`);
      assert.ok(created.every((t) => diskOf(t) === 0));
      const fresh = linkTarget(srv.nsPath(l));
      assert.equal(diskOf(fresh), 0);
      assert.ok(statSync(old).isFile(), 'data file left behind by rm');
      assert.deepEqual(claimsOf(srv.disks, 'public', srv.nsPath(l)), [old, fresh].sort());
    });

    it('disk gone: reads fail [3011], ls -l drops the entry, creating over the dangling symlink makes a second data file', function () {
      const keep = putOn(0, '/gone/k');
      const l = putOn(1, '/gone/f');
      const old = linkTarget(srv.nsPath(l));
      withDiskGone(srv.disks[1] as string, () => {
        const r = srv.tryXrdcp([srv.lfnUrl(l), join(tmp, 'out.bin')]);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /\[3011\].*no such file/);
        const ls = srv.tryXrdfs(['ls', '-l', lfn('/gone')]);
        assert.equal(ls.status, 0);
        const listed = ls.stdout.split('\n').map((line) => line.split(' ').pop());
        assert.ok(listed.includes(keep) && !listed.includes(l), ls.stdout);
        retryCreate(srv, src, l);
      });
      const fresh = linkTarget(srv.nsPath(l));
      assert.equal(diskOf(fresh), 0);
      assert.deepEqual(claimsOf(srv.disks, 'public', srv.nsPath(l)), [old, fresh].sort());
    });
  });
}

describe('xrootd data server startup (§A)', function () {
  it('a missing oss.space directory stops the server from starting', async function () {
    await assert.rejects(
      startXrootd({ localroot: true, extraConfig: [`oss.space public ${join(tmpdir(), 'ecguard-no-such-disk')}`] }),
      /exited .*initialization failed/s,
    );
  });
});

/** About half the creates pick the bad disk and fail: retry until one lands elsewhere. */
function retryCreate(srv: XrootdServer, src: string, l: string): void {
  const errors: string[] = [];
  for (let i = 0; i < 6; i++) {
    const c = srv.tryXrdcp([src, srv.lfnUrl(l)]);
    if (c.status === 0) return;
    errors.push(c.stderr.trim());
  }
  throw new Error(`create of ${l} never succeeded:\n${errors.join('\n')}`);
}

function assertOnlyDirsAndLinks(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) assertOnlyDirsAndLinks(join(dir, e.name));
    else assert.ok(e.isSymbolicLink(), `${join(dir, e.name)} is neither a directory nor a symlink`);
  }
}

function mkdtemp(): string {
  return mkdtempSync(join(tmpdir(), 'ecguard-layout-'));
}
