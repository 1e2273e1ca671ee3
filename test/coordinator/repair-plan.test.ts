// The repair planner's rules (DESIGN.md §4, §7.1), as a pure function: graces, placement,
// idempotent slots, and what cannot be planned.
import assert from 'node:assert/strict';
import type { ArchiveRow, DiskState } from '../../coordinator/catalog/catalog-types.js';
import { planRepair, type PlanInput, type ServerView } from '../../coordinator/repair/repair-plan.js';
import { archiveKeyOf } from '../../coordinator/health/health-engine.js';
import type { PlacementView } from '../../coordinator/repair/target-placement.js';
import { archive as catalogArchive } from './catalog/catalog-fixtures.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const LFN = '/data/f1';
const NOW = 10_000_000;

/** Servers s0..s(n-1), each with disks 0 and 1; the file's archive i on server i, disk 0. */
function world(o: { servers?: number; archives?: number; down?: Record<string, number>; lost?: string[]; disks?: Record<string, DiskState>; full?: string[] } = {}) {
  const servers = Array.from({ length: o.servers ?? 8 }, (_, i) => `s${i}`);
  const archives: ArchiveRow[] = Array.from({ length: o.archives ?? 6 }, (_, i) => ({ ...catalogArchive(`s${i}`, 0, LFN, { filesize: 3 * 4 * 4096 + 100, nblocks: 4, nentries: 4 }), serverId: `s${i}` }));
  const server = (id: string): ServerView | undefined => {
    if (!servers.includes(id)) return undefined;
    if (o.lost?.includes(id)) return { state: 'lost', since: 0 };
    if (o.down?.[id] !== undefined) return { state: 'down', since: o.down[id] as number };
    return { state: 'up', since: 0 };
  };
  const disk = (id: string): { state: DiskState; serverId: string } | undefined => ({ state: o.disks?.[id] ?? 'online', serverId: id.split(':')[0] as string });
  const up = servers.filter((s) => server(s)?.state === 'up');
  const placement: PlacementView = {
    servers: up,
    disksOf: (s, need) => [0, 1].map((n) => `${s}:/data/disk${n}`).filter((d) => (o.disks?.[d] ?? 'online') === 'online' && !(need !== undefined && need > 0 && o.full?.includes(d))),
    load: () => 0,
  };
  const input: PlanInput = { lfn: LFN, archives, profile: P42, server, disk, placement, nowMs: NOW, lostAfterMs: 3600_000, criticalAfterMs: 600_000 };
  return input;
}

describe('repair planner', () => {
  it('plans nothing for a healthy file', () => {
    assert.equal(planRepair(world()).kind, 'none');
  });

  it('a 0-byte archive of a non-empty file (truncated to nothing) is no source', () => {
    const w = world({ disks: { 's2:/data/disk0': 'failed' } });
    const archives = w.archives.map((a) => (a.serverId === 's0' ? { ...a, size: 0, parseStatus: 'empty' as const, nblocks: 0, nentries: 0 } : a));
    const d = planRepair({ ...w, archives });
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.ok(!d.plan.sources.some((x) => x.serverId === 's0'), 'not read from');
    assert.equal(d.plan.sources.length, 4);
  });

  it('a failed disk of an up server: rebuilt at once on that server\'s other disk, replacing the dangling link', () => {
    const d = planRepair(world({ disks: { 's2:/data/disk0': 'failed' } }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.deepEqual(d.plan.targets, [{ slot: 0, serverId: 's2', diskId: 's2:/data/disk1', replaceLinkOfDisk: 's2:/data/disk0' }]);
    assert.equal(d.plan.sources.length, 5);
    assert.ok(!d.plan.sources.some((s) => s.serverId === 's2'));
    assert.equal(d.redundancy, 1);
  });

  it('an archive its holder reports unreadable (scrub): rebuilt on that server\'s other disk, replacing its link; never read', () => {
    const w = world({ servers: 8 });
    const archives = w.archives.map((a) => (a.serverId === 's3' ? { ...a, parseStatus: 'unreadable' as const, parseError: 'scrub: 1 corrupt or unreadable stripe entry' } : a));
    const d = planRepair({ ...w, archives, disk: (id) => ({ state: id === 's3:/data/disk0' ? 'downgraded' : 'online', serverId: id.split(':')[0] as string }) });
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.deepEqual(d.plan.targets, [{ slot: 0, serverId: 's3', diskId: 's3:/data/disk1', replaceLinkOfDisk: 's3:/data/disk0' }]);
    assert.ok(!d.plan.sources.some((x) => x.serverId === 's3'));
    assert.match(d.reason, /unreadable \(scrub: 1 corrupt/);
    // an archive a scan could not read (EIO) is not taken for one: rebuilt on a server without an archive of the file
    const eio = w.archives.map((a) => (a.serverId === 's3' ? { ...a, parseStatus: 'unreadable' as const, parseError: 'EIO: i/o error, read' } : a));
    const other = planRepair({ ...w, archives: eio });
    assert.equal(other.kind, 'plan');
    if (other.kind === 'plan') assert.ok(!other.plan.targets.some((t) => t.serverId === 's3' || t.replaceLinkOfDisk !== undefined), JSON.stringify(other.plan.targets));
    // once an earlier repair replaced it, it asks for nothing more
    const replaced = new Map([[archiveKeyOf(archives[3] as ArchiveRow), 't1']]);
    const after = planRepair({ ...w, archives, replaced });
    assert.notEqual(after.kind === 'plan' ? after.plan.targets[0]?.serverId : undefined, 's3');
  });

  describe('an object with .mt files (each archive tied to its server)', () => {
    /** The .mt file of the object on these servers (disk 1, so a failed disk 0 leaves it). */
    const mtOn = (servers: readonly string[]): ArchiveRow[] =>
      servers.map((s) => ({ ...catalogArchive(s, 1, `${LFN}.mt`, { strpver: undefined, filesize: undefined, parseStatus: 'not-ec', parseError: 'XrdEc metadata (.mt) of /data/f1: 6 members' }), serverId: s }));
    const withDigests = (w: PlanInput): PlanInput => ({ ...w, archives: w.archives.map((a) => ({ ...a, cdDigest: `00000000000000${a.serverId.slice(1).padStart(2, '0')}` })) });

    it('a failed disk of an up server: rebuilt on that server, keeping the lost directory, .mt files as sources', () => {
      const d = planRepair({ ...withDigests(world({ disks: { 's2:/data/disk0': 'failed' } })), metadata: mtOn(['s0', 's1', 's3']) });
      assert.equal(d.kind, 'plan');
      if (d.kind !== 'plan') return;
      assert.deepEqual(d.plan.targets, [{ slot: 0, serverId: 's2', diskId: 's2:/data/disk1', replaceLinkOfDisk: 's2:/data/disk0', directoryDigest: '0000000000000002' }]);
      assert.deepEqual(d.plan.metadataSources?.map((m) => m.serverId), ['s0', 's1', 's3']);
      assert.equal(planRepair({ ...world(), metadata: mtOn(['s0']) }).kind, 'none', 'a healthy one is just healthy');
    });

    it('never moves to another server: a lost server, a full disk or an unknown directory is impossible, saying what to do', () => {
      const lost = planRepair({ ...withDigests(world({ lost: ['s1'] })), metadata: mtOn(['s0', 's2']) });
      assert.equal(lost.kind, 'impossible');
      assert.match(lost.kind === 'impossible' ? lost.reason : '', /tie each archive to its server: the archive on s1 .*not up; copy the file/);
      const full = planRepair({ ...withDigests(world({ disks: { 's2:/data/disk0': 'failed' }, full: ['s2:/data/disk1'] })), metadata: mtOn(['s0']) });
      assert.match(full.kind === 'impossible' ? full.reason : '', /another online disk of that server with room/);
      const w = world({ disks: { 's2:/data/disk0': 'failed' } });
      const unknown = planRepair({ ...w, archives: w.archives.map((a) => (a.serverId === 's2' ? { ...a, cdDigest: undefined } : a)), metadata: mtOn(['s0']) });
      assert.match(unknown.kind === 'impossible' ? unknown.reason : '', /no directory digest in the catalog/);
    });

    it('the empty object: its 0-byte archive has no directory to keep, rebuilt on its server all the same', () => {
      const w = world({ disks: { 's2:/data/disk0': 'failed' } });
      const empty = w.archives.map((a) => {
        const { cdDigest: _d, crcKind: _c, ...rest } = a;
        return { ...rest, filesize: 0, nblocks: 0, nentries: 0, size: 0, parseStatus: 'empty' as const };
      });
      const d = planRepair({ ...w, archives: empty, metadata: mtOn(['s0']) });
      assert.equal(d.kind, 'plan', d.kind !== 'plan' ? d.reason : '');
      if (d.kind === 'plan') assert.deepEqual(d.plan.targets, [{ slot: 0, serverId: 's2', diskId: 's2:/data/disk1', replaceLinkOfDisk: 's2:/data/disk0' }]);
    });

    it('the server\'s own .mt copy died with the disk: the target restores it', () => {
      const w = withDigests(world({ disks: { 's2:/data/disk0': 'failed' } }));
      const mt = [...mtOn(['s0', 's1']), { ...(mtOn(['s2'])[0] as ArchiveRow), diskId: 's2:/data/disk0' }];
      const d = planRepair({ ...w, metadata: mt });
      assert.equal(d.kind === 'plan' ? d.plan.targets[0]?.metadataLostOnDisk : 'none', 's2:/data/disk0');
      assert.deepEqual(d.kind === 'plan' ? d.plan.metadataSources?.map((m) => m.serverId) : [], ['s0', 's1']);
      const kept = planRepair({ ...w, metadata: mtOn(['s0', 's2']) });
      assert.equal(kept.kind === 'plan' ? kept.plan.targets[0]?.metadataLostOnDisk : 'none', undefined, 'its copy on the other disk is alive');
    });

    it('waits when no .mt file can be read now', () => {
      const d = planRepair({ ...withDigests(world({ disks: { 's2:/data/disk0': 'failed', 's0:/data/disk1': 'missing' } })), metadata: mtOn(['s0']) });
      assert.equal(d.kind, 'impossible');
      assert.match(d.kind === 'impossible' ? d.reason : '', /none is readable now \(on s0\)/);
    });

    it('a retry keeps the earlier target and its slot', () => {
      const w = { ...withDigests(world({ disks: { 's2:/data/disk0': 'failed' } })), metadata: mtOn(['s0']) };
      const d = planRepair({ ...w, previousTargets: [{ slot: 3, serverId: 's2', diskId: 's2:/data/disk1', directoryDigest: '0000000000000002' }] });
      assert.equal(d.kind === 'plan' ? d.plan.targets[0]?.slot : -1, 3);
    });
  });

  it('a disk without room is never a target: the dead disk\'s server falls back to another server, none left is impossible', () => {
    const d = planRepair(world({ disks: { 's2:/data/disk0': 'failed' }, full: ['s2:/data/disk1'] }));
    assert.equal(d.kind, 'plan');
    if (d.kind === 'plan') assert.ok(['s6', 's7'].includes(d.plan.targets[0]?.serverId as string), `target ${JSON.stringify(d.plan.targets)}`);
    const none = planRepair(world({ disks: { 's2:/data/disk0': 'failed' }, full: ['s2:/data/disk1', 's6:/data/disk0', 's6:/data/disk1', 's7:/data/disk0', 's7:/data/disk1'] }));
    assert.equal(none.kind, 'impossible');
    assert.match(none.kind === 'impossible' ? none.reason : '', /with room for \d+ more bytes: 0/);
  });

  it('a lost server: rebuilt on a server holding no archive of the file', () => {
    const d = planRepair(world({ lost: ['s1'] }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.equal(d.plan.targets.length, 1);
    assert.ok(['s6', 's7'].includes(d.plan.targets[0]?.serverId as string), `target ${d.plan.targets[0]?.serverId}`);
  });

  it('a down server within its grace: waits until the grace ends, and says until when', () => {
    const d = planRepair(world({ down: { s3: NOW - 60_000 } }));
    assert.equal(d.kind, 'wait');
    if (d.kind === 'wait') {
      assert.equal(d.until, NOW - 60_000 + 3600_000);
      assert.match(d.reason, /s3/);
    }
  });

  it('past the grace (or forced by an operator) the down server\'s archive is rebuilt elsewhere', () => {
    assert.equal(planRepair(world({ down: { s3: NOW - 3600_001 } })).kind, 'plan');
    assert.equal(planRepair({ ...world({ down: { s3: NOW - 60_000 } }), force: true }).kind, 'plan');
  });

  it('redundancy 0 shortens the grace to criticalAfter', () => {
    const w = world({ down: { s3: NOW - 700_000, s4: NOW - 700_000 } });
    const d = planRepair(w);
    assert.equal(d.kind, 'plan');
    if (d.kind === 'plan') assert.equal(d.plan.targets.length, 2);
    assert.equal(planRepair(world({ down: { s3: NOW - 500_000, s4: NOW - 500_000 } })).kind, 'wait');
  });

  it('a server that already holds a live archive of the file (an earlier repair) is never a target again', () => {
    const w = world({ disks: { 's2:/data/disk0': 'failed', 's3:/data/disk0': 'failed' } });
    const repaired = { ...(w.archives[2] as ArchiveRow), diskId: 's2:/data/disk1', dataPath: 'public/0B/new%' };
    const d = planRepair({ ...w, archives: [...w.archives, repaired] });
    assert.equal(d.kind, 'plan');
    if (d.kind === 'plan') assert.deepEqual(d.plan.targets.map((t) => [t.serverId, t.diskId, t.replaceLinkOfDisk]), [['s3', 's3:/data/disk1', 's3:/data/disk0']]);
  });

  it('two lost archives: one task, two targets on two different servers', () => {
    const d = planRepair(world({ disks: { 's0:/data/disk0': 'failed' }, lost: ['s5'] }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.equal(d.plan.targets.length, 2);
    assert.equal(new Set(d.plan.targets.map((t) => t.serverId)).size, 2);
    assert.equal(d.redundancy, 0);
  });

  it('fewer than N available: impossible, with the reason', () => {
    const d = planRepair(world({ lost: ['s0', 's1', 's2'] }));
    assert.equal(d.kind, 'impossible');
    if (d.kind === 'impossible') assert.match(d.reason, /only 3 of the 4/);
  });

  it('no server free to take an archive: impossible, never two archives on one server', () => {
    const d = planRepair(world({ servers: 6, lost: ['s5'] }));
    assert.equal(d.kind, 'impossible');
    if (d.kind === 'impossible') assert.match(d.reason, /at most one archive/);
  });

  it('a retry keeps usable earlier targets and their slots; new targets get fresh slot numbers', () => {
    const w = world({ servers: 9, lost: ['s4', 's5'] });
    const first = planRepair(w);
    assert.equal(first.kind, 'plan');
    if (first.kind !== 'plan') return;
    const [a, b] = first.plan.targets;
    const again = planRepair({ ...w, previousTargets: first.plan.targets });
    assert.equal(again.kind, 'plan');
    if (again.kind === 'plan') assert.deepEqual(again.plan.targets, first.plan.targets);
    // b's server went away: a keeps its slot, the replacement gets slot 2.
    const w2 = { ...w, placement: { ...w.placement, servers: w.placement.servers.filter((s) => s !== b?.serverId) } };
    const third = planRepair({ ...w2, previousTargets: first.plan.targets });
    assert.equal(third.kind, 'plan');
    if (third.kind !== 'plan') return;
    assert.deepEqual(third.plan.targets[0], a);
    assert.equal(third.plan.targets[1]?.slot, 2);
    assert.notEqual(third.plan.targets[1]?.serverId, b?.serverId);
  });

  it('only the newest version counts; versions disagreeing on filesize are left to an operator', () => {
    const w = world({ lost: ['s5'] });
    const old = { ...(w.archives[0] as ArchiveRow), serverId: 's7', diskId: 's7:/data/disk0', strpver: 1 };
    const d = planRepair({ ...w, archives: [...w.archives, old] });
    assert.equal(d.kind, 'plan');
    if (d.kind === 'plan') {
      assert.ok(!d.plan.sources.some((s) => s.serverId === 's7'));
      assert.ok(!d.plan.targets.some((t) => t.serverId === 's7'), 's7 holds an (old) archive of the file: its namespace link is taken');
    }
    const bad = { ...w, archives: w.archives.map((a, i) => (i === 0 ? { ...a, filesize: 5 } : a)) };
    assert.equal(planRepair(bad).kind, 'impossible');
  });

  it('byte estimates: N stripes per block read, one stripe per block per new archive written', () => {
    const d = planRepair(world({ lost: ['s5'] }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.equal(d.plan.bytesRead, 3 * 4 * 4096 + 100);
    assert.equal(d.plan.bytesWritten, 3 * 4096 + 100);
  });
});
