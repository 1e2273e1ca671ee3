// The health engine, state by state (DESIGN.md §4): coverage per block including irregular
// archives, versions and debris, tombstones and orphans, and the sanity anomalies.
import assert from 'node:assert/strict';
import type { ArchiveRow, DiskState, Tombstone } from '../../coordinator/catalog/catalog-types.js';
import { archiveKeyOf, classifyFile, type ClassifyInput } from '../../coordinator/health/health-engine.js';
import type { ServerState } from '../../shared/domain/file-health.js';

const NOW = 1_800_000_000_000;
const P82 = { nbData: 8, nbParity: 2, chunkSize: 1024 };
const P42 = { nbData: 4, nbParity: 2, chunkSize: 1024 };

function archive(server: number, o: Partial<ArchiveRow> = {}): ArchiveRow {
  return {
    serverId: `srv${server}`, diskId: `srv${server}:/d0`, space: 'public', dataPath: `public/00/f${server}%`, lfn: '/data/f',
    size: 5000, mtimeMs: NOW - 1000, inode: server, strpver: 1_700_000_000, filesize: 20_000, nblocks: 3, nentries: 3,
    regular: true, parseStatus: 'ok', ...o,
  };
}

function run(archives: ArchiveRow[], o: Partial<ClassifyInput> & { down?: number[]; lost?: number[]; badDisks?: Record<string, DiskState>; complete?: boolean } = {}) {
  const server = (id: string): ServerState => (o.lost?.map((x) => `srv${x}`).includes(id) ? 'lost' : o.down?.map((x) => `srv${x}`).includes(id) ? 'down' : 'up');
  return classifyFile({
    lfn: '/data/f', archives, profile: o.profile ?? P82, serverState: server,
    diskState: (d) => o.badDisks?.[d] ?? 'online', tombstones: o.tombstones ?? [], wasComplete: () => o.complete ?? true, nowMs: NOW,
    ...(o.replaced ? { replaced: o.replaced } : {}),
  });
}

const ten = (o: Partial<ArchiveRow> = {}): ArchiveRow[] => Array.from({ length: 10 }, (_, i) => archive(i, o));

describe('health engine', () => {
  it('healthy: all N+M archives available', () => {
    const v = run(ten());
    assert.equal(v.state, 'healthy');
    assert.equal(v.redundancy, 2);
    assert.ok(v.archives.every((a) => a.role === 'current'));
  });

  it('degraded → critical → lost as archives vanish (disk failed, server lost)', () => {
    assert.equal(run(ten().slice(1)).state, 'degraded');
    const crit = run(ten(), { badDisks: { 'srv0:/d0': 'failed' }, lost: [1] });
    assert.equal(crit.state, 'critical');
    assert.equal(crit.redundancy, 0);
    assert.match(crit.reason, /disk srv0:\/d0 failed/);
    assert.match(crit.reason, /one more loss is data loss/);
    const lost = run(ten().slice(3));
    assert.equal(lost.state, 'lost');
    assert.equal(lost.redundancy, -1);
  });

  it('down server: unavailable (not lost) when it holds the stripes needed; degraded otherwise', () => {
    assert.equal(run(ten(), { down: [0] }).state, 'degraded');
    const v = run(ten().slice(2), { down: [2, 3, 4] });
    assert.equal(v.state, 'unavailable');
    assert.equal(v.unavailable, 3);
    assert.match(v.reason, /readable again when the down servers return/);
    assert.equal(run(ten().slice(2), { down: [2, 3, 4], lost: [5] }).state, 'lost');
  });

  it('missing disk counts as gone at once (no grace)', () => {
    assert.equal(run(ten(), { badDisks: { 'srv3:/d0': 'missing' } }).state, 'degraded');
  });

  it('incomplete: the latest version never reached N archives', () => {
    const v = run(ten().slice(0, 5), { complete: false });
    assert.equal(v.state, 'incomplete');
    assert.ok(v.archives.every((a) => a.role === 'orphan'));
  });

  it('irregular archives (K > N+M, the k7 fixture shape): coverage counted per block', () => {
    // 4+2 over 7 archives, 2 blocks: block 0 misses archive 6, block 1 misses archive 2
    const maps: Record<number, number>[] = [{ 0: 0, 1: 0 }, { 0: 1, 1: 1 }, { 0: 2 }, { 0: 3, 1: 2 }, { 0: 4, 1: 3 }, { 0: 5, 1: 4 }, { 1: 5 }];
    const arch = maps.map((m, i) => archive(i, {
      regular: false, nblocks: 2, nentries: Object.keys(m).length, filesize: 6000,
      stripeMap: Object.fromEntries(Object.entries(m).map(([b, s]) => [Number(b), [s]])),
    }));
    assert.equal(run(arch, { profile: P42 }).state, 'healthy');
    // losing archive 0 takes one stripe from both blocks
    assert.equal(run(arch.slice(1), { profile: P42 }).state, 'degraded');
    // losing archives 2 and 6 costs one stripe in each block (block 0 loses 2, block 1 loses 5)
    const v = run(arch.filter((_, i) => i !== 2 && i !== 6), { profile: P42 });
    assert.equal(v.state, 'degraded');
    assert.equal(v.redundancy, 1);
    // an archive holding two stripes of one block (a retried write)
    const twice = [...arch.slice(0, 5), archive(5, { regular: false, nblocks: 2, nentries: 2, filesize: 6000, stripeMap: { 1: [4, 5] } })];
    assert.equal(run(twice, { profile: P42 }).state, 'degraded');
  });

  it('mixed versions: older archives are superseded, and debris once the latest is healthy', () => {
    const old = [archive(10, { strpver: 1_600_000_000 }), archive(11, { strpver: 1_600_000_000 })];
    const h = run([...ten(), ...old]);
    assert.equal(h.state, 'healthy');
    assert.deepEqual(h.archives.filter((a) => a.role === 'debris').length, 2);
    const d = run([...ten().slice(1), ...old]);
    assert.equal(d.state, 'degraded');
    assert.deepEqual(d.archives.filter((a) => a.role === 'superseded').length, 2);
    assert.equal(d.archives.filter((a) => a.role === 'debris').length, 0, 'never debris while the latest is not healthy');
  });

  it('tombstone: leftovers of a deleted version are debris and the file is gone', () => {
    const t: Tombstone = { lfn: '/data/f', strpver: 1_700_000_000, at: NOW - 500, reason: 'deleted while srv3 was down' };
    const v = run([archive(3)], { tombstones: [t], complete: true });
    assert.equal(v.state, undefined);
    assert.equal(v.archives[0]?.role, 'debris');
    assert.match(v.archives[0]?.reason ?? '', /deleted/);
    // the same leftover without the tombstone is an orphan, never debris
    const o = run([archive(3)], { complete: false });
    assert.equal(o.archives[0]?.role, 'orphan');
  });

  it('tombstone: a file written again in the same second as its deletion (same strpver) is alive, not debris', () => {
    // found by review: strpver is time(NULL) at close, so rm + rewrite within a second repeats it
    const t: Tombstone = { lfn: '/data/f', strpver: 1_700_000_000, at: NOW - 500, reason: 'deleted while srv3 was down' };
    const fresh = ten({ mtimeMs: NOW - 100 });
    const v = run(fresh, { tombstones: [t], complete: true });
    assert.equal(v.state, 'healthy');
    assert.ok(v.archives.every((a) => a.role === 'current'));
  });

  it('anomalies: future strpver, filesize disagreement; damaged and unversioned archives are corrupt', () => {
    const fut = run(ten({ strpver: Math.floor(NOW / 1000) + 10 * 86400 }));
    assert.match(fut.anomalies.join(' '), /in the future/);
    const arch = ten();
    arch[0] = { ...(arch[0] as ArchiveRow), filesize: 19_999 };
    assert.match(run(arch).anomalies.join(' '), /disagree on xrdec.filesize/);
    const bad = ten();
    bad[1] = { ...(bad[1] as ArchiveRow), parseStatus: 'truncated', nentries: 0 };
    const { strpver: _s, ...unversioned } = bad[2] as ArchiveRow;
    bad[2] = unversioned as ArchiveRow;
    const v = run(bad);
    assert.equal(v.state, 'critical');
    assert.equal(v.archives.filter((a) => a.role === 'corrupt').length, 2);
  });

  it('an archive a repair replaced never counts again: back from a down server it is a duplicate, not redundancy', () => {
    // srv8 was down past its grace; its stripes were rebuilt on srv10. It came back.
    const all = [...ten(), archive(10)];
    const replaced = new Map([[archiveKeyOf(all[8] as ArchiveRow), 'r1']]);
    const v = run(all, { replaced });
    assert.equal(v.state, 'healthy');
    assert.equal(v.redundancy, 2, 'eleven archives, but only ten distinct stripe sets');
    const dup = v.archives.find((a) => a.archive.serverId === 'srv8');
    assert.equal(dup?.role, 'debris');
    assert.match(dup?.reason ?? '', /repair r1 rebuilt its stripes elsewhere/);
    // Another archive is lost: degraded — counting the duplicate would have said healthy.
    const worse = run(all, { replaced, lost: [3] });
    assert.equal(worse.state, 'degraded');
    assert.equal(worse.redundancy, 1);
    assert.equal(worse.archives.find((a) => a.archive.serverId === 'srv8')?.role, 'superseded');
  });

  it('empty object: coverage is the archive count', () => {
    assert.equal(run(ten({ filesize: 0, nblocks: 0, nentries: 0, parseStatus: 'empty', size: 0 })).state, 'healthy');
    assert.equal(run(ten({ filesize: 0, nblocks: 0, nentries: 0, parseStatus: 'empty', size: 0 }).slice(2)).state, 'critical');
  });
  it('review: a damaged newer version hides the older ones; copies, 0-byte and short archives add no coverage', () => {
    const old = archive(11, { strpver: 1_600_000_000 });
    const hidden = run([...ten(), archive(10, { strpver: 1_700_000_100, parseStatus: 'truncated', nentries: 0, regular: false }), old], { complete: false });
    assert.equal(hidden.state, 'incomplete');
    assert.ok(!hidden.archives.some((a) => a.role === 'debris'));
    const copies = ten().map((a, i) => ({ ...a, cdDigest: `d${i}` }));
    copies[9] = { ...(copies[9] as ArchiveRow), cdDigest: 'd8' };
    assert.equal(run([...copies, old]).state, 'degraded');
    assert.equal(run(ten().map((a, i) => (i < 2 ? { ...a, size: 0, parseStatus: 'empty', nblocks: 0, nentries: 0 } : a))).state, 'critical');
    const short = ten();
    short[0] = { ...(short[0] as ArchiveRow), nblocks: 1, nentries: 1, filesize: 8000 };
    const v = run([...short, old]);
    assert.equal(v.state, 'degraded');
    assert.equal(v.archives.find((a) => a.archive.serverId === 'srv11')?.role, 'superseded');
    // an old repair replaced srv3's archive of an older version; the file was rewritten in place since
    const replaced = new Map([[archiveKeyOf({ ...(ten()[3] as ArchiveRow), strpver: 1_600_000_000 }), 'r0']]);
    assert.equal(run(ten(), { replaced }).state, 'healthy');
  });

  it('a damaged archive the scrub found is debris once the file is healthy without it; corrupt while it is not; other unreadable archives stay corrupt', () => {
    const scrubbed = archive(10, { serverId: 'srv3', diskId: 'srv3:/d1', dataPath: 'public/00/old%', parseStatus: 'unreadable', parseError: 'scrub: 1 corrupt or unreadable stripe entry (obj.0.3: CRC-32C 0x1 != 0x2)', nblocks: 0, nentries: 0, regular: false });
    // rebuilt on srv3's other disk: all 10 stripes without it
    const healthy = run([...ten(), scrubbed]);
    assert.equal(healthy.state, 'healthy');
    const v = healthy.archives.find((a) => a.archive === scrubbed);
    assert.equal(v?.role, 'debris');
    assert.match(v?.reason ?? '', /damaged \(scrub: 1 corrupt.*obj\.0\.3.*not needed: all 10 stripes/);
    // not rebuilt yet: the file is degraded, the damaged archive is kept (corrupt, to be rebuilt)
    const degraded = run([...ten().filter((a) => a.serverId !== 'srv3'), scrubbed]);
    assert.equal(degraded.state, 'degraded');
    assert.equal(degraded.archives.find((a) => a.archive === scrubbed)?.role, 'corrupt');
    // healthy but its archives disagree on filesize: nothing is debris
    const odd = run([...ten().map((a, i) => (i === 0 ? { ...a, filesize: 1 } : a)), scrubbed]);
    assert.equal(odd.archives.find((a) => a.archive === scrubbed)?.role, 'corrupt');
    // damaged and of a newer version than every good archive: the reader would pick that version,
    // so the file is not healthy and the archive is kept
    const newer = { ...scrubbed, strpver: 1_800_000_000 };
    const v2 = run([...ten(), newer]);
    assert.notEqual(v2.state, 'healthy');
    assert.equal(v2.archives.find((a) => a.archive === newer)?.role, 'corrupt');
    // a zip that does not parse (perhaps one xrootd is writing) is never debris this way
    for (const parseStatus of ['truncated', 'not-zip', 'unreadable'] as const) {
      const other = { ...scrubbed, parseStatus, parseError: 'EIO' };
      assert.equal(run([...ten(), other]).archives.find((a) => a.archive === other)?.role, 'corrupt', parseStatus);
    }
  });
});
