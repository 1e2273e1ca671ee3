// The coordinator dies while the agent waits for its stream to drain (mid full inventory): the
// stream's 'error' must not turn into an unhandled rejection (which ends a Node process); the
// agent reconnects once the coordinator is back and completes its inventory.
import assert from 'node:assert/strict';
import { startLinkHarness, until, type LinkHarness } from '../helpers/link-harness.js';

const ARCHIVES = 1200; // ~6 MB of inventory: gRPC buffers ~2 MB before the agent must wait

describe('coordinator link: the coordinator dies while the agent waits for drain', function () {
  this.timeout(60_000);
  let h: LinkHarness | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled.length = 0;
    // Recorded here rather than crashing the run, so the test can say what happened.
    process.prependListener('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await h?.close();
    h = undefined;
  });

  it('no unhandled rejection; it reconnects later and the inventory completes', async () => {
    h = await startLinkHarness({ archives: ARCHIVES });
    await h.startStalledInInventory();
    const connects = h.link.stats.connects;
    h.proxy.cut(); // the coordinator's process died: its connections are reset
    // a new attempt (after backoff) means the dead stream's end has been handled
    await until(() => (h?.link.stats.connects ?? 0) > connects, 10_000, 'the agent to try again');
    assert.deepEqual(unhandled.map(String), [], 'a rejection nobody handles ends the agent');
    h.proxy.resume(); // the coordinator is back
    await until(async () => h?.link.connected === true && (await h.catalogArchives()) === ARCHIVES, 20_000, 'the agent to reconnect and complete its inventory');
    assert.deepEqual(unhandled.map(String), []);
  });
});
