// The agent's view of a real xrootd data server (Debian xrootd-server 5.5.3, run as user
// xrootd): files written with xrdcp, attributes set with xrdfs, XrdEc archives made with
// `ecguard encode` copied in — `ecguard scan` must report exactly what the server holds, and
// the §A situations (directory mv, rm while a disk is unreadable, create over a dangling link,
// namespace lost) as XRDEC-FORMAT.md describes them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { startXrootd, type XrootdServer } from '../helpers/xrootd-server.js';
import { withDiskGone, withDiskUnreadable } from '../helpers/xrootd-layout.js';
import { runCli, runCliJson } from '../helpers/cli.js';

interface ScanJson {
  records: ArchiveRecord[];
  findings: Finding[];
}

function retry(srv: XrootdServer, args: string[]): void {
  for (let i = 0; i < 8; i++) if (srv.tryXrdcp(args).status === 0) return;
  throw new Error(`xrdcp ${args.join(' ')} never succeeded`);
}

for (const localroot of [true, false]) {
  describe(`agent on a real xrootd server (${localroot ? 'with' : 'without'} oss.localroot)`, function () {
    this.timeout(120_000);
    let srv: XrootdServer;
    let tmp: string;
    const objects = new Map<string, { strpver: number; filesize: number; entries: number; blocks: number; sha: string }>();

    before(async () => {
      srv = await startXrootd({ localroot, spaces: 2 });
      tmp = mkdtempSync(join(tmpdir(), 'ecguard-xagent-'));
      // 12 XrdEc objects: archive 0 of each goes to this server through xrootd
      for (let i = 0; i < 12; i++) {
        const size = [0, 1, 5000, 4096 * 3 + 7][i % 4] as number;
        const input = join(tmp, `in${i}`);
        writeFileSync(input, randomBytes(size));
        const dirs = Array.from({ length: 6 }, (_, k) => {
          const d = join(tmp, `o${i}-${k}`);
          mkdirSync(d);
          return d;
        });
        const strpver = 1700000000 + i;
        const enc = runCli(['encode', '--nbdata', '4', '--nbparity', '2', '--chunksize', '1024', '--crc32c', '--strpver', String(strpver), '--out-dirs', dirs.join(','), input]);
        assert.equal(enc.code, 0, enc.stderr);
        const archive = join(dirs[0] as string, `in${i}`);
        const lfn = `${srv.export}/ec/obj${i}`;
        srv.xrdcp([archive, srv.lfnUrl(lfn)]);
        srv.xrdfs(['xattr', lfn, 'set', `xrdec.strpver=${strpver}`]);
        srv.xrdfs(['xattr', lfn, 'set', `xrdec.filesize=${size}`]);
        const dir = readZipDirectoryFileSync(archive);
        objects.set(lfn, { strpver, filesize: size, entries: dir.entries.length, blocks: Math.ceil(size / 4096), sha: createHash('sha256').update(readFileSync(archive)).digest('hex') });
      }
      // two plain files, one with a client-set strpver
      writeFileSync(join(tmp, 'plain'), 'not an archive');
      srv.xrdcp([join(tmp, 'plain'), srv.lfnUrl(`${srv.export}/plain/a`)]);
      srv.xrdcp([join(tmp, 'plain'), srv.lfnUrl(`${srv.export}/plain/b`)]);
      srv.xrdfs(['xattr', `${srv.export}/plain/b`, 'set', 'xrdec.strpver=42']);
    });
    after(async () => {
      await srv?.stop();
      rmSync(tmp, { recursive: true, force: true });
    });

    const scan = (...extra: string[]): ScanJson => {
      const r = runCliJson<ScanJson>(['scan', '--xrootd-config', srv.configPath, '--records', ...extra]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      return r.json;
    };

    it('records match what the server holds: LFN, disk, strpver, filesize, entries', () => {
      const s = scan();
      for (const [lfn, o] of objects) {
        const rec = s.records.find((r) => r.lfn === lfn);
        assert.ok(rec, `no record for ${lfn}`);
        assert.equal(rec.strpver, o.strpver);
        assert.equal(rec.filesize, o.filesize);
        assert.equal(rec.xattrNamespace, 'user.U.');
        assert.equal(rec.nentries, o.entries);
        assert.equal(rec.nblocks, o.blocks);
        assert.equal(rec.parseStatus, o.filesize === 0 ? 'empty' : 'ok');
        assert.equal(rec.nsPath, srv.nsPath(lfn));
        assert.equal(rec.pfn, srv.nsPath(lfn));
        // the disk is the one the namespace symlink points into
        assert.ok(readlinkSync(srv.nsPath(lfn)).startsWith(rec.diskId.slice(rec.diskId.indexOf(':') + 1) + '/'));
      }
      const plainB = s.records.find((r) => r.lfn === `${srv.export}/plain/b`);
      assert.equal(plainB?.strpver, 42);
      assert.equal(plainB?.parseStatus, 'not-zip');
      assert.ok(s.findings.some((f) => f.kind === 'bad-archive' && f.lfn === undefined && /NOT_A_ZIP/.test(f.reason)));
      const ns = s.findings.filter((f) => ['stale-pfn', 'data-without-symlink', 'dangling-symlink', 'duplicate-lfn'].includes(f.kind));
      assert.deepEqual(ns, [], 'a fresh server has a consistent namespace');
    });

    it('scan --lfns of one disk lists the LFNs stored on it', () => {
      const disk = srv.disks[1] as string;
      const r = runCliJson<{ lfns: { lfn: string }[] }>(['scan', '--xrootd-config', srv.configPath, '--space-path', disk, '--lfns']);
      const want = [...objects.keys(), `${srv.export}/plain/a`, `${srv.export}/plain/b`].filter((l) => readlinkSync(srv.nsPath(l)).startsWith(disk + '/')).sort();
      assert.deepEqual(r.json.lfns.map((x) => x.lfn).sort(), want);
    });

    it('directory mv: every moved file reported stale-pfn; the symlink wins for the LFN', () => {
      srv.xrdfs(['mv', `${srv.export}/plain`, `${srv.export}/plain2`]);
      const s = scan();
      const stale = s.findings.filter((f) => f.kind === 'stale-pfn').map((f) => f.lfn).sort();
      assert.deepEqual(stale, [`${srv.export}/plain2/a`, `${srv.export}/plain2/b`]);
      assert.ok(s.records.some((r) => r.lfn === `${srv.export}/plain2/a` && r.pfn === srv.nsPath(`${srv.export}/plain/a`)));
      srv.xrdfs(['mv', `${srv.export}/plain2`, `${srv.export}/plain`]);
    });

    it('rm while the disk is unreadable leaves a data file without symlink; a re-create makes a duplicate LFN', () => {
      const lfn = `${srv.export}/unr/f`;
      const disk = srv.disks[1] as string;
      for (let i = 0; i < 8 && !(safeLink(srv.nsPath(lfn))?.startsWith(disk + '/')); i++) {
        srv.tryXrdfs(['rm', lfn]);
        srv.xrdcp([join(tmp, 'plain'), srv.lfnUrl(lfn)]);
      }
      assert.ok(safeLink(srv.nsPath(lfn))?.startsWith(disk + '/'), 'file landed on disk 1');
      withDiskUnreadable(disk, () => {
        assert.match(srv.xrdfs(['rm', lfn]), /SUCCESS/);
      });
      let s = scan();
      assert.ok(s.findings.some((f) => f.kind === 'data-without-symlink' && f.lfn === lfn), JSON.stringify(s.findings.filter((f) => f.lfn === lfn)));
      withDiskGone(disk, () => retry(srv, [join(tmp, 'plain'), srv.lfnUrl(lfn)]));
      s = scan();
      const dups = s.findings.filter((f) => f.kind === 'duplicate-lfn' && f.lfn === lfn);
      assert.equal(dups.length, 2);
      assert.equal(dups.filter((f) => f.evidence?.live === true).length, 1, 'the file the symlink points at is the live one');
    });

    it('namespace lost: rebuild --trust-pfn --apply brings every link back; xrootd serves the files again', () => {
      const lfns = [...objects.keys()].slice(0, 6);
      for (const l of lfns) unlinkSync(srv.nsPath(l));
      rmSync(srv.nsPath(`${srv.export}/ec`), { recursive: true, force: true });
      assert.equal(runCli(['namespace', 'rebuild', '--xrootd-config', srv.configPath, '--dry-run']).code, 2, 'standalone rebuild needs --trust-pfn');
      const dry = runCliJson<{ planned: { lfn: string }[] }>(['namespace', 'rebuild', '--xrootd-config', srv.configPath, '--dry-run', '--trust-pfn']);
      assert.ok(lfns.every((l) => dry.json.planned.some((p) => p.lfn === l)));
      const applied = runCliJson<{ created: number; failed: unknown[] }>(['namespace', 'rebuild', '--xrootd-config', srv.configPath, '--apply', '--trust-pfn']);
      assert.equal(applied.code, 0, applied.stderr);
      assert.deepEqual(applied.json.failed, []);
      for (const l of [...objects.keys()]) {
        const out = join(tmp, `back-${l.replace(/\//g, '_')}`);
        srv.xrdcp([srv.lfnUrl(l), out]);
        assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), objects.get(l)?.sha, `${l} reads back through xrootd`);
      }
      // nothing is overwritten: a second apply finds nothing to do for these LFNs
      const again = runCliJson<{ planned: { lfn: string }[] }>(['namespace', 'rebuild', '--xrootd-config', srv.configPath, '--apply', '--trust-pfn']);
      assert.ok(!again.json.planned.some((p) => lfns.includes(p.lfn)));
    });
  });
}

function safeLink(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}
