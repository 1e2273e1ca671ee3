// A scan asked for while one runs (a disk back, the coordinator's rescan) may be about something
// the running scan has already passed: it must run after it, not be answered by it.
//
// Deterministic: with workers 0 the first scan has read bucket 00 of disk 0 when fullScan()
// returns; the file created there is what only a later scan can find (watch: false).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime, type FullScanReport } from '../../agent/agent-runtime.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from '../helpers/archive-factory.js';

describe('a full scan asked for during a full scan', () => {
  let site: FakeSite;
  let state: string;
  let tpl: ArchiveTemplate;
  let r: AgentRuntime | undefined;
  before(() => {
    tpl = makeArchiveTemplate();
  });
  beforeEach(() => {
    site = makeFakeSite();
    state = mkdtempSync(join(tmpdir(), 'ecguard-state-'));
  });
  afterEach(async () => {
    await r?.stop();
    r = undefined;
    site.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  let next = 0x20000000;
  const storeIn = (bucket: number, lfn: string, disk = 0): string => site.store(lfn, disk, (p) => writeArchive(p, tpl), { counter: (next += 0x100) + bucket });

  it('runs once the running scan ends, and finds what that one had already passed', async () => {
    storeIn(0x00, '/data/first');
    for (let b = 1; b <= 6; b++) storeIn(b, `/data/other${b}`, b % 2);
    r = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: false, workers: 0 });
    await r.start();
    const reports: FullScanReport[] = [];
    r.on('scan', (rep: FullScanReport) => reports.push(rep));
    const running = r.fullScan('periodic'); // bucket 00 is read by now
    const late = storeIn(0x00, '/data/late');
    const asked = r.fullScan('coordinator: rescan');
    const again = r.fullScan('disk back'); // a third request joins the queued one
    const [first, second, third] = await Promise.all([running, asked, again]);
    assert.equal(first.records, 7, 'premise: the running scan had passed bucket 00');
    assert.equal(second.reason, 'coordinator: rescan', 'answered by the scan that was already running');
    assert.equal(second.records, 8);
    assert.equal(third, second, 'requests made during one scan share the next one');
    assert.deepEqual(reports.map((x) => x.reason), ['periodic', 'coordinator: rescan']);
    const d = site.disks[0];
    assert.ok(d);
    assert.equal(r.inventory.has(d.diskId, late.slice(d.path.length + 1)), true);
  });
});
