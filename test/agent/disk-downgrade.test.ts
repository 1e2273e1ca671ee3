// A disk the scrub downgraded stays downgraded through a spell of missing (an unmount, a reboot)
// and agent restarts; only the operator ends it (`disk accept --clear-downgrade`, which the
// marker records) or a new disk (`--replaced`). An earlier clear never ends a later downgrade,
// and a clear asked for a disk that is not downgraded changes nothing.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptDisk } from '../../agent/disk/disk-accept.js';
import { requestDowngrade } from '../../agent/disk/disk-downgrade-request.js';
import { MARKER_FILE, writeMarker, type DiskMarker } from '../../agent/disk/disk-marker.js';
import type { AgentRuntime } from '../../agent/agent-runtime.js';
import { useRuntimeFixture } from '../helpers/runtime-fixture.js';

describe('agent: a scrub downgrade lasts until an operator clears it', () => {
  const fx = useRuntimeFixture();
  const stateOf = (r: AgentRuntime, diskId: string): string | undefined => r.diskHealth().find((h) => h.diskId === diskId)?.state;
  const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

  it('kept through missing and a restart; accept without the flag keeps it; --clear-downgrade ends it; a later downgrade is not ended by the old clear', async () => {
    const [disk, other] = fx.site.disks;
    assert.ok(disk && other);
    const r = fx.runtime();
    await r.start();
    assert.ok(r.downgradeDisk(disk.diskId, ['scrub: 1 corrupt stripe entry (obj.0.1) in public/0A/x%']));
    assert.equal(stateOf(r, disk.diskId), 'downgraded');

    // unmounted and back: downgraded again, with the scrub's evidence, not online
    renameSync(disk.path, `${disk.path}.away`);
    r.checkDisks();
    assert.equal(stateOf(r, disk.diskId), 'missing');
    renameSync(`${disk.path}.away`, disk.path);
    const back = r.checkDisks().find((e) => e.diskId === disk.diskId);
    assert.equal(back?.to, 'downgraded');
    assert.match(back?.evidence.join('\n') ?? '', /obj\.0\.1/);
    assert.equal(stateOf(r, other.diskId), 'online', 'the other disk is untouched');
    await r.stop();

    const again = fx.runtime();
    await again.start();
    assert.equal(stateOf(again, disk.diskId), 'downgraded', 'a restart keeps it');

    // accept alone: the marker is right, nothing written, the disk stays downgraded (and says how to clear it)
    const markerPath = join(disk.path, MARKER_FILE);
    const marker = readFileSync(markerPath, 'utf8');
    const plain = acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId);
    assert.equal(plain.written, false);
    assert.equal(plain.downgradeCleared, false);
    assert.ok(plain.downgradedSince, 'the result says it stays downgraded');
    assert.equal(readFileSync(markerPath, 'utf8'), marker);
    again.checkDisks();
    assert.equal(stateOf(again, disk.diskId), 'downgraded');

    // a clear asked for a disk that is not downgraded: an error, and nothing written
    const otherMarker = readFileSync(join(other.path, MARKER_FILE), 'utf8');
    assert.throws(() => acceptDisk(fx.site.disks, other.path, fx.state, fx.site.serverId, { clearDowngrade: true }), { code: 'DISK_NOT_DOWNGRADED' });
    assert.equal(readFileSync(join(other.path, MARKER_FILE), 'utf8'), otherMarker);

    const cleared = acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId, { clearDowngrade: true });
    assert.equal(cleared.written, true);
    assert.equal(cleared.downgradeCleared, true);
    const m = JSON.parse(readFileSync(markerPath, 'utf8')) as { uuid: string; downgradeClearedAt?: string };
    assert.equal(m.uuid, (JSON.parse(marker) as { uuid: string }).uuid, 'the same identity');
    assert.ok(m.downgradeClearedAt);
    const ev = again.checkDisks().find((e) => e.diskId === disk.diskId);
    assert.equal(ev?.from, 'downgraded');
    assert.equal(ev?.to, 'online');
    assert.match(ev?.evidence.join('\n') ?? '', /cleared by an operator/);
    await again.stop();
    const third = fx.runtime();
    await third.start();
    assert.equal(stateOf(third, disk.diskId), 'online', 'the clear is kept across a restart');

    // a new finding after the clear: the old clear in the marker does not end it
    await sleep(5);
    assert.ok(third.downgradeDisk(disk.diskId, ['scrub: 2 corrupt stripe entries']));
    third.checkDisks();
    assert.equal(stateOf(third, disk.diskId), 'downgraded');
  });

  it('a finding after the operator read the downgrade keeps it: a clear names the very downgrade it ends', async () => {
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    assert.ok(r.downgradeDisk(disk.diskId, ['scrub: F1']));
    await sleep(5);
    const res = acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId, { clearDowngrade: true });
    assert.equal(res.written, true);
    // the scrub finds more before the agent's next disk check
    await sleep(5);
    assert.equal(r.downgradeDisk(disk.diskId, ['scrub: F2']), undefined, 'no second downgrade event');
    r.checkDisks();
    assert.equal(stateOf(r, disk.diskId), 'downgraded');
    assert.deepEqual(r.diskHealth().find((h) => h.diskId === disk.diskId)?.evidence, ['scrub: F1', 'scrub: F2'], 'both findings shown');
    // the operator looks again and clears what is there now
    acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId, { clearDowngrade: true });
    r.checkDisks();
    assert.equal(stateOf(r, disk.diskId), 'online');
  });

  it('the downgrade goes with the disk, not the mount slot: two disks swapped between slots', async () => {
    const [d0, d1] = fx.site.disks;
    assert.ok(d0 && d1);
    const r = fx.runtime();
    await r.start();
    assert.ok(r.downgradeDisk(d0.diskId, ['scrub: corrupt on the first disk']));
    renameSync(d0.path, `${d0.path}.swap`);
    renameSync(d1.path, d0.path);
    renameSync(`${d0.path}.swap`, d1.path);
    const events = r.checkDisks();
    // slot 0 holds the healthy disk now, slot 1 the corrupt one
    assert.equal(stateOf(r, d0.diskId), 'online');
    assert.equal(stateOf(r, d1.diskId), 'downgraded');
    assert.ok(events.find((e) => e.diskId === d1.diskId)?.replaced, 'slot 1 reports another disk');
    assert.match(r.diskHealth().find((h) => h.diskId === d1.diskId)?.evidence.join('\n') ?? '', /corrupt on the first disk/);
  });

  it('an operator downgrades a disk through its marker (ecguard disk downgrade): by operator, kept across a restart, ended by a clear that also withdraws the request', async () => {
    const [disk, other] = fx.site.disks;
    assert.ok(disk && other);
    const r = fx.runtime();
    await r.start();
    const markerPath = join(disk.path, MARKER_FILE);
    const before = readFileSync(markerPath, 'utf8');
    // refused, nothing written: an unknown path, an empty reason, a disk without its marker
    assert.throws(() => requestDowngrade(fx.site.disks, join(disk.path, 'nope'), fx.state, 'x'), { code: 'DISK_UNKNOWN' });
    assert.throws(() => requestDowngrade(fx.site.disks, disk.path, fx.state, '  '), { code: 'USAGE' });
    assert.equal(readFileSync(markerPath, 'utf8'), before);
    const otherMarker = join(other.path, MARKER_FILE);
    const saved = readFileSync(otherMarker);
    unlinkSync(otherMarker);
    assert.throws(() => requestDowngrade(fx.site.disks, other.path, fx.state, 'x'), { code: 'DISK_NO_IDENTITY' });
    assert.equal(existsSync(otherMarker), false);
    writeFileSync(otherMarker, saved);

    // not mounted as the agent knew it (no space directory: a stale marker under an empty mount point)
    renameSync(join(disk.path, disk.space), join(disk.path, `${disk.space}.away`));
    assert.throws(() => requestDowngrade(fx.site.disks, disk.path, fx.state, 'x'), { code: 'DISK_NOT_MOUNTED' });
    renameSync(join(disk.path, `${disk.space}.away`), join(disk.path, disk.space));
    assert.equal(readFileSync(markerPath, 'utf8'), before);
    const req = requestDowngrade(fx.site.disks, `${disk.path}/`, fx.state, 'SMART: 120 reallocated sectors');
    assert.equal(req.path, disk.path);
    const ev = r.checkDisks().find((e) => e.diskId === disk.diskId);
    assert.equal(ev?.to, 'downgraded');
    assert.equal(ev?.downgradedBy, 'operator');
    assert.match(ev?.evidence.join('\n') ?? '', /^operator: SMART: 120 reallocated sectors \(ecguard disk downgrade, /m);
    assert.equal(r.checkDisks().length, 0, 'taken up once');
    await r.stop();
    const again = fx.runtime();
    await again.start();
    assert.equal(stateOf(again, disk.diskId), 'downgraded', 'kept across a restart');
    // a scrub finding on it is added; the downgrade stays the operator's
    assert.equal(again.downgradeDisk(disk.diskId, ['scrub: 1 corrupt']), undefined);
    const cleared = acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId, { clearDowngrade: true });
    assert.equal(cleared.downgradeCleared, true);
    assert.equal((JSON.parse(readFileSync(markerPath, 'utf8')) as { operatorDowngrade?: unknown }).operatorDowngrade, undefined, 'the request is withdrawn');
    again.checkDisks();
    assert.equal(stateOf(again, disk.diskId), 'online');
    again.checkDisks();
    assert.equal(stateOf(again, disk.diskId), 'online', 'not taken up again');
  });

  it('a request is taken up though a scrub finding renewed the downgrade first; never twice; refused for another disk or a multi-line reason', async () => {
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    assert.throws(() => requestDowngrade(fx.site.disks, disk.path, fx.state, 'two\nlines'), { code: 'USAGE' });
    requestDowngrade(fx.site.disks, disk.path, fx.state, 'controller errors');
    await sleep(5);
    // the scrub downgrades it before the agent's next disk check
    assert.ok(r.downgradeDisk(disk.diskId, ['scrub: F1']));
    r.checkDisks();
    const evidence = (): string[] => r.diskHealth().find((h) => h.diskId === disk.diskId)?.evidence ?? [];
    assert.deepEqual(evidence().map((e) => e.split(' (')[0]), ['scrub: F1', 'operator: controller errors']);
    assert.equal(r.downgradeDisk(disk.diskId, ['scrub: F2']), undefined);
    r.checkDisks();
    r.checkDisks();
    assert.equal(evidence().filter((e) => e.startsWith('operator:')).length, 1, 'the request is taken once, scrub renewals or not');
    // another disk's marker where the agent knew this one: nothing written
    const markerPath = join(disk.path, MARKER_FILE);
    const m = JSON.parse(readFileSync(markerPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(markerPath, JSON.stringify({ ...m, uuid: '00000000-0000-4000-8000-000000000000' }));
    const before = readFileSync(markerPath, 'utf8');
    assert.throws(() => requestDowngrade(fx.site.disks, disk.path, fx.state, 'x'), { code: 'DISK_OTHER_IDENTITY' });
    assert.equal(readFileSync(markerPath, 'utf8'), before);
  });

  it('a marker write that would pass the 4 KiB the agent reads is refused, the marker and directory unchanged', async () => {
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    const markerPath = join(disk.path, MARKER_FILE);
    const before = readFileSync(markerPath, 'utf8');
    const names = readdirSync(disk.path).sort();
    const m = JSON.parse(before) as DiskMarker;
    assert.throws(() => writeMarker(disk.path, m, { note: 'x'.repeat(5000) }), { code: 'DISK_MARKER_TOO_LARGE' });
    assert.equal(readFileSync(markerPath, 'utf8'), before);
    assert.deepEqual(readdirSync(disk.path).sort(), names, 'no temp file left');
  });

  it('two marker commands at once: the second is refused while the first holds the lock (nothing written); a lock left by a dead command is taken over', async () => {
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    const markerPath = join(disk.path, MARKER_FILE);
    const lock = `${markerPath}.lock`;
    const before = readFileSync(markerPath, 'utf8');
    writeFileSync(lock, 'another command\n');
    assert.throws(() => requestDowngrade(fx.site.disks, disk.path, fx.state, 'SMART'), (e: unknown) => (e as { code?: string }).code === 'DISK_MARKER_BUSY' && /run it again, or remove the lock/.test((e as Error).message));
    assert.throws(() => acceptDisk(fx.site.disks, disk.path, fx.state, 'srv01', { clearDowngrade: true }), { code: 'DISK_MARKER_BUSY' });
    assert.equal(readFileSync(markerPath, 'utf8'), before, 'nothing written');
    assert.ok(existsSync(lock), 'the other command\'s lock is left alone');
    // its command died two minutes ago: the lock is stale
    utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const done = requestDowngrade(fx.site.disks, disk.path, fx.state, 'SMART');
    assert.equal(done.reason, 'SMART');
    assert.match(readFileSync(markerPath, 'utf8'), /"operatorDowngrade"/);
    assert.ok(!existsSync(lock), 'released after the write');
  });

  it('an agent state from before the downgrade columns opens and works', async () => {
    const db = new Database(join(fx.state, 'agent.sqlite'));
    db.exec('CREATE TABLE downgrades (disk_key TEXT PRIMARY KEY, disk_id TEXT NOT NULL, at INTEGER NOT NULL, evidence TEXT NOT NULL)');
    db.close();
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    assert.ok(r.downgradeDisk(disk.diskId, ['scrub: F1']));
    r.checkDisks();
    assert.equal(stateOf(r, disk.diskId), 'downgraded');
  });

  it('a clear written before the agent took the request up withdraws it', async () => {
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    requestDowngrade(fx.site.disks, disk.path, fx.state, 'wrong disk');
    assert.equal(acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId, { clearDowngrade: true }).downgradeCleared, true);
    r.checkDisks();
    assert.equal(stateOf(r, disk.diskId), 'online');
  });

  it('a new disk (accept --replaced) is not downgraded', async () => {
    const [disk] = fx.site.disks;
    assert.ok(disk);
    const r = fx.runtime();
    await r.start();
    assert.ok(r.downgradeDisk(disk.diskId, ['scrub: corrupt']));
    unlinkSync(join(disk.path, MARKER_FILE));
    r.checkDisks();
    assert.equal(stateOf(r, disk.diskId), 'missing');
    const res = acceptDisk(fx.site.disks, disk.path, fx.state, fx.site.serverId, { replaced: true });
    assert.equal(res.downgradeCleared, true);
    const ev = r.checkDisks().find((e) => e.diskId === disk.diskId);
    assert.equal(ev?.to, 'online');
    assert.ok(ev?.replaced);
    await r.stop();
    const again = fx.runtime();
    await again.start();
    assert.equal(stateOf(again, disk.diskId), 'online');
  });
});
