// Drains (`ecguard drain`) as the planner sees them: a pure function of the file's archives, the
// cluster and which places are drained. A drained archive is rebuilt elsewhere from the others,
// never read for it, and only while the others still give N stripes per block.
import assert from 'node:assert/strict';
import type { ArchiveRow, DiskState } from '../../coordinator/catalog/catalog-types.js';
import { planRepair, type PlanInput, type ServerView } from '../../coordinator/repair/repair-plan.js';
import type { PlacementView } from '../../coordinator/repair/target-placement.js';
import { archive as catalogArchive } from './catalog/catalog-fixtures.js';

const P42 = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const LFN = '/data/f1';
const disk0 = (s: string): string => `${s}:/data/disk0`;

/** Servers s0..s(n-1) with disks 0 and 1; archive i on server i, disk 0; `drained`: disk ids or `server:ID`. */
function world(o: { servers?: number; drained?: string[]; disks?: Record<string, DiskState>; down?: string[] } = {}): PlanInput {
  const servers = Array.from({ length: o.servers ?? 8 }, (_, i) => `s${i}`);
  const archives: ArchiveRow[] = Array.from({ length: 6 }, (_, i) => ({ ...catalogArchive(`s${i}`, 0, LFN, { filesize: 3 * 4 * 4096 + 100, nblocks: 4, nentries: 4 }), serverId: `s${i}` }));
  const drained = new Set(o.drained ?? []);
  const serverDraining = (s: string): boolean => drained.has(`server:${s}`);
  const why = (s: string, d: string): string | undefined => (serverDraining(s) ? `server ${s} is being drained` : drained.has(d) ? `disk ${d} is being drained` : undefined);
  const server = (id: string): ServerView | undefined => (servers.includes(id) ? (o.down?.includes(id) ? { state: 'down', since: 10_000_000 - 60_000 } : { state: 'up', since: 0 }) : undefined);
  const disk = (id: string): { state: DiskState; serverId: string } => ({ state: o.disks?.[id] ?? 'online', serverId: id.split(':')[0] as string });
  // as the repair manager builds it: drained servers and disks take nothing
  const placement: PlacementView = {
    servers: servers.filter((s) => !o.down?.includes(s) && !serverDraining(s)),
    disksOf: (s) => [0, 1].map((n) => `${s}:/data/disk${n}`).filter((d) => (o.disks?.[d] ?? 'online') === 'online' && why(s, d) === undefined),
    load: () => 0,
  };
  return { lfn: LFN, archives, profile: P42, server, disk, placement, nowMs: 10_000_000, lostAfterMs: 3600_000, criticalAfterMs: 600_000, draining: why, serverDraining };
}

describe('repair planner: drains', () => {
  it('a drained disk of a server that stays: its archive is rebuilt on that server\'s other disk, the link moving only from exactly that file', () => {
    const w = world({ drained: [disk0('s2')] });
    const d = planRepair(w);
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    const old = w.archives.find((a) => a.serverId === 's2') as ArchiveRow;
    assert.deepEqual(d.plan.targets, [{ slot: 0, serverId: 's2', diskId: 's2:/data/disk1', replaceLinkOfDisk: disk0('s2'), replaceLinkOfPath: old.dataPath }]);
    assert.ok(!d.plan.sources.some((x) => x.serverId === 's2'), 'the drained archive is not a source: its stripes are the ones rebuilt');
    assert.equal(d.plan.sources.length, 5);
    assert.equal(d.redundancy, 2, 'priority: the file keeps its full redundancy, so drains queue behind repairs');
    assert.equal(d.evacuated, 1);
    assert.match(d.reason, /disk s2:\/data\/disk0 is being drained/);
  });

  it('a drained server: each archive goes to a server holding none of the file, no link replaced', () => {
    const d = planRepair(world({ drained: ['server:s2'] }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.equal(d.plan.targets.length, 1);
    const t = d.plan.targets[0];
    assert.ok(t && ['s6', 's7'].includes(t.serverId), `target ${t?.serverId}`);
    assert.equal(t?.replaceLinkOfDisk, undefined);
    assert.equal(t?.replaceLinkOfPath, undefined);
  });

  it('a drained server with no spare server: nothing planned, the reason says why', () => {
    const d = planRepair(world({ servers: 6, drained: ['server:s2'] }));
    assert.equal(d.kind, 'impossible');
    assert.match(d.kind === 'impossible' ? d.reason : '', /only 0 server\(s\) can take one/);
  });

  it('a critical file is first repaired with the drained archive as a source; the drain waits', () => {
    const d = planRepair(world({ drained: [disk0('s2')], disks: { [disk0('s4')]: 'failed', [disk0('s5')]: 'failed' } }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.ok(d.plan.sources.some((x) => x.serverId === 's2'), 'the drained archive is read');
    assert.deepEqual(d.plan.targets.map((t) => t.serverId).sort(), ['s4', 's5']);
    assert.equal(d.evacuated, undefined);
    assert.equal(d.redundancy, 0);
  });

  it('a degraded file whose others still give N stripes: repaired and drained in one task', () => {
    const d = planRepair(world({ drained: [disk0('s2')], disks: { [disk0('s5')]: 'failed' } }));
    assert.equal(d.kind, 'plan');
    if (d.kind !== 'plan') return;
    assert.deepEqual(d.plan.targets.map((t) => t.serverId).sort(), ['s2', 's5']);
    assert.equal(d.evacuated, 1);
    assert.equal(d.redundancy, 1);
  });

  it('more drained archives than the file can spare: refused with the reason, nothing planned', () => {
    const d = planRepair(world({ drained: [disk0('s0'), disk0('s1'), disk0('s2')] }));
    assert.equal(d.kind, 'impossible');
    assert.match(d.kind === 'impossible' ? d.reason : '', /drain: without its 3 archive\(s\) being drained .* only 3 of the 4 stripes/);
  });

  it('a drained server that is down waits for its grace like any down server', () => {
    const d = planRepair(world({ drained: ['server:s2'], down: ['s2'] }));
    assert.equal(d.kind, 'wait');
  });

  it('without a drain nothing changes: a healthy file needs nothing', () => {
    assert.equal(planRepair(world()).kind, 'none');
  });
});
