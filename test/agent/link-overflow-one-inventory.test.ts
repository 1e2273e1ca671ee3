// An agent whose journal overflowed sends a full inventory; changes made while it streams must
// fit in the journal (the snapshot covers every entry up to its as-of sequence, so those can
// go), or they are dropped too, the replay after the inventory finds a gap, and a busy server
// reconnects for another full inventory, and another: one inventory must be enough.
import assert from 'node:assert/strict';
import { startLinkHarness, until, type LinkHarness } from '../helpers/link-harness.js';
import { writeArchive } from '../helpers/archive-factory.js';

const ARCHIVES = 1200;

describe('coordinator link: a journal overflow ends with one full inventory', function () {
  this.timeout(60_000);
  let h: LinkHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('changes during the inventory are kept and replayed; no second full inventory', async () => {
    h = await startLinkHarness({ archives: ARCHIVES, runtime: { journalMaxEntries: 5 } });
    assert.notEqual(h.runtime.journal.stats().overflowSince, undefined, 'premise: the startup scan overflowed the journal');
    await h.startStalledInInventory();
    const tpl = h.tpl;
    for (let i = 0; i < 3; i++) h.site.store(`/data/during${i}`, i % 2, (p) => writeArchive(p, tpl));
    await h.runtime.fullScan('changes during the inventory');
    h.proxy.resume();
    await until(async () => h?.link.connected === true && h.runtime.journal.stats().overflowSince === undefined && (await h.catalogArchives()) === ARCHIVES + 3,
      20_000, 'the agent live, its overflow over, the catalog complete');
    assert.equal(h.link.stats.fullInventories, 1);
    assert.equal(h.link.stats.connects, 1);
  });
});
