// A full scan reads the disks bucket by bucket; the watcher may report a change in a bucket the
// scan has already read. The watcher's view is the newer one: the scan's reconcile must neither
// re-add a file deleted meanwhile nor remove one created meanwhile (it used to undo both).
//
// Deterministic: with workers 0 the scan reads its first bucket before fullScan() returns, then
// yields; the test changes that bucket and hands the change to processChanges() exactly as the
// watcher does (watch: false, so no late inotify event can repair the result by luck).
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { AgentRuntime } from '../../agent/agent-runtime.js';
import { archiveKey, type Delta } from '../../shared/domain/delta.js';
import { useRuntimeFixture } from '../helpers/runtime-fixture.js';

describe('full scan vs the watcher\'s changes made while it runs', () => {
  const fx = useRuntimeFixture();
  // Bucket 00 of disk 0 is the first the scan reads (disks in order, buckets sorted); the other
  // files keep the scan going for a few more buckets.
  const storeIn = fx.storeIn;
  const seed = (): void => {
    storeIn(0x00, '/data/first');
    for (let b = 1; b <= 6; b++) storeIn(b, `/data/other${b}`, b % 2);
  };
  const start = async (): Promise<{ r: AgentRuntime; deltas: Delta[] }> => {
    const rt = fx.runtime();
    await rt.start();
    const deltas: Delta[] = [];
    rt.on('deltas', (d: Delta[]) => deltas.push(...d));
    return { r: rt, deltas };
  };
  /** What the watcher queues for a file event: `<diskId>\0<space>/<XX>\0<name>`. */
  const watchKey = (path: string, disk = 0): string => {
    const d = fx.site.disks[disk];
    assert.ok(d);
    const rel = path.slice(d.path.length + 1);
    return `${d.diskId}\u0000${rel.slice(0, rel.lastIndexOf('/'))}\u0000${basename(path)}`;
  };
  const keyOf = (path: string, disk = 0): string => archiveKey(fx.site.disks[disk]?.diskId as string, path.slice((fx.site.disks[disk]?.path.length ?? 0) + 1));
  const inInventory = (rt: AgentRuntime, key: string): boolean => {
    const [diskId, dataPath] = key.split('\u0000') as [string, string];
    return rt.inventory.has(diskId, dataPath);
  };
  const deltasOf = (deltas: Delta[], key: string): Delta[] =>
    deltas.filter((d) => (d.kind === 'upsert' ? archiveKey(d.record.diskId, d.record.dataPath) : archiveKey(d.diskId, d.dataPath)) === key);

  it('a file deleted during the scan (after its bucket was read) stays removed, inventory and journal', async () => {
    seed();
    const victim = storeIn(0x00, '/data/victim');
    const { r: rt, deltas } = await start();
    const key = keyOf(victim);
    assert.ok(inInventory(rt, key));
    const scan = rt.fullScan('test'); // bucket 00 is read by now
    unlinkSync(victim);
    rt.processChanges([watchKey(victim)]);
    const rep = await scan;
    assert.equal(rep.records, 8, 'premise: the scan read the victim before it was deleted');
    assert.equal(inInventory(rt, key), false, 'the scan re-added a file deleted meanwhile');
    assert.deepEqual(deltasOf(deltas, key).map((d) => d.kind), ['remove'], 'the journal ends with the removal');
    // the next scan agrees: nothing left to correct
    assert.equal((await rt.fullScan('again')).deltas, 0);
  });

  it('a file created during the scan (in a bucket already read) stays in, inventory and journal', async () => {
    seed();
    const { r: rt, deltas } = await start();
    const scan = rt.fullScan('test');
    const born = storeIn(0x00, '/data/born');
    rt.processChanges([watchKey(born)]);
    const rep = await scan;
    assert.equal(rep.records, 7, 'premise: the scan read bucket 00 before the file was created');
    const key = keyOf(born);
    assert.equal(inInventory(rt, key), true, 'the scan removed a file created meanwhile');
    assert.deepEqual(deltasOf(deltas, key).map((d) => d.kind), ['upsert'], 'the journal ends with the upsert');
    assert.equal((await rt.fullScan('again')).deltas, 0);
  });
});
