// Repair tasks on the wire: what an agent accepts (everything checked before anything is read
// or written) and the round trip of orders and progress.
import assert from 'node:assert/strict';
import { progressFromWire, progressToWire, repairOrderFromWire, repairOrderToWire, type RepairOrder } from '../../shared/wire/repair-wire.js';
import { TaskProgress as ProgressWire, type RepairTask } from '../../proto/gen/ecguard/v1/repair.js';
import type { BadSourceEntry } from '../../shared/domain/bad-source-entry.js';

const order: RepairOrder = {
  taskId: 'rabc-123', attempt: 2,
  plan: {
    lfn: '/data/f1', profile: { nbData: 4, nbParity: 2, chunkSize: 4096 }, strpver: 1_700_000_000, filesize: 5000, crcKind: 'crc32c', xattrNamespace: 'user.',
    sources: [{ serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/x%' }], targets: [{ slot: 3, serverId: 's2', diskId: 's2:/d1', replaceLinkOfDisk: 's2:/d0', replaceLinkOfPath: 'public/0B/drained%' }], bytesRead: 0, bytesWritten: 0,
  },
  addresses: new Map([['s1', '127.0.0.1:7001'], ['s2', 'srv2.example.org:7444']]),
};

const wire = (patch: (w: RepairTask) => void): RepairTask => {
  const w = repairOrderToWire(order);
  patch(w);
  return w;
};

describe('repair tasks on the wire', () => {
  it('round-trips an order', () => {
    const r = repairOrderFromWire(repairOrderToWire(order));
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual(r.value, order);
  });

  const bad: [string, (w: RepairTask) => void, RegExp][] = [
    ['a task id with a slash', (w) => (w.taskId = '../x'), /malformed task id/],
    ['an LFN with ..', (w) => (w.lfn = '/data/../etc/passwd'), /malformed LFN/],
    ['a relative LFN', (w) => (w.lfn = 'data/f'), /malformed LFN/],
    ['an impossible profile', (w) => (w.profile = { nbData: 0, nbParity: 2, chunkSize: 4096 }), /bad EC profile/],
    ['an unknown CRC kind', (w) => (w.crcKind = 9 as RepairTask['crcKind']), /unknown CRC kind/],
    ['a source without a Stripes address', (w) => ((w.sources[0] as { address: string }).address = ''), /no Stripes address/],
    ['a source path outside a bucket', (w) => ((w.sources[0] as { archive: { dataPath: string } }).archive.dataPath = 'public/../../x%'), /malformed archive reference/],
    ['two targets on one server', (w) => w.targets.push({ ...(w.targets[0] as RepairTask['targets'][number]), slot: 4 }), /at most one archive/],
    ['no targets', (w) => (w.targets = []), /no targets/],
    ['a drained archive path with ..', (w) => ((w.targets[0] as { replaceLinkOfPath: string }).replaceLinkOfPath = 'public/../../etc/x'), /malformed replace_link_of_path/],
    ['a drained archive path without its disk', (w) => ((w.targets[0] as { replaceLinkOfDisk: string }).replaceLinkOfDisk = ''), /malformed replace_link_of_path/],
    ['a negative filesize', (w) => (w.filesize = -1), /impossible strpver or filesize/],
  ];
  for (const [what, patch, why] of bad) {
    it(`refuses ${what}`, () => {
      const r = repairOrderFromWire(wire(patch));
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, why);
    });
  }

  it('round-trips progress and refuses unknown phases and malformed placed archives', () => {
    const p = { taskId: 'rabc-123', attempt: 1, phase: 'done' as const, blocksDone: 3, blocksTotal: 3, bytesRead: 10, bytesWritten: 4, placed: [{ slot: 0, serverId: 's2', diskId: 's2:/d1', dataPath: 'public/0B/y%', size: 99, linked: true }], sourceProblems: ['s1:x obj.0.1: CRC mismatch'], badEntries: [], badEntriesOmitted: 0 };
    const back = progressFromWire(progressToWire(p));
    assert.ok(back.ok);
    if (back.ok) assert.deepEqual(back.value, p);
    assert.equal(progressFromWire({ ...progressToWire(p), phase: 42 as never }).ok, false);
    assert.equal(progressFromWire({ ...progressToWire(p), placed: [{ slot: 0, serverId: 's2', diskId: 'd', dataPath: '../../etc/passwd', size: 1, linked: true }] }).ok, false);
  });

  it('carries bad source entries structured (a data path with a space, both CRCs), at most 32, counting the rest', () => {
    const entry = (i: number): BadSourceEntry => ({ serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/a b c%', block: i, stripe: 2, kind: 'crc-mismatch', expectedCrc: 0xffffffff - i, foundCrc: i });
    const base = { taskId: 'rabc-124', attempt: 2, phase: 'failed' as const, blocksDone: 0, blocksTotal: 3, bytesRead: 10, bytesWritten: 0, placed: [], sourceProblems: [] };
    const few = { ...base, badEntries: [entry(0), { serverId: 's2', diskId: 's2:/d1', dataPath: 'public/0B/y%', block: 1, stripe: 0, kind: 'unreadable' as const }], badEntriesOmitted: 3 };
    const back = progressFromWire(ProgressWire.decode(ProgressWire.encode(progressToWire(few)).finish()));
    assert.ok(back.ok);
    if (back.ok) assert.deepEqual(back.value, few);
    const many = { ...base, badEntries: Array.from({ length: 40 }, (_, i) => entry(i)), badEntriesOmitted: 5 };
    const capped = progressFromWire(progressToWire(many));
    assert.ok(capped.ok);
    if (capped.ok) {
      assert.deepEqual(capped.value.badEntries, many.badEntries.slice(0, 32));
      assert.equal(capped.value.badEntriesOmitted, 5 + 8);
    }
    const raw = { ...progressToWire(few) };
    assert.equal(progressFromWire({ ...raw, badEntries: [{ ...(raw.badEntries[0] as NonNullable<(typeof raw.badEntries)[0]>), dataPath: '../x/y%' }] }).ok, false);
    assert.equal(progressFromWire({ ...raw, badEntries: [{ ...(raw.badEntries[0] as NonNullable<(typeof raw.badEntries)[0]>), kind: 99 as never }] }).ok, false);
    // A sender with more than 32 on the wire is capped here too.
    const flood = progressFromWire({ ...raw, badEntries: Array.from({ length: 50 }, () => raw.badEntries[0] as NonNullable<(typeof raw.badEntries)[0]>), badEntriesOmitted: 1 });
    assert.ok(flood.ok && flood.value.badEntries.length === 32 && flood.value.badEntriesOmitted === 19);
  });
});
