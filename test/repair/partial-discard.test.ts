// A task given up leaves nothing: the coordinator tells each target which slots' partials to
// drop, and the agent removes exactly those (never one being written).
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArchivePlacement, type PlaceTarget } from '../../agent/repair/archive-placer.js';
import { partialPath } from '../../agent/repair/partial-archive.js';
import { discardPartials } from '../../agent/repair/temp-cleanup.js';
import { discardPartialsOf } from '../../coordinator/repair/partial-discard.js';
import type { RepairSession } from '../../coordinator/repair/repair-host.js';
import { newTask } from '../../coordinator/repair/task-transitions.js';
import type { RepairTaskRow } from '../../shared/domain/repair-task.js';
import { getCodec } from '../../shared/codec/index.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

describe('repair: partial archives are only ever our own plain files', () => {
  let site: FakeSite;
  beforeEach(() => {
    site = makeFakeSite({ disks: 2 });
  });
  afterEach(() => site.cleanup());

  const target = (taskId: string, slot: number, disk = 0): PlaceTarget => ({
    diskPath: (site.disks[disk] as FakeSite['disks'][number]).path, space: 'public', linkPath: `${site.localroot}/data/x${slot}`, namespaceRoot: site.nsRoot, taskId, slot,
    version: { strpverText: '1700000000', filesizeText: '5' },
  });
  const partial = (taskId: string, slot: number, disk = 0): string => {
    const d = site.disks[disk] as FakeSite['disks'][number];
    return partialPath(d.path, d.space, taskId, slot);
  };

  it('the agent removes the named slots\' partials on every disk, not other tasks\' nor one being written', () => {
    for (const [task, slot, disk] of [['t1', 0, 0], ['t1', 1, 1], ['t2', 0, 0]] as const) {
      const p = ArchivePlacement.open(target(task, slot, disk));
      p.append({ name: 'obj.0.0', data: Buffer.alloc(5, 1), crc: 0 });
      p.suspend();
    }
    const busy = ArchivePlacement.open(target('t1', 2));
    busy.append({ name: 'obj.0.0', data: Buffer.alloc(5, 1), crc: 0 });
    const removed = discardPartials(site.disks, 't1', [0, 1, 2, 7]).sort();
    assert.deepEqual(removed, [partial('t1', 0, 0), partial('t1', 1, 1)].sort());
    assert.ok(existsSync(partial('t2', 0, 0)), 'another task\'s partial stays');
    assert.ok(existsSync(partial('t1', 2, 0)), 'a placement being written stays');
    busy.abort();
    assert.deepEqual(discardPartials(site.disks, '../evil', [0]), [], 'a task id we never write is ignored');
  });

  it('the coordinator asks each target server for its slots, only for parked or cancelled tasks', () => {
    const sent: [string, string, readonly number[]][] = [];
    const session = (serverId: string): RepairSession => ({ serverId, cancelTask: (taskId: string, _r: string, slots?: readonly number[]) => sent.push([serverId, taskId, slots ?? []]) }) as unknown as RepairSession;
    const plan = {
      lfn: '/data/f', profile: { nbData: 4, nbParity: 2, chunkSize: 4096 }, strpver: 1, filesize: 10, xattrNamespace: 'user.U.' as const, sources: [],
      targets: [{ slot: 0, serverId: 'a', diskId: 'a:/d0' }, { slot: 1, serverId: 'b', diskId: 'b:/d0' }], bytesRead: 0, bytesWritten: 0,
    };
    const t = newTask({ lfn: '/data/f', plan, redundancy: 0, degradedSince: 0, now: 1 });
    const rows: RepairTaskRow[] = [{ ...t, state: 'failed' }, { ...t, taskId: 'p', state: 'parked' }, { ...t, taskId: 'c', state: 'cancelled' }, { ...t, taskId: 'd', state: 'done' }];
    discardPartialsOf(rows, session);
    assert.deepEqual(sent, [['a', 'p', [0]], ['b', 'p', [1]], ['a', 'c', [0]], ['b', 'c', [1]]]);
  });

  it('a partial name that is a symlink or a second hard link is never truncated: refused, nothing changed', () => {
    const victim = join(site.root, 'victim');
    writeFileSync(victim, 'precious archive bytes');
    for (const [slot, plant] of [[3, (p: string) => symlinkSync(victim, p)], [4, (p: string) => linkSync(victim, p)]] as const) {
      const p = partial('t9', slot);
      mkdirSync(dirname(p), { recursive: true });
      plant(p);
      assert.throws(() => ArchivePlacement.open(target('t9', slot)), (e: Error & { code?: string }) => e.code === 'PARTIAL_UNSAFE');
      assert.throws(() => ArchivePlacement.open(target('t9', slot), { entries: 1, codec: getCodec(), crcKind: 'crc32c' }), (e: Error & { code?: string }) => e.code === 'RESUME_MISMATCH' || e.code === 'PARTIAL_UNSAFE');
      assert.equal(readFileSync(victim, 'utf8'), 'precious archive bytes');
      // a symlink is not ours and stays; a second name of the data is dropped, the data stays
      assert.equal(discardPartials(site.disks, 't9', [slot]).length, slot === 3 ? 0 : 1);
      assert.equal(readFileSync(victim, 'utf8'), 'precious archive bytes');
    }
    const dir = partial('t9', 5);
    mkdirSync(dir, { recursive: true });
    assert.deepEqual(discardPartials(site.disks, 't9', [5]), [], 'a directory under a partial name is left alone');
    assert.ok(existsSync(dir));
  });
});
