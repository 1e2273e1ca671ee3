// Each wait for 'drain' listens for 'close' (and once() for 'error') too: the listener that did
// not fire must go when the wait ends, or a live stream (weeks long) collects two listeners
// per backpressure wait (MaxListenersExceededWarning, then a leak).
import assert from 'node:assert/strict';
import { startLinkHarness, until, type LinkHarness } from '../helpers/link-harness.js';

describe('coordinator link: waits for drain leave no listeners behind', function () {
  this.timeout(60_000);
  let h: LinkHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('after an inventory with many waits, the stream has its own few listeners only', async () => {
    h = await startLinkHarness({ archives: 1200 });
    await h.startStalledInInventory();
    h.proxy.resume();
    await until(() => h?.link.connected === true, 20_000, 'the inventory to complete');
    const s = (h.link as unknown as { stream: NodeJS.EventEmitter }).stream;
    // connect() adds one of each
    assert.ok(s.listenerCount('close') <= 2, `${s.listenerCount('close')} close listeners`);
    assert.ok(s.listenerCount('error') <= 2, `${s.listenerCount('error')} error listeners`);
  });
});
