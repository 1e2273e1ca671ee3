// A disk that fails while the agent is in the middle of a full inventory: the disk event must be
// sent then (after the batches already queued), not dropped because the session is not live
// yet. Hello, which carries the disk states, is not sent again on this stream.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { startLinkHarness, until, type LinkHarness } from '../helpers/link-harness.js';

describe('coordinator link: a disk event during a full inventory', function () {
  this.timeout(60_000);
  let h: LinkHarness | undefined;
  afterEach(async () => {
    const d = h?.site.disks[1];
    if (d) renameSync(`${d.path}.away`, d.path);
    await h?.close();
    h = undefined;
  });

  it('reaches the coordinator: the disk is missing there once the inventory is done', async () => {
    h = await startLinkHarness({ archives: 1200 });
    const disk = h.site.disks[1];
    assert.ok(disk);
    await h.startStalledInInventory();
    renameSync(disk.path, `${disk.path}.away`);
    assert.ok(h.runtime.checkDisks().some((e) => e.diskId === disk.diskId && e.to === 'missing'));
    assert.equal(h.link.connected, false, 'premise: still in the full inventory');
    const connects = h.link.stats.connects;
    h.proxy.resume();
    await until(() => h?.link.connected === true, 20_000, 'the inventory to complete');
    await until(async () => (await h?.coord.store.getDisk(disk.diskId))?.state === 'missing', 5000, 'the coordinator to know the disk is missing');
    assert.equal(h.link.stats.connects, connects, 'learnt on the same stream, not from a new Hello');
  });
});
