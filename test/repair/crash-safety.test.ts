// The placer under crashes and conflicts: a temp file left by a killed writer is never an
// archive to the scanner and is removed at start; an existing entry at the link path is never
// replaced; one (task, slot) writes one archive; a publish without its link is finished by a retry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { getAttributeSync } from 'fs-xattr';
import { getCodec } from '../../shared/codec/index.js';
import { parseDataFileName } from '../../shared/xrdec/data-file-name.js';
import { AlreadyPlaced, ArchivePlacement, placeArchive, type PlaceTarget } from '../../agent/repair/archive-placer.js';
import { cleanupTempFiles } from '../../agent/repair/temp-cleanup.js';
import { createNamespaceLink } from '../../agent/repair/namespace-link.js';
import { findPlaced, writeLedgerRecord } from '../../agent/repair/placement-ledger.js';
import { scanSite } from '../../agent/scan/site-scanner.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { dataFilesOn } from '../helpers/xrootd-layout.js';
import { fingerprint, treeOf } from './repair-harness.js';

const codec = getCodec();
const data = Buffer.from('hello');
const entries = [{ name: 'obj.0.0', data, crc: codec.crc32c(data) }];
const isCode = (code: string) => (e: Error & { code?: string }) => e.code === code;

describe('repair: placer crash safety', function () {
  this.timeout(60_000);
  let site: FakeSite;
  let disk: string;
  const target = (lfn: string, taskId: string, slot = 0): PlaceTarget => ({
    diskPath: disk, space: 'public', linkPath: `${site.localroot}${lfn}`, namespaceRoot: site.nsRoot, taskId, slot,
    version: { strpverText: '1700000000', filesizeText: '5' },
  });
  const layout = () => ({ serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) });
  beforeEach(() => {
    site = makeFakeSite({ disks: 1 });
    disk = site.disks[0]?.path as string;
  });
  afterEach(() => site.cleanup());

  it('a temp file of a killed writer is never an archive in a scan, and cleanupTempFiles removes only such files', async () => {
    const real = await placeArchive(target('/data/real.dat', 'real'), entries);
    const placer = new URL('../../agent/repair/archive-placer.js', import.meta.url).href;
    const script = `const { ArchivePlacement } = await import(process.env.PLACER);
      const p = ArchivePlacement.open(JSON.parse(process.env.TARGET));
      p.append({ name: 'obj.0.0', data: Buffer.alloc(1000, 7), crc: 1 });
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, PLACER: placer, TARGET: JSON.stringify(target('/data/crash.dat', 'crashed')) } });
    assert.equal(r.signal, 'SIGKILL', r.stderr.toString());
    const temps = dataFilesOn(disk, 'public').filter((f) => basename(f) === '.ecguard-tmp-crashed-0.part');
    assert.equal(temps.length, 1, 'the killed writer left its temp file');
    const keep = `${dirname(real.path)}/.keep`;
    writeFileSync(keep, 'not ours');
    mkdirSync(`${disk}/.ecguard-repair`, { recursive: true });
    writeFileSync(`${disk}/.ecguard-repair/.crashed.0.tmp`, 'half a record');

    const scan = await scanSite(layout(), { workers: 0 });
    assert.deepEqual(scan.records.map((x) => [`${disk}/${x.dataPath}`, x.parseStatus, x.nsPath]), [[real.path, 'ok', real.linkPath]]);
    assert.ok(scan.findings.some((f) => f.path === temps[0] && f.kind === 'unexpected-entry'));
    assert.ok(!scan.findings.some((f) => f.kind === 'data-without-symlink'));

    const before = fingerprint(real.path);
    // A young partial stays (a retry of its task resumes it); an old one goes.
    assert.deepEqual(cleanupTempFiles(disk, 'public'), [`${disk}/.ecguard-repair/.crashed.0.tmp`]);
    assert.deepEqual(cleanupTempFiles(disk, 'public', 6 * 3600_000, Date.now() + 6 * 3600_000 + 1000), [temps[0]]);
    assert.equal(fingerprint(real.path), before);
    assert.ok(statSync(keep).isFile(), 'other dot files are not ours to remove');
    const again = await scanSite(layout(), { workers: 0 });
    assert.ok(!again.findings.some((f) => f.path.includes('.ecguard-tmp-')));
    assert.equal(again.records.length, 1);
  });

  it('never replaces an existing entry at the link path', async () => {
    const t = target('/data/taken.dat', 'taken');
    symlinkSync('/disk/gone/public/00/X%', t.linkPath);
    const tree = treeOf(site.root);
    assert.throws(() => ArchivePlacement.open(t), (e: Error & { code?: string }) => e.code === 'LINK_EXISTS' && /dangling/.test(e.message));
    assert.deepEqual(treeOf(site.root), tree, 'nothing written');
    rmSync(t.linkPath);
    writeFileSync(t.linkPath, 'a plain file');
    assert.throws(() => ArchivePlacement.open(t), isCode('LINK_EXISTS'));

    // A link that appears while the archive is written wins; ours stays unlinked, reported.
    const r = target('/data/race.dat', 'race');
    const p = ArchivePlacement.open(r);
    p.append(entries[0] as (typeof entries)[number]);
    symlinkSync('/elsewhere/public/00/Y%', r.linkPath);
    const placed = p.commit();
    assert.equal(placed.linked, false);
    assert.match(placed.linkProblem ?? '', /not overwritten/);
    assert.equal(readlinkSync(r.linkPath), '/elsewhere/public/00/Y%');
    assert.ok(lstatSync(placed.path).isFile());
    assert.throws(() => ArchivePlacement.open(r), (e: unknown) => e instanceof AlreadyPlaced && e.placed.path === placed.path);
  });

  it('writes one archive per (task, slot)', async () => {
    const first = await placeArchive(target('/data/once.dat', 'once'), entries);
    await assert.rejects(placeArchive(target('/data/once.dat', 'once'), entries), (e: unknown) => e instanceof AlreadyPlaced && e.placed.path === first.path);
    await assert.rejects(placeArchive(target('/data/other-name.dat', 'once'), entries), isCode('ALREADY_PLACED'));
    assert.deepEqual(dataFilesOn(disk, 'public'), [first.path]);
    const second = await placeArchive(target('/data/once-2.dat', 'once', 1), entries);
    assert.deepEqual(dataFilesOn(disk, 'public'), [first.path, second.path].sort());

    // A record without its file (crash before the rename), or naming another task's file, is nothing.
    writeLedgerRecord(disk, 'ghost', 0, 'public/00/0000000000000000000000000000000000000A6%');
    assert.equal(findPlaced(disk, 'ghost', 0), undefined);
    writeLedgerRecord(disk, 'thief', 0, first.path.slice(disk.length + 1));
    assert.equal(findPlaced(disk, 'thief', 0), undefined);
    const ghost = await placeArchive(target('/data/ghost.dat', 'ghost'), entries);
    assert.equal(findPlaced(disk, 'ghost', 0)?.path, ghost.path);
  });

  it('a publish whose link was not made is found and linked by a retry', async () => {
    const t = target('/data/sub/late.dat', 'late');
    const p = ArchivePlacement.open(t);
    p.append(entries[0] as (typeof entries)[number]);
    writeFileSync(`${site.nsRoot}/sub`, 'blocks the parent directory');
    const placed = p.commit();
    assert.equal(placed.linked, false);
    rmSync(`${site.nsRoot}/sub`);
    const found = findPlaced(disk, 'late', 0);
    assert.deepEqual(found, { path: placed.path, pfn: t.linkPath });
    assert.deepEqual(createNamespaceLink(found.pfn as string, found.path, site.nsRoot), { linked: true });
    assert.equal(readlinkSync(t.linkPath), placed.path);
  });

  it('lays the file out as xrootd would, owned like its parent directories', async function () {
    if (process.getuid?.() !== 0) this.skip();
    chownSync(site.nsRoot, 4242, 4343);
    chownSync(`${disk}/public`, 4242, 4343);
    const t = target('/data/a/b/c.dat', 'owned', 3);
    const placed = await placeArchive(t, entries);
    for (const p of [`${site.nsRoot}/a`, `${site.nsRoot}/a/b`, dirname(placed.path), placed.path]) {
      const st = statSync(p);
      assert.deepEqual([st.uid, st.gid], [4242, 4343], p);
    }
    const link = lstatSync(t.linkPath);
    assert.deepEqual([link.uid, link.gid], [4242, 4343]);
    const name = parseDataFileName(basename(placed.path));
    assert.ok(name, basename(placed.path));
    assert.equal(name.pid, process.pid);
    assert.equal(basename(dirname(placed.path)), (name.counter & 0xff).toString(16).padStart(2, '0').toUpperCase());
    assert.equal(name.diskDirLength, (disk.length + 1) % 256);
    assert.equal(name.spaceLength, 6);
    assert.deepEqual(getAttributeSync(placed.path, 'user.XrdFrm.Pfn'), Buffer.from(`${t.linkPath}\0`));
    assert.equal(getAttributeSync(placed.path, 'user.U.xrdec.strpver').toString(), '1700000000');
    assert.equal(getAttributeSync(placed.path, 'user.U.xrdec.filesize').toString(), '5');
    assert.equal(getAttributeSync(placed.path, 'user.ecguard.repair').toString(), 'owned:3');
    assert.deepEqual(readdirSync(dirname(placed.path)).filter((n) => n.startsWith('.')), [], 'no temp file left');
  });

  it('refuses a disk whose space directory is missing (not mounted)', () => {
    rmSync(`${disk}/public`, { recursive: true });
    const tree = treeOf(site.root);
    assert.throws(() => ArchivePlacement.open(target('/data/x.dat', 'nodisk')), isCode('DISK_NOT_READY'));
    assert.deepEqual(treeOf(site.root), tree);
  });
});
