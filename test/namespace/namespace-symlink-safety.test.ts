// Root writing into a namespace the xrootd account owns (found by review): a symlink it plants
// as a directory of a link path, before the plan or between plan and apply, leads nothing
// outside the namespace; a directory swapped for a symlink right after root's mkdir is never
// chowned through; a directory a crash left root's is given back to the namespace owner.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { applyRebuild, planRebuild, type RebuildPlan } from '../../agent/namespace/namespace-rebuild.js';
import { createNamespaceLink } from '../../agent/repair/namespace-link.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { writeNamespaceLinkJs } from '../../agent/namespace/safe-namespace-write.js';
import { asRoot, makeHostileNamespace, withMkdirSwappedForSymlink, type HostileNamespace } from '../helpers/hostile-namespace.js';

const DISK = { diskId: 'srv1:/disk1', space: 'public', path: '/disk1' };
const TARGET = '/disk1/public/00/3412036B4324000000007f00000100000001000000A6%';

function unlinked(pfn: string, nsRoot: string): ArchiveRecord {
  return {
    serverId: 'srv1', diskId: DISK.diskId, space: 'public', dataPath: 'public/00/3412036B4324000000007f00000100000001000000A6%',
    pfn, lfn: pfn.slice(nsRoot.length - '/data'.length), size: 0, mtimeMs: 0, inode: 1, nblocks: 0, nentries: 0, regular: true, parseStatus: 'empty',
  };
}

/** A plan made while the path was clean; the namespace changes before it is applied. */
function stalePlan(ns: HostileNamespace, linkPath: string, createDirs: string[]): RebuildPlan {
  return { actions: [{ lfn: linkPath.slice(ns.nsRoot.length - '/data'.length), linkPath, target: TARGET, createDirs }], skipped: [], nsRoots: [ns.nsRoot] };
}

const ownerOf = (p: string): [number, number] => {
  const st = lstatSync(p);
  return [st.uid, st.gid];
};

describe('namespace: root never follows a symlink the namespace owner planted', function () {
  let ns: HostileNamespace;
  beforeEach(function () {
    if (!asRoot) this.skip(); // chown needs root; CI runs as root
    ns = makeHostileNamespace();
  });
  afterEach(() => ns?.cleanup());

  it('rebuild: an ancestor symlink is skipped at plan time and refused at apply; nothing is created outside', () => {
    symlinkSync(ns.outside, join(ns.nsRoot, 'a')); // the namespace owner: data/a -> /etc
    const pfn = join(ns.nsRoot, 'a/ssl/evil.conf');
    const plan = planRebuild([unlinked(pfn, ns.nsRoot)], [], [DISK], [ns.nsRoot]);
    assert.deepEqual(plan.actions, []);
    assert.match(plan.skipped[0]?.reason ?? '', /a is a symlink, where a directory should be/);
    // Planted after the plan: apply refuses too.
    const out = applyRebuild(stalePlan(ns, pfn, []));
    assert.deepEqual(out.created, []);
    assert.match(out.failed[0]?.error ?? '', /a is a symlink or not a directory, where a directory of the namespace should be/);
    assert.deepEqual(readdirSync(join(ns.outside, 'ssl')), [], 'nothing linked outside');
  });

  it('rebuild: a directory planned as missing and planted as a symlink meanwhile is not created through', () => {
    const pfn = join(ns.nsRoot, 'zz/sub/evil');
    const plan = stalePlan(ns, pfn, [join(ns.nsRoot, 'zz'), join(ns.nsRoot, 'zz/sub')]);
    symlinkSync(ns.outside, join(ns.nsRoot, 'zz'));
    const out = applyRebuild(plan);
    assert.equal(out.failed.length, 1);
    assert.deepEqual(readdirSync(ns.outside), ['ssl'], 'no directory made outside');
  });

  // The native walk (mkdirat, then openat O_NOFOLLOW) cannot be raced from here: its openat is
  // what the "planted meanwhile" test above proves. This stages the race on the path-based writer.
  it('path-based writer: a new directory swapped for a symlink to a root file right after mkdir does not give root\'s file away', () => {
    const pfn = join(ns.nsRoot, 'd/x');
    assert.throws(() => withMkdirSwappedForSymlink(ns.victim, () => writeNamespaceLinkJs({ root: ns.nsRoot, linkPath: pfn, target: TARGET })));
    assert.deepEqual(ownerOf(ns.victim), [0, 0], 'the victim file keeps its owner');
    assert.equal(statSync(ns.victim).mode & 0o777, 0o600);
  });

  it('rebuild: a directory a killed run left root\'s (empty) is given its parent\'s owner, and the link made in it', () => {
    const half = join(ns.nsRoot, 'newdir');
    mkdirSync(half, { mode: 0o755 }); // mkdir done, chown not yet: the run was killed
    const pfn = join(half, 'file1');
    const out = applyRebuild(planRebuild([unlinked(pfn, ns.nsRoot)], [], [DISK], [ns.nsRoot]));
    assert.equal(out.created.length, 1);
    assert.deepEqual(ownerOf(half), [ns.owner.uid, ns.owner.gid]);
    assert.deepEqual(ownerOf(pfn), [ns.owner.uid, ns.owner.gid]);
    assert.equal(readlinkSync(pfn), TARGET);
  });

  it('rebuild: creates missing directories and the link owned like the namespace', () => {
    const pfn = join(ns.nsRoot, 'p/q/file');
    const out = applyRebuild(planRebuild([unlinked(pfn, ns.nsRoot)], [], [DISK], [ns.nsRoot]));
    assert.deepEqual(out.created.map((a) => a.createDirs), [[join(ns.nsRoot, 'p'), join(ns.nsRoot, 'p/q')]]);
    for (const p of ['p', 'p/q', 'p/q/file']) assert.deepEqual(ownerOf(join(ns.nsRoot, p)), [ns.owner.uid, ns.owner.gid], p);
  });

  it('rebuild: a link that appeared since the plan is not overwritten', () => {
    const pfn = join(ns.nsRoot, 'taken');
    const plan = planRebuild([unlinked(pfn, ns.nsRoot)], [], [DISK], [ns.nsRoot]);
    symlinkSync('/elsewhere', pfn);
    const out = applyRebuild(plan);
    assert.match(out.failed[0]?.error ?? '', /appeared meanwhile: not overwritten/);
    assert.equal(readlinkSync(pfn), '/elsewhere');
  });

  it('repair link: an ancestor symlink makes createNamespaceLink refuse; nothing is created outside', () => {
    symlinkSync(ns.outside, join(ns.nsRoot, 'a'));
    const r = createNamespaceLink(join(ns.nsRoot, 'a/ssl/evil'), TARGET, ns.nsRoot);
    assert.equal(r.linked, false);
    assert.match(r.problem ?? '', /a is a symlink or not a directory/);
    assert.deepEqual(readdirSync(join(ns.outside, 'ssl')), []);
    symlinkSync(ns.victim, join(ns.nsRoot, 'f')); // to a file: refused the same way, the file untouched
    assert.equal(createNamespaceLink(join(ns.nsRoot, 'f/x/evil'), TARGET, ns.nsRoot).linked, false);
    assert.deepEqual(ownerOf(ns.victim), [0, 0]);
  });

  it('repair link: missing directories get the namespace owner, a crash-left one is fixed, an existing link is kept', () => {
    const half = join(ns.nsRoot, 'half');
    mkdirSync(half);
    assert.deepEqual(createNamespaceLink(join(half, 'deep/obj'), TARGET, ns.nsRoot), { linked: true });
    for (const p of ['half', 'half/deep', 'half/deep/obj']) assert.deepEqual(ownerOf(join(ns.nsRoot, p)), [ns.owner.uid, ns.owner.gid], p);
    const r = createNamespaceLink(join(half, 'deep/obj'), '/disk2/public/00/other%', ns.nsRoot);
    assert.equal(r.linked, false);
    assert.match(r.problem ?? '', /not overwritten/);
    assert.equal(readlinkSync(join(half, 'deep/obj')), TARGET);
  });
});
