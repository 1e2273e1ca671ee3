// The descriptor walk on a data disk (agent/repair/disk-dir.ts): what it creates and chowns, what
// it refuses, and that a directory it holds stays the one it walked whatever its path becomes.
import assert from 'node:assert/strict';
import { chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskDir } from '../../agent/repair/disk-dir.js';
import { asRoot, makeHostileNamespace, withMkdirSwappedForSymlink, type HostileNamespace } from '../helpers/hostile-namespace.js';

const refused = (path: string) => (e: Error & { code?: string }) => e.code === 'DISK_NOT_DIRECTORY' && e.message.startsWith(`${path} is a symlink or not a directory`);
const ownerOf = (p: string): [number, number] => {
  const st = lstatSync(p);
  return [st.uid, st.gid];
};

describe('repair: the data disk directory walk', function () {
  let h: HostileNamespace;
  let disk: string;
  let space: string;
  beforeEach(function () {
    if (!asRoot) this.skip(); // chown needs root; CI runs as root
    h = makeHostileNamespace();
    disk = join(h.base, 'disk');
    space = join(disk, 'public');
    mkdirSync(space, { recursive: true });
    chownSync(space, h.owner.uid, h.owner.gid);
  });
  afterEach(() => h?.cleanup());

  it('creates missing directories owned like their parent and says which; a missing one that must exist is ENOENT', () => {
    const d = DiskDir.open(disk, ['public', 'AB', 'CD'], { existing: 1, durable: true });
    d.close();
    assert.deepEqual(d.created, [join(space, 'AB'), join(space, 'AB/CD')]);
    for (const p of ['AB', 'AB/CD']) assert.deepEqual(ownerOf(join(space, p)), [h.owner.uid, h.owner.gid], p);
    assert.throws(() => DiskDir.open(disk, ['other', 'AB'], { existing: 1 }), (e: Error & { code?: string; path?: string }) => e.code === 'ENOENT' && e.path === join(disk, 'other'));
    assert.deepEqual(readdirSync(disk), ['public']);
  });

  it('a directory a crash left ours (empty, owned unlike its parent) is chowned; a non-empty one or one never to be chowned is not', () => {
    mkdirSync(join(space, 'AB')); // made, then the agent died before the chown
    const a = DiskDir.open(disk, ['public', 'AB'], { existing: 1 });
    a.close();
    assert.deepEqual(a.fixed, [join(space, 'AB')]);
    assert.deepEqual(ownerOf(join(space, 'AB')), [h.owner.uid, h.owner.gid]);
    mkdirSync(join(space, 'AC'));
    writeFileSync(join(space, 'AC', 'x%'), 'someone put a file here');
    DiskDir.open(disk, ['public', 'AC'], { existing: 1 }).close();
    assert.equal(statSync(join(space, 'AC')).uid, 0, 'not empty: not ours to change');
    mkdirSync(join(space, 'AF'));
    DiskDir.open(disk, ['public', 'AF']).close();
    assert.equal(statSync(join(space, 'AF')).uid, 0, 'a walk that creates nothing changes no owner');
    DiskDir.open(disk, ['public', 'AD'], { existing: 1, ownLikeParent: false, mode: 0o700 }).close();
    assert.equal(statSync(join(space, 'AD')).uid, 0, 'ownLikeParent: false keeps it root\'s');
    assert.equal(statSync(join(space, 'AD')).mode & 0o777, 0o700);
  });

  it('a symlink (to a directory or a root file) or a plain file where a directory should be is refused, nothing made past it', () => {
    symlinkSync(h.outside, join(space, 'AB'));
    assert.throws(() => DiskDir.open(disk, ['public', 'AB', 'CD'], { existing: 1 }), refused(join(space, 'AB')));
    assert.deepEqual(readdirSync(h.outside), ['ssl']);
    symlinkSync(h.victim, join(space, 'AC'));
    assert.throws(() => DiskDir.open(disk, ['public', 'AC'], { existing: 1 }), refused(join(space, 'AC')));
    assert.deepEqual(ownerOf(h.victim), [0, 0]);
    writeFileSync(join(space, 'AE'), '');
    assert.throws(() => DiskDir.open(disk, ['public', 'AE'], { existing: 1 }), refused(join(space, 'AE')));
  });

  it('a new directory swapped for a symlink to a root file right after its mkdir is refused, the file never chowned', () => {
    assert.throws(() => withMkdirSwappedForSymlink(h.victim, () => DiskDir.open(disk, ['public', 'AB'], { existing: 1 })), refused(join(space, 'AB')));
    assert.deepEqual(ownerOf(h.victim), [0, 0]);
    assert.equal(statSync(h.victim).mode & 0o777, 0o600);
  });

  it('names reached through an open directory stay in it after its path is swapped for a symlink', () => {
    const d = DiskDir.open(disk, ['public', 'AB'], { existing: 1 });
    try {
      renameSync(join(space, 'AB'), join(space, 'moved'));
      symlinkSync(h.outside, join(space, 'AB'));
      writeFileSync(d.at('f'), 'ours');
      assert.deepEqual(d.list(), ['f']);
      assert.equal(readFileSync(join(space, 'moved', 'f'), 'utf8'), 'ours');
      assert.deepEqual(readdirSync(h.outside), ['ssl']);
      // errors name the directory's path, not the descriptor's magic link
      assert.throws(() => readFileSync(d.at('missing')), (e: Error & { path?: string }) => d.relabel(e).path === join(space, 'AB', 'missing'));
      assert.throws(() => d.at('../x'), (e: Error & { code?: string }) => e.code === 'DISK_BAD_NAME');
    } finally {
      d.close();
    }
    assert.throws(() => d.at('f'), (e: Error & { code?: string }) => e.code === 'DISK_DIR_CLOSED');
  });
});
