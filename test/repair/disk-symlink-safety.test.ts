// Root writing on a data disk whose space and bucket directories the xrootd account owns (found by
// review): a space directory, bucket or ledger directory it replaced by a symlink (to /etc, say),
// before the placement or between its steps, never leads root to create, chown, set xattrs on
// or remove anything outside the disk. Real files, symlinks and xattrs; needs root to chown.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listAttributesSync } from 'fs-xattr';
import { ArchivePlacement, type PlaceTarget } from '../../agent/repair/archive-placer.js';
import { partialBucketByte } from '../../agent/repair/partial-archive.js';
import { cleanupLedgerTemps, findPlaced, forgetPlaced, LEDGER_DIR, writeLedgerRecord } from '../../agent/repair/placement-ledger.js';
import { cleanupTempFiles, discardPartials } from '../../agent/repair/temp-cleanup.js';
import { getCodec } from '../../shared/codec/index.js';
import { bucketOf } from '../../shared/xrdec/data-file-name.js';
import { repoRoot } from '../helpers/cli.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { asRoot, makeHostileNamespace, type HostileNamespace } from '../helpers/hostile-namespace.js';
import { withSwapBeforeOpen } from '../helpers/staged-swap.js';
import { treeSnapshot } from '../helpers/tree-snapshot.js';

const codec = getCodec();
const data = Buffer.from('hello');
const entry = { name: 'obj.0.0', data, crc: codec.crc32c(data) };
const isCode = (code: string) => (e: Error & { code?: string }) => e.code === code;
const TASK = 'T';
const BUCKET = bucketOf(partialBucketByte(TASK, 0));
const TEMP = `.ecguard-tmp-${TASK}-0.part`;
const OLD = new Date(Date.now() - 7 * 24 * 3600_000); // past the 6 h a partial is kept

describe('repair: root never follows a symlink the disk owner planted on a data disk', function () {
  this.timeout(60_000);
  let site: FakeSite;
  let ns: HostileNamespace;
  let disk: string;
  let space: string;
  const target = (): PlaceTarget => ({
    diskPath: disk, space: 'public', linkPath: `${site.localroot}/data/x.dat`, namespaceRoot: site.nsRoot, taskId: TASK, slot: 0,
    version: { strpverText: '1700000000', filesizeText: '5' },
  });
  // A root-owned file outside the disk under a name root would write or remove (stands for one in /etc).
  const plantOutside = (dir: string, name: string): string => {
    mkdirSync(join(ns.outside, dir), { recursive: true });
    const p = join(ns.outside, dir, name);
    writeFileSync(p, 'root file');
    utimesSync(p, OLD, OLD);
    return p;
  };
  const linkMade = (): boolean => {
    try {
      lstatSync(target().linkPath);
      return true;
    } catch {
      return false;
    }
  };

  beforeEach(function () {
    if (!asRoot) this.skip(); // chown needs root; CI runs as root
    site = makeFakeSite({ disks: 1 });
    ns = makeHostileNamespace();
    disk = site.disks[0]?.path as string;
    space = join(disk, 'public');
    chownSync(space, ns.owner.uid, ns.owner.gid); // as xrootd creates it
  });
  afterEach(() => {
    site?.cleanup();
    ns?.cleanup();
  });

  it('a symlinked space directory: the placement is refused (DISK_NOT_DIRECTORY), cleanup removes nothing through it', () => {
    const stale = plantOutside(BUCKET, '.ecguard-tmp-old');
    rmSync(space, { recursive: true });
    symlinkSync(ns.outside, space);
    const before = treeSnapshot(ns.outside);
    assert.throws(() => ArchivePlacement.open(target()), (e: Error & { code?: string }) => e.code === 'DISK_NOT_DIRECTORY' && e.message.includes(space));
    assert.throws(() => cleanupTempFiles(disk, 'public', 0), isCode('DISK_NOT_DIRECTORY'));
    assert.deepEqual(discardPartials([{ path: disk, space: 'public' }], TASK, [0]), []);
    assert.equal(treeSnapshot(ns.outside), before, 'nothing created, chowned or removed outside the disk');
    assert.ok(statSync(stale).isFile());
    assert.equal(linkMade(), false);
  });

  it('a symlinked bucket: the placement is refused (DISK_NOT_DIRECTORY); cleanup and discard remove nothing through it', () => {
    const partial = plantOutside(BUCKET, TEMP);
    plantOutside(BUCKET, '.ecguard-tmp-junk');
    symlinkSync(join(ns.outside, BUCKET), join(space, BUCKET));
    const before = treeSnapshot(ns.outside);
    assert.throws(() => ArchivePlacement.open(target()), (e: Error & { code?: string }) => e.code === 'DISK_NOT_DIRECTORY' && e.message.includes(join(space, BUCKET)));
    assert.deepEqual(cleanupTempFiles(disk, 'public', 0), []);
    assert.deepEqual(discardPartials([{ path: disk, space: 'public' }], TASK, [0]), []);
    assert.equal(treeSnapshot(ns.outside), before);
    assert.ok(statSync(partial).isFile());
  });

  it('a bucket swapped for a symlink right before the temp file is opened: it is written in the bucket it walked, and not published', () => {
    mkdirSync(join(space, BUCKET));
    chownSync(join(space, BUCKET), ns.owner.uid, ns.owner.gid);
    mkdirSync(join(ns.outside, BUCKET));
    const before = treeSnapshot(ns.outside);
    const swap = (): void => {
      renameSync(join(space, BUCKET), join(space, 'moved'));
      symlinkSync(join(ns.outside, BUCKET), join(space, BUCKET));
    };
    const p = withSwapBeforeOpen((path) => path.endsWith(TEMP), swap, () => ArchivePlacement.open(target()));
    try {
      assert.equal(treeSnapshot(ns.outside), before, 'no temp file made outside');
      assert.deepEqual(readdirSync(join(space, 'moved')), [TEMP], 'the temp file is in the directory walked');
      assert.deepEqual([statSync(join(space, 'moved', TEMP)).uid, statSync(join(space, 'moved', TEMP)).gid], [ns.owner.uid, ns.owner.gid]);
      p.append(entry);
      assert.throws(() => p.commit(), isCode('PLACEMENT_MOVED'));
    } finally {
      p.abort();
    }
    assert.equal(treeSnapshot(ns.outside), before);
    assert.deepEqual(readdirSync(join(space, 'moved')), [], 'its temp file was removed');
    assert.equal(findPlaced(disk, TASK, 0), undefined, 'no ledger record');
    assert.equal(linkMade(), false);
  });

  it('a bucket swapped for a symlink between open and seal: no xattr, link or unlink reaches the file outside', () => {
    const p = ArchivePlacement.open(target());
    const victim = plantOutside(BUCKET, TEMP); // the name root would now set xattrs on
    p.append(entry);
    renameSync(join(space, BUCKET), join(space, 'moved'));
    symlinkSync(join(ns.outside, BUCKET), join(space, BUCKET));
    const before = treeSnapshot(ns.outside);
    try {
      assert.throws(() => p.commit());
    } finally {
      p.abort();
    }
    assert.deepEqual(listAttributesSync(victim), [], 'no xattr set outside');
    assert.equal(treeSnapshot(ns.outside), before, 'nothing created, changed or removed outside');
    assert.equal(findPlaced(disk, TASK, 0), undefined);
    assert.equal(linkMade(), false);
  });

  it('a symlinked ledger directory: no record is written, read or removed through it', () => {
    chownSync(disk, ns.owner.uid, ns.owner.gid); // a disk root the xrootd account owns
    const rec = plantOutside('ledger', `${TASK}.0`);
    const tmp = plantOutside('ledger', `.${TASK}.1.tmp`);
    symlinkSync(join(ns.outside, 'ledger'), join(disk, LEDGER_DIR));
    const before = treeSnapshot(ns.outside);
    assert.throws(() => writeLedgerRecord(disk, TASK, 2, 'public/00/x%'), isCode('DISK_NOT_DIRECTORY'));
    assert.throws(() => cleanupLedgerTemps(disk), isCode('DISK_NOT_DIRECTORY'));
    assert.throws(() => forgetPlaced(disk, TASK, 0), isCode('DISK_NOT_DIRECTORY'));
    assert.equal(treeSnapshot(ns.outside), before);
    assert.ok(statSync(rec).isFile() && statSync(tmp).isFile());
  });

  it('a ledger directory that is not the agent\'s own (the disk root\'s owner swapped in its own): nothing read, written or removed in it', () => {
    chownSync(disk, ns.owner.uid, ns.owner.gid); // a disk root the xrootd account owns
    const planted = join(disk, LEDGER_DIR);
    mkdirSync(planted, { mode: 0o700 });
    writeFileSync(join(planted, `${TASK}.0`), 'public/00/victim%');
    writeFileSync(join(planted, `.${TASK}.1.tmp`), 'x');
    chownSync(planted, ns.owner.uid, ns.owner.gid);
    const before = treeSnapshot(planted);
    assert.throws(() => writeLedgerRecord(disk, TASK, 2, 'public/00/x%'), isCode('LEDGER_UNSAFE'));
    assert.throws(() => findPlaced(disk, TASK, 0), isCode('LEDGER_UNSAFE'));
    assert.throws(() => cleanupLedgerTemps(disk), isCode('LEDGER_UNSAFE'));
    assert.throws(() => forgetPlaced(disk, TASK, 0), isCode('LEDGER_UNSAFE'));
    assert.equal(treeSnapshot(planted), before);
  });

  it('root without /proc/self/fd refuses to write on a disk (DISK_UNSAFE) and creates nothing', function () {
    // A private mount namespace with an empty /proc: what an agent without /proc would see.
    if (spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status !== 0) this.skip();
    const before = treeSnapshot(disk);
    const script = `
      import { ArchivePlacement } from ${JSON.stringify(join(repoRoot, 'dist/agent/repair/archive-placer.js'))};
      const t = JSON.parse(process.argv[1]);
      try { ArchivePlacement.open(t).abort(); console.log('written'); } catch (e) { console.log(e.code); }`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$0" "$@"',
      process.execPath, '--input-type=module', '-e', script, '--', JSON.stringify(target())], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'DISK_UNSAFE', r.stderr);
    assert.equal(treeSnapshot(disk), before, 'nothing made on the disk');
  });
});
