// A scan asked for while one runs (a disk back, the coordinator's rescan) may be about something
// the running scan has already passed: it must run after it, not be answered by it.
//
// Deterministic: with workers 0 the first scan has read bucket 00 of disk 0 when fullScan()
// returns; the file created there is what only a later scan can find (watch: false).
import assert from 'node:assert/strict';
import type { FullScanReport } from '../../agent/agent-runtime.js';
import { useRuntimeFixture } from '../helpers/runtime-fixture.js';

describe('a full scan asked for during a full scan', () => {
  const fx = useRuntimeFixture();

  it('runs once the running scan ends, and finds what that one had already passed', async () => {
    fx.storeIn(0x00, '/data/first');
    for (let b = 1; b <= 6; b++) fx.storeIn(b, `/data/other${b}`, b % 2);
    const r = fx.runtime();
    await r.start();
    const reports: FullScanReport[] = [];
    r.on('scan', (rep: FullScanReport) => reports.push(rep));
    const running = r.fullScan('periodic'); // bucket 00 is read by now
    const late = fx.storeIn(0x00, '/data/late');
    const asked = r.fullScan('coordinator: rescan');
    const again = r.fullScan('disk back'); // a third request joins the queued one
    const [first, second, third] = await Promise.all([running, asked, again]);
    assert.equal(first.records, 7, 'premise: the running scan had passed bucket 00');
    assert.equal(second.reason, 'coordinator: rescan', 'answered by the scan that was already running');
    assert.equal(second.records, 8);
    assert.equal(third, second, 'requests made during one scan share the next one');
    assert.deepEqual(reports.map((x) => x.reason), ['periodic', 'coordinator: rescan']);
    const d = fx.site.disks[0];
    assert.ok(d);
    assert.equal(r.inventory.has(d.diskId, late.slice(d.path.length + 1)), true);
  });
});
