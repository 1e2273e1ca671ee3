// Digest resync over real gRPC (DESIGN.md §4): an agent whose journal overflowed while it was
// away, reconnecting to a coordinator that holds its inventory, sends per-bucket digests and
// then only the buckets that differ, not a full inventory; the catalog ends exactly as the
// agent's disks are (new, deleted and changed archives alike).
import assert from 'node:assert/strict';
import { rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinatorLink } from '../../agent/session/coordinator-link.js';
import { PROFILE, startLinkHarness, until, type LinkHarness } from '../helpers/link-harness.js';
import { writeArchive } from '../helpers/archive-factory.js';

const ARCHIVES = 1200;

describe('coordinator link: digest resync after a journal overflow', function () {
  this.timeout(90_000);
  let h: LinkHarness | undefined;
  let second: CoordinatorLink | undefined;
  afterEach(async () => {
    second?.stop();
    second = undefined;
    await h?.close();
    h = undefined;
  });

  it('sends only the buckets that differ; the catalog ends equal to the disks', async () => {
    h = await startLinkHarness({ archives: ARCHIVES, runtime: { journalMaxEntries: 20 } });
    const hh = h;
    const tpl = h.tpl;
    h.link.start();
    await until(async () => hh.link.connected && (await hh.catalogArchives()) === ARCHIVES, 30_000, 'the first full inventory');
    // live changes reach the catalog as deltas
    const x = Array.from({ length: 15 }, (_, i) => ({ lfn: `/data/x${i}`, path: hh.site.store(`/data/x${i}`, i % 2, (p) => writeArchive(p, tpl)) }));
    await h.runtime.fullScan('x files');
    await until(async () => (await hh.catalogArchives()) === ARCHIVES + 15, 20_000, 'the x files in the catalog');
    assert.equal(h.link.stats.fullInventories, 1);

    // away: more changes than the journal holds
    h.link.stop();
    const gone = x.slice(0, 5);
    for (const f of gone) {
      rmSync(f.path);
      rmSync(join(h.site.localroot ?? '', f.lfn));
    }
    const touched = x.slice(5, 10);
    for (const f of touched) utimesSync(f.path, new Date(), new Date(Date.UTC(2030, 0, 1)));
    const y = Array.from({ length: 30 }, (_, i) => `/data/y${i}`);
    y.forEach((lfn, i) => hh.site.store(lfn, i % 2, (p) => writeArchive(p, tpl)));
    await h.runtime.fullScan('changes while away');
    assert.notEqual(h.runtime.journal.stats().overflowSince, undefined, 'premise: the journal overflowed');

    second = new CoordinatorLink(h.runtime, { address: `127.0.0.1:${h.proxy.port}`, insecure: true, profile: PROFILE, stateDir: join(h.dir, 'state'), batch: 10 });
    const link = second;
    second.start();
    const want = ARCHIVES + 15 - 5 + 30;
    await until(async () => link.connected && hh.runtime.journal.stats().overflowSince === undefined && (await hh.catalogArchives()) === want, 30_000, 'the resync done, the overflow over');
    assert.equal(link.stats.digestResyncs, 1);
    assert.equal(link.stats.fullInventories, 0, 'no full inventory');
    assert.ok(link.stats.digestRecordsSent >= 35 && link.stats.digestRecordsSent < 200, `records sent again: ${link.stats.digestRecordsSent} of ${want}`);
    const syncs = h.coord.syncs.get(h.site.serverId);
    assert.equal(syncs?.digest, 1);
    assert.equal(syncs?.digestRecords, link.stats.digestRecordsSent);

    const rows = await h.coord.store.archivesOf([...x.map((f) => f.lfn), ...y]);
    for (const f of gone) assert.deepEqual(rows.get(f.lfn), [], `${f.lfn}: deleted while away, gone from the catalog`);
    for (const f of touched) assert.equal(rows.get(f.lfn)?.[0]?.mtimeMs, Date.UTC(2030, 0, 1), `${f.lfn}: changed while away, updated`);
    for (const lfn of y) assert.equal(rows.get(lfn)?.length, 1, `${lfn}: created while away, present`);

    // and live again: a new change arrives as a delta
    h.site.store('/data/z', 0, (p) => writeArchive(p, tpl));
    await h.runtime.fullScan('z');
    await until(async () => (await hh.catalogArchives()) === want + 1, 20_000, 'a live delta after the resync');
  });
});
