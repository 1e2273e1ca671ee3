// The watchers start before the startup scan: a file created while the first scan of a restarted
// agent runs, in a bucket it has already read, is seen by the watcher. Started after the scan,
// nothing would report it until the next full scan (hours later). (On a fresh state dir the disk
// check's unknown -> online starts the watchers anyway: the restart is the case that matters.)
//
// Deterministic: with workers 0, start() has checked the disks, (now) added the inotify watches
// and read bucket 00 of disk 0 when it returns its promise; the file is created right then.
import assert from 'node:assert/strict';
import type { AgentRuntime, FullScanReport } from '../../agent/agent-runtime.js';
import type { Delta } from '../../shared/domain/delta.js';
import { useRuntimeFixture } from '../helpers/runtime-fixture.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('watchers start before the startup scan', () => {
  const fx = useRuntimeFixture();

  it('after a restart, a file created during the first scan, in a bucket it already read, is reported', async () => {
    fx.storeIn(0x00, '/data/first');
    for (let b = 1; b <= 6; b++) fx.storeIn(b, `/data/other${b}`, b % 2);
    const runtime = (): AgentRuntime => fx.runtime({ watch: true });
    const first = runtime();
    await first.start();
    await first.stop();
    const r = runtime();
    const deltas: Delta[] = [];
    r.on('deltas', (d: Delta[]) => deltas.push(...d));
    const reports: FullScanReport[] = [];
    r.on('scan', (rep: FullScanReport) => reports.push(rep));
    const started = r.start(); // bucket 00 is read by now
    const born = fx.storeIn(0x00, '/data/born');
    await started;
    assert.equal(reports[0]?.records, 7, 'premise: the first scan had passed bucket 00');
    const d = fx.site.disks[0];
    assert.ok(d);
    const dataPath = born.slice(d.path.length + 1);
    await until(() => r.inventory.has(d.diskId, dataPath) === true, 5000, 'the watcher to report the new file');
    assert.equal(deltas.filter((x) => x.kind === 'upsert' && x.record.dataPath === dataPath).length, 1);
  });
});
