// Quarantine on the agent (DESIGN.md §8.1), on real files with real xattrs: the archive moves
// aside only while it is still exactly what the coordinator decided about, with the namespace
// symlink that points at it (and no other), survives a crash at any step, is purged only after
// the retention, and can be put back.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { quarantineArchive, type QuarantineContext } from '../../../agent/debris/quarantine-move.js';
import { sweepQuarantines } from '../../../agent/debris/quarantine-sweep.js';
import { restoreQuarantine } from '../../../agent/debris/quarantine-restore.js';
import { QUARANTINE_DIR, openOrderIn, openQuarantineRoot, writeManifest } from '../../../agent/debris/quarantine-manifest.js';
import { moveAside } from '../../../agent/debris/quarantine-move.js';
import { DiskDir } from '../../../agent/repair/disk-dir.js';
import { rootOf } from '../../../agent/namespace/namespace-roots.js';
import { DebrisDesk, type DebrisDeskOptions } from '../../../agent/debris/debris-desk.js';
import { quarantineOrderToWire } from '../../../shared/wire/debris-wire.js';
import type { QuarantineOrder, QuarantineResult } from '../../../shared/domain/debris-order.js';
import { makeArchiveTemplate, writeArchive } from '../../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../../helpers/fake-site.js';

const DAY = 86_400_000;

describe('agent: debris quarantine', () => {
  let site: FakeSite;
  let clock: number;
  let diskState: string;
  const tpl = makeArchiveTemplate();
  const ctx = (): QuarantineContext => ({
    disk: (id) => {
      const d = site.disks.find((x) => x.diskId === id);
      return d ? { path: d.path, state: diskState } : undefined;
    },
    namespaceRootOf: (p) => rootOf(p, [site.nsRoot]),
    now: () => clock,
    retentionMs: 7 * DAY,
  });
  const disk0 = (): string => site.disks[0]?.path as string;
  /** An archive of `lfn` on disk 0, and the order the coordinator would send for it now. */
  const debris = (lfn: string, id = `o-${lfn.replace(/\W/g, '')}`): { abs: string; link: string; order: QuarantineOrder } => {
    const abs = site.store(lfn, 0, (p) => writeArchive(p, tpl));
    const st = lstatSync(abs);
    const dataPath = abs.slice(disk0().length + 1);
    const link = join(site.nsRoot, lfn.replace(/^\/data/, ''));
    const pfn = getAttributeSync(abs, 'user.XrdFrm.Pfn').toString('utf8').replace(/\0+$/, '');
    return { abs, link, order: { orderId: id, lfn, diskId: site.disks[0]?.diskId as string, dataPath, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs, strpver: tpl.strpver, pfn, nsPath: link, reason: 'deleted while srv01 was away' } };
  };
  const orderDir = (id: string): DiskDir => {
    const root = openQuarantineRoot(disk0(), true) as DiskDir;
    try {
      return openOrderIn(root, id, true) as DiskDir;
    } finally {
      root.close();
    }
  };
  const tree = (): string[] => {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        out.push(p);
        if (lstatSync(p).isDirectory()) walk(p);
      }
    };
    walk(site.root);
    return out.sort();
  };

  beforeEach(() => {
    site = makeFakeSite();
    clock = Date.parse('2026-11-20T10:00:00Z');
    diskState = 'online';
  });
  afterEach(() => site.cleanup());

  it('moves the data file aside (same inode, xattrs kept) and removes the symlink that pointed at it', () => {
    const { abs, link, order } = debris('/data/a/gone.root');
    const ino = lstatSync(abs).ino;
    const r = quarantineArchive(order, ctx());
    assert.equal(r.outcome, 'quarantined', r.message);
    assert.equal(existsSync(abs), false);
    assert.equal(lstatSync(link, { throwIfNoEntry: false }), undefined, 'symlink removed');
    assert.equal(r.linkRemoved, link);
    const q = r.quarantinePath as string;
    assert.ok(q.startsWith(join(disk0(), QUARANTINE_DIR) + '/'));
    assert.equal(lstatSync(q).ino, ino);
    assert.equal(getAttributeSync(q, 'user.U.xrdec.strpver').toString(), String(tpl.strpver));
    assert.equal(lstatSync(join(disk0(), QUARANTINE_DIR)).mode & 0o777, 0o700, 'the quarantine is root\'s alone');
    assert.equal(r.purgeAfterMs, clock + 7 * DAY);
    const m = JSON.parse(readFileSync(join(q, '..', 'manifest.json'), 'utf8')) as { state: string; dataPath: string; link: { path: string; target: string } };
    assert.equal(m.state, 'done');
    assert.equal(m.dataPath, order.dataPath);
    assert.deepEqual(m.link, { path: link, target: abs });
    // a re-sent order (its answer lost) reports the same move, moves nothing more
    const again = quarantineArchive(order, ctx());
    assert.equal(again.outcome, 'quarantined');
    assert.equal(again.quarantinePath, q);
  });

  it('refuses, moving nothing, when the archive is no longer what was decided about or its disk is not online', () => {
    const cases: [string, (x: ReturnType<typeof debris>) => void, RegExp][] = [
      ['rewritten (another inode)', (x) => { writeArchive(`${x.abs}.new`, tpl); setAttributeSync(`${x.abs}.new`, 'user.XrdFrm.Pfn', getAttributeSync(x.abs, 'user.XrdFrm.Pfn')); renameSync(`${x.abs}.new`, x.abs); }, /another inode/],
      ['grown', (x) => writeFileSync(x.abs, 'more', { flag: 'a' }), /bytes now|modified/],
      ['touched', (x) => utimesSync(x.abs, new Date(), new Date(Date.now() + 5000)), /modified/],
      ['Pfn changed', (x) => setAttributeSync(x.abs, 'user.XrdFrm.Pfn', Buffer.from('/data/other\0')), /Pfn/],
      ['strpver changed', (x) => setAttributeSync(x.abs, 'user.U.xrdec.strpver', Buffer.from(String(tpl.strpver + 1))), /strpver/],
      ['gone', (x) => unlinkSync(x.abs), /gone/],
    ];
    for (const [what, change, why] of cases) {
      const x = debris(`/data/r/${what.replace(/\W/g, '')}.root`);
      change(x);
      const before = tree();
      const r = quarantineArchive(x.order, ctx());
      assert.equal(r.outcome, 'refused', what);
      assert.equal(r.code, 'ARCHIVE_CHANGED', what);
      assert.match(r.message, why, what);
      assert.match(r.message, /nothing was moved/);
      // only the (empty) order directory may have appeared
      assert.deepEqual(tree().filter((p) => !p.includes(QUARANTINE_DIR)), before.filter((p) => !p.includes(QUARANTINE_DIR)), what);
    }
    const y = debris('/data/r/offline.root');
    for (const state of ['failed', 'missing']) {
      diskState = state;
      const r = quarantineArchive(y.order, ctx());
      assert.equal(r.code, 'DISK_NOT_ONLINE', state);
      assert.ok(existsSync(y.abs) && existsSync(y.link), state);
    }
    // downgraded by the scrub: still readable and writable, and where its damaged archives sit
    diskState = 'downgraded';
    const r = quarantineArchive(y.order, ctx());
    assert.equal(r.outcome, 'quarantined', r.message);
    assert.ok(!existsSync(y.abs));
  });

  it('leaves a symlink that points at another data file (the LFN written again) alone', () => {
    const x = debris('/data/b/rewritten.root');
    const fresh = site.store('/data/b/rewritten2.root', 1, (p) => writeArchive(p, tpl), { symlink: false });
    unlinkSync(x.link);
    symlinkSync(fresh, x.link);
    const r = quarantineArchive(x.order, ctx());
    assert.equal(r.outcome, 'quarantined', r.message);
    assert.equal(r.linkRemoved, undefined);
    assert.equal(readlinkSync(x.link), fresh, 'the live symlink is untouched');
  });

  it('a bucket swapped for a symlink: nothing outside the disk is moved', () => {
    const x = debris('/data/c/swapped.root');
    const outside = join(site.root, 'outside');
    const bucket = join(x.abs, '..');
    mkdirSync(outside);
    renameSync(bucket, join(outside, 'real-bucket'));
    symlinkSync(join(outside, 'real-bucket'), bucket);
    const r = quarantineArchive(x.order, ctx());
    assert.equal(r.outcome, 'failed');
    assert.equal(r.code, 'DISK_NOT_DIRECTORY');
    assert.ok(existsSync(join(outside, 'real-bucket', x.abs.split('/').pop() as string)), 'the file behind the symlink stays');
  });

  it('a crash mid-move is undone (file still in its bucket) or finished (file already moved) at start', () => {
    // crash after the manifest and the hard link, before the unlink: undone
    const a = debris('/data/d/undo.root');
    const qa = orderDir(a.order.orderId);
    writeManifest(qa, { version: 1, orderId: a.order.orderId, state: 'begun', at: clock, lfn: a.order.lfn, reason: 'x', diskId: a.order.diskId, dataPath: a.order.dataPath, inode: a.order.inode, size: a.order.size, link: { path: a.link, target: a.abs } });
    linkSync(a.abs, join(qa.path, 'archive'));
    qa.close();
    // crash after the unlink, before the symlink went: finished
    const b = debris('/data/d/finish.root');
    const qb = orderDir(b.order.orderId);
    writeManifest(qb, { version: 1, orderId: b.order.orderId, state: 'begun', at: clock, lfn: b.order.lfn, reason: 'x', diskId: b.order.diskId, dataPath: b.order.dataPath, inode: b.order.inode, size: b.order.size, link: { path: b.link, target: b.abs } });
    linkSync(b.abs, join(qb.path, 'archive'));
    unlinkSync(b.abs);
    qb.close();
    const r = sweepQuarantines([{ diskId: site.disks[0]?.diskId as string, path: disk0() }], ctx(), { retentionMs: 7 * DAY, purge: true, recover: true });
    assert.equal(r.undone, 1);
    assert.equal(r.finished, 1);
    assert.deepEqual(r.problems, []);
    assert.ok(existsSync(a.abs) && readlinkSync(a.link) === a.abs, 'the undone move left the archive and its link as they were');
    assert.equal(lstatSync(a.abs).nlink, 1, 'no extra hard link left');
    assert.equal(existsSync(join(disk0(), QUARANTINE_DIR, a.order.orderId)), false);
    assert.equal(lstatSync(b.link, { throwIfNoEntry: false }), undefined, 'the finished move removed the dangling link');
    assert.deepEqual(r.kept.map((e) => e.manifest.orderId), [b.order.orderId]);
  });

  it('purges only quarantines older than the retention, and nothing else on the disk', () => {
    const old = debris('/data/e/old.root');
    assert.equal(quarantineArchive(old.order, ctx()).outcome, 'quarantined');
    clock += 5 * DAY;
    const young = debris('/data/e/young.root');
    assert.equal(quarantineArchive(young.order, ctx()).outcome, 'quarantined');
    const keep = debris('/data/e/live.root');
    clock += 2 * DAY + 1000;
    const r = sweepQuarantines([{ diskId: site.disks[0]?.diskId as string, path: disk0() }], ctx(), { retentionMs: 7 * DAY, purge: true, recover: true });
    assert.deepEqual(r.purged.map((e) => e.manifest.orderId), [old.order.orderId]);
    assert.deepEqual(r.kept.map((e) => e.manifest.orderId), [young.order.orderId]);
    assert.equal(existsSync(join(disk0(), QUARANTINE_DIR, old.order.orderId)), false);
    assert.ok(existsSync(join(disk0(), QUARANTINE_DIR, young.order.orderId, 'archive')));
    assert.ok(existsSync(keep.abs) && existsSync(keep.link), 'a live archive is never touched');
  });

  it('restore puts the archive and its symlink back, and never over a file written since', () => {
    const x = debris('/data/f/back.root');
    assert.equal(quarantineArchive(x.order, ctx()).outcome, 'quarantined');
    const out = restoreQuarantine(disk0(), x.order.orderId, (p) => rootOf(p, [site.nsRoot]), { dryRun: false });
    assert.equal(out.restored, true, out.message);
    assert.equal(out.linkRestored, true, out.message);
    assert.equal(lstatSync(x.abs).ino, x.order.inode);
    assert.equal(readlinkSync(x.link), x.abs);
    assert.equal(existsSync(join(disk0(), QUARANTINE_DIR, x.order.orderId)), false);

    const y = debris('/data/f/taken.root');
    assert.equal(quarantineArchive(y.order, ctx()).outcome, 'quarantined');
    writeFileSync(y.abs, 'new');
    const no = restoreQuarantine(disk0(), y.order.orderId, (p) => rootOf(p, [site.nsRoot]), { dryRun: false });
    assert.equal(no.restored, false);
    assert.match(no.message, /exists again/);
    assert.equal(readFileSync(y.abs, 'utf8'), 'new', 'the new file is not overwritten');
    assert.ok(existsSync(join(disk0(), QUARANTINE_DIR, y.order.orderId, 'archive')), 'the quarantined archive stays');
    rmSync(y.abs);
  });

  it('the agent\'s desk answers every order (one at a time, in order), counts outcomes and what it keeps, and purges on its sweep', async () => {
    const desk = new DebrisDesk({
      runtime: { disk: (id: string) => site.disks.find((d) => d.diskId === id), diskHealth: () => site.disks.map((d) => ({ diskId: d.diskId, state: 'online' as const, since: 0, evidence: [] })) } as unknown as DebrisDeskOptions['runtime'],
      layout: { serverId: 'srv01', disks: site.disks, ...(site.localroot !== undefined ? { localroot: site.localroot } : {}), exports: ['/data'] },
      retentionMs: 7 * DAY, now: () => clock,
    });
    const answers: QuarantineResult[] = [];
    desk.bind((r) => answers.push(r));
    const x = debris('/data/g/one.root');
    const y = debris('/data/g/two.root');
    writeFileSync(y.abs, 'changed', { flag: 'a' });
    desk.onQuarantine(quarantineOrderToWire(x.order));
    desk.onQuarantine(quarantineOrderToWire(y.order));
    desk.onQuarantine({ ...quarantineOrderToWire(x.order), orderId: '../escape' });
    assert.equal(answers.length, 0, 'queued, not carried out inside the message handler');
    for (let i = 0; i < 100 && answers.length < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(answers.map((a) => a.outcome), ['quarantined', 'refused', 'failed']);
    assert.equal(answers[2]?.code, 'BAD_ORDER');
    assert.deepEqual({ ...desk.stats }, { quarantined: 1, refused: 1, failed: 1, purged: 0, kept: 1, keptBytes: x.order.size });
    clock += 8 * DAY;
    const r = desk.sweep();
    assert.equal(r.purged.length, 1);
    assert.deepEqual({ kept: desk.stats.kept, purged: desk.stats.purged }, { kept: 0, purged: 1 });
    assert.ok(existsSync(y.abs), 'the refused one is untouched');
  });

  it('a refused order leaves no trace; a listing never finishes or undoes a move (only the agent recovers)', () => {
    const x = debris('/data/h/refused.root');
    writeFileSync(x.abs, 'more', { flag: 'a' });
    assert.equal(quarantineArchive(x.order, ctx()).outcome, 'refused');
    assert.equal(existsSync(join(disk0(), QUARANTINE_DIR, x.order.orderId)), false, 'no empty order directory');
    // a begun move (the agent may be making it right now): a listing leaves it exactly as it is
    const y = debris('/data/h/inflight.root');
    const q = orderDir(y.order.orderId);
    writeManifest(q, { version: 1, orderId: y.order.orderId, state: 'begun', at: clock, lfn: y.order.lfn, reason: 'x', diskId: y.order.diskId, dataPath: y.order.dataPath, inode: y.order.inode, size: y.order.size });
    linkSync(y.abs, join(q.path, 'archive'));
    q.close();
    const before = tree();
    const r = sweepQuarantines([{ diskId: site.disks[0]?.diskId as string, path: disk0() }], ctx(), { retentionMs: 0, purge: false, recover: false });
    assert.deepEqual([r.undone, r.finished], [0, 0]);
    assert.deepEqual(r.kept.map((e) => e.manifest.state), ['begun']);
    assert.deepEqual(tree(), before);
  });

  it('an archive rewritten in place during the move (same inode) is put back under its name', () => {
    const x = debris('/data/h/rewritten.root');
    const parts = x.order.dataPath.split('/');
    const bucket = DiskDir.open(disk0(), [parts[0] as string, parts[1] as string]);
    const q = orderDir(x.order.orderId);
    writeFileSync(x.abs, 'new stripe bytes', { flag: 'a' }); // after the first check, before the link
    const why = moveAside(bucket, parts[2] as string, q, x.order);
    bucket.close();
    assert.match(why ?? '', /bytes now|modified/);
    assert.equal(lstatSync(x.abs).ino, x.order.inode, 'still under its name');
    assert.equal(lstatSync(x.abs).nlink, 1, 'no quarantine link left');
    q.close();
  });

  it('a quarantine directory that is not the agent\'s own and private is refused; nothing in it is used', () => {
    // the xrootd account owning the disk root renamed ours away and made its own, with a planted
    // begun manifest whose temp file is a hard link to a live archive
    const victim = debris('/data/i/live.root');
    const x = debris('/data/i/debris.root');
    const root = join(disk0(), QUARANTINE_DIR);
    const planted = join(root, 'evil');
    mkdirSync(planted, { recursive: true });
    writeFileSync(join(planted, 'manifest.json'), JSON.stringify({ version: 1, orderId: 'evil', state: 'begun', at: 0, lfn: '/data/x', reason: 'x', diskId: x.order.diskId, dataPath: 'public/00/nothing%', inode: 1, size: 1 }));
    linkSync(victim.abs, join(planted, 'manifest.json.tmp'));
    chownSync(root, 65534, 65534);
    const before = readFileSync(victim.abs);
    const r = sweepQuarantines([{ diskId: site.disks[0]?.diskId as string, path: disk0() }], ctx(), { retentionMs: 0, purge: true, recover: true });
    assert.match(r.problems.join('\n'), /not this agent's own private directory/);
    const q = quarantineArchive(x.order, ctx());
    assert.deepEqual([q.outcome, q.code], ['failed', 'QUARANTINE_UNSAFE']);
    assert.ok(existsSync(x.abs), 'the debris stays where it is');
    assert.deepEqual(readFileSync(victim.abs), before, 'the live archive is untouched');
    chownSync(root, 0, 0);
    chmodSync(root, 0o755); // ours, but readable by others: refused too
    assert.equal(quarantineArchive(x.order, ctx()).code, 'QUARANTINE_UNSAFE');
  });
});
