// The descriptor walk (native nsLinkSync through writeNamespaceLink) and its TypeScript fallback
// against a namespace owner who plants symlinks where directories should be: refused with
// NAMESPACE_NOT_DIRECTORY, nothing made past the symlink, nothing chowned through it; a
// crash-left directory is fixed only when ours and empty; an existing link is never overwritten.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNsWalkAddon, NOT_A_DIRECTORY, writeNamespaceLink, writeNamespaceLinkJs, type NamespaceLinkRequest, type NamespaceLinkResult } from '../../agent/namespace/safe-namespace-write.js';
import { repoRoot } from '../helpers/cli.js';
import { asRoot, makeHostileNamespace, withMkdirSwappedForSymlink, type HostileNamespace } from '../helpers/hostile-namespace.js';

const TARGET = '/disk1/public/00/X%';
const ownerOf = (p: string): [number, number] => {
  const st = lstatSync(p);
  return [st.uid, st.gid];
};
const refused = (path: string) => (e: Error & { code?: string }) => {
  assert.equal(e.code, NOT_A_DIRECTORY);
  assert.ok(e.message.startsWith(`${path} is a symlink or not a directory`), e.message);
  assert.match(e.message, /nothing was created past it/);
  return true;
};

const impls: [string, (r: NamespaceLinkRequest) => NamespaceLinkResult][] = [
  ['native walk', writeNamespaceLink],
  ['TypeScript fallback', writeNamespaceLinkJs],
];

describe('namespace: safe namespace link writer', function () {
  let ns: HostileNamespace;
  beforeEach(function () {
    if (!asRoot) this.skip(); // chown needs root; CI runs as root
    ns = makeHostileNamespace();
  });
  afterEach(() => ns?.cleanup());

  it('the addon has nsLinkSync (CI builds it)', () => {
    assert.equal(loadNsWalkAddon().problem, undefined);
  });

  for (const [label, write] of impls) {
    describe(label, () => {
      it('a symlink to a directory where a directory should be: refused, nothing created outside or past it', () => {
        symlinkSync(ns.outside, join(ns.nsRoot, 'a'));
        const linkPath = join(ns.nsRoot, 'a/ssl/new/evil');
        assert.throws(() => write({ root: ns.nsRoot, linkPath, target: TARGET }), refused(join(ns.nsRoot, 'a')));
        assert.deepEqual(readdirSync(join(ns.outside, 'ssl')), []);
        assert.deepEqual(ownerOf(ns.outside), [0, 0]);
      });

      it('a symlink to a root file where a directory should be: refused, the file keeps its owner and mode', () => {
        mkdirSync(join(ns.nsRoot, 'd'));
        chownSync(join(ns.nsRoot, 'd'), ns.owner.uid, ns.owner.gid);
        symlinkSync(ns.victim, join(ns.nsRoot, 'd/e')); // planted where the walk expects a directory
        assert.throws(() => write({ root: ns.nsRoot, linkPath: join(ns.nsRoot, 'd/e/link'), target: TARGET }), refused(join(ns.nsRoot, 'd/e')));
        assert.deepEqual(ownerOf(ns.victim), [0, 0]);
        assert.equal(lstatSync(ns.victim).mode & 0o777, 0o600);
      });

      it('a regular file where a directory should be: refused the same way', () => {
        writeFileSync(join(ns.nsRoot, 'plain'), 'x');
        assert.throws(() => write({ root: ns.nsRoot, linkPath: join(ns.nsRoot, 'plain/link'), target: TARGET }), refused(join(ns.nsRoot, 'plain')));
      });

      it('creates the missing directories and the link, each owned like its parent, and says what it created', () => {
        mkdirSync(join(ns.nsRoot, 'have'));
        chownSync(join(ns.nsRoot, 'have'), ns.owner.uid, ns.owner.gid);
        const r = write({ root: ns.nsRoot, linkPath: join(ns.nsRoot, 'have/x/y/link'), target: TARGET, durable: true });
        assert.deepEqual(r, { created: [join(ns.nsRoot, 'have/x'), join(ns.nsRoot, 'have/x/y')], fixed: [], link: 'created' });
        for (const p of ['have/x', 'have/x/y', 'have/x/y/link']) assert.deepEqual(ownerOf(join(ns.nsRoot, p)), [ns.owner.uid, ns.owner.gid], p);
        assert.equal(readlinkSync(join(ns.nsRoot, 'have/x/y/link')), TARGET);
      });

      it('a crash-left directory (ours, empty, owned unlike its parent) is chowned; a non-empty one, or another user\'s, is not', () => {
        const half = join(ns.nsRoot, 'half');
        mkdirSync(half);
        const full = join(ns.nsRoot, 'full');
        mkdirSync(full);
        writeFileSync(join(full, 'someone'), 'x');
        const other = join(ns.nsRoot, 'other');
        mkdirSync(other);
        chownSync(other, 4242, 4343);
        const r = write({ root: ns.nsRoot, linkPath: join(half, 'l'), target: TARGET });
        assert.deepEqual(r.fixed, [half]);
        assert.deepEqual(ownerOf(half), [ns.owner.uid, ns.owner.gid]);
        assert.deepEqual(ownerOf(join(half, 'l')), [ns.owner.uid, ns.owner.gid]);
        assert.deepEqual(write({ root: ns.nsRoot, linkPath: join(full, 'l'), target: TARGET }).fixed, []);
        assert.deepEqual(ownerOf(full), [0, 0], 'not empty: not ours to change');
        assert.deepEqual(ownerOf(join(full, 'l')), [0, 0], 'the link is owned like its directory');
        write({ root: ns.nsRoot, linkPath: join(other, 'l'), target: TARGET });
        assert.deepEqual(ownerOf(other), [4242, 4343]);
      });

      it('an existing link, file or dangling link is never overwritten; only a link into replaceInto is replaced', () => {
        const l = join(ns.nsRoot, 'l');
        symlinkSync('/elsewhere/file', l);
        assert.equal(write({ root: ns.nsRoot, linkPath: l, target: TARGET }).link, 'exists');
        assert.equal(write({ root: ns.nsRoot, linkPath: l, target: TARGET, replaceInto: '/dead', tempName: '.tmp-l' }).link, 'exists');
        assert.equal(readlinkSync(l), '/elsewhere/file');
        writeFileSync(join(ns.nsRoot, 'f'), 'data');
        assert.equal(write({ root: ns.nsRoot, linkPath: join(ns.nsRoot, 'f'), target: TARGET }).link, 'exists');
        assert.equal(lstatSync(join(ns.nsRoot, 'f')).isFile(), true);
        const dead = join(ns.nsRoot, 'dead');
        symlinkSync('/dead/public/00/Y%', dead);
        symlinkSync(TARGET, join(ns.nsRoot, '.tmp-dead')); // a crash's leftover swap link
        assert.equal(write({ root: ns.nsRoot, linkPath: dead, target: TARGET, replaceInto: '/dead/', tempName: '.tmp-dead' }).link, 'replaced');
        assert.equal(readlinkSync(dead), TARGET);
        assert.deepEqual(ownerOf(dead), [ns.owner.uid, ns.owner.gid]);
        assert.deepEqual(readdirSync(ns.nsRoot).sort(), ['dead', 'f', 'l']);
      });

      it('a link path not cleanly below the root is refused before anything is made', () => {
        for (const bad of [`${ns.nsRoot}/a/../b`, `${ns.nsRoot}/a//b`, `${ns.nsRoot}/a/`, `${ns.nsRoot}x/y`, ns.nsRoot]) {
          assert.throws(() => write({ root: ns.nsRoot, linkPath: bad, target: TARGET }), (e: Error & { code?: string }) => e.code === 'NAMESPACE_BAD_PATH', bad);
        }
        assert.deepEqual(readdirSync(ns.nsRoot), []);
      });
    });
  }

  it('nsLinkSync takes only single components: anything else is a TypeError before any syscall', () => {
    const { addon } = loadNsWalkAddon();
    assert.ok(addon);
    for (const dirs of [['..'], ['a/b'], [''], ['.'], ['a\0b']]) {
      assert.throws(() => addon.nsLinkSync(ns.nsRoot, dirs, 'l', TARGET), TypeError, JSON.stringify(dirs));
    }
    assert.throws(() => addon.nsLinkSync(ns.nsRoot, [], '../l', TARGET), TypeError);
    assert.throws(() => addon.nsLinkSync(ns.nsRoot, [], 'l', TARGET, { replaceInto: '/dead' }), TypeError, 'replaceInto needs tempName');
    assert.throws(() => addon.nsLinkSync('', [], 'l', TARGET), TypeError);
    assert.deepEqual(readdirSync(ns.nsRoot), []);
  });

  it('a directory swapped for a symlink to a root file between mkdir and chown is refused by the fallback, the file untouched', () => {
    assert.throws(() => withMkdirSwappedForSymlink(ns.victim, () => writeNamespaceLinkJs({ root: ns.nsRoot, linkPath: join(ns.nsRoot, 'new/link'), target: TARGET })), refused(join(ns.nsRoot, 'new')));
    assert.deepEqual(ownerOf(ns.victim), [0, 0]);
  });
});

describe('namespace writes without the native addon', () => {
  it('root refuses to write a link (NAMESPACE_UNSAFE) and creates nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'ecguard-nsunsafe-'));
    try {
      // a child process whose addon does not load (ECGUARD_NATIVE_ADDON points nowhere)
      const script = `
        import { writeNamespaceLink } from ${JSON.stringify(join(repoRoot, 'dist/agent/namespace/safe-namespace-write.js'))};
        try { writeNamespaceLink({ root: process.argv[1], linkPath: process.argv[1] + '/a/b', target: '/nowhere' }); console.log('written'); }
        catch (e) { console.log(e.code); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', root], { encoding: 'utf8', env: { ...process.env, ECGUARD_NATIVE_ADDON: join(root, 'missing.node') } });
      assert.equal(process.geteuid?.(), 0, 'this test runs as root, as the agent does');
      assert.equal(r.stdout.trim(), 'NAMESPACE_UNSAFE', r.stderr);
      assert.deepEqual(readdirSync(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
