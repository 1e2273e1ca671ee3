// A disk unmounted and mounted again, or swapped for another, is a new directory tree at the same
// path: the old inotify watches sit on the old inodes and go quiet without any error. The agent
// must drop them and watch the new tree, or nothing changed there is seen until a full scan.
//
// The swap is done synchronously (rename the disk directory away, put a new one in its place), so
// the old watcher's own event finds the path still there and raises no trouble, like an unmount.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime, type DiskEvent, type FullScanReport } from '../../agent/agent-runtime.js';
import { MARKER_FILE } from '../../agent/disk/disk-check.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from '../helpers/archive-factory.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('watching a remounted or swapped disk', () => {
  let site: FakeSite;
  let state: string;
  let tpl: ArchiveTemplate;
  let r: AgentRuntime;
  let events: DiskEvent[];
  let scans: FullScanReport[];
  before(() => {
    tpl = makeArchiveTemplate();
  });
  beforeEach(async () => {
    site = makeFakeSite();
    state = mkdtempSync(join(tmpdir(), 'ecguard-state-'));
    for (let i = 0; i < 4; i++) site.store(`/data/f${i}`, 0, (p) => writeArchive(p, tpl));
    // disk checks only when the test asks
    r = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: true, workers: 0, diskCheckIntervalMs: 3_600_000 });
    events = [];
    scans = [];
    r.on('disk', (e: DiskEvent) => events.push(e));
    r.on('scan', (rep: FullScanReport) => scans.push(rep));
    await r.start();
  });
  afterEach(async () => {
    await r.stop();
    site.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  const disk = (): { diskId: string; path: string; space: string } => {
    const d = site.disks[1];
    assert.ok(d);
    return d;
  };

  /** Waits for the rescan the disk's return starts, then writes a file there and waits for it. */
  async function newFileIsSeen(): Promise<void> {
    const d = disk();
    await until(() => scans.some((s) => s.reason === `disk ${d.diskId} back`), 10_000, 'the rescan of the returned disk');
    const path = site.store('/data/after', 1, (p) => writeArchive(p, tpl));
    const dataPath = path.slice(d.path.length + 1);
    await until(() => r.inventory.has(d.diskId, dataPath), 5000, 'the watcher to report a file written after the remount');
  }

  it('unmounted (missing), then mounted again: a new watcher sees changes', async () => {
    const d = disk();
    renameSync(d.path, `${d.path}.mounted`); // "umount": an empty directory of the root fs remains
    mkdirSync(d.path);
    r.checkDisks();
    assert.ok(events.some((e) => e.diskId === d.diskId && e.to === 'missing'), JSON.stringify(events));
    rmdirSync(d.path); // "mount": the same disk (same marker), new inodes
    mkdirSync(join(d.path, d.space), { recursive: true });
    copyFileSync(join(`${d.path}.mounted`, MARKER_FILE), join(d.path, MARKER_FILE));
    r.checkDisks();
    assert.ok(events.some((e) => e.diskId === d.diskId && e.from === 'missing' && e.to === 'online'), JSON.stringify(events));
    await newFileIsSeen();
  });

  it('swapped for another disk (online to online, new marker): a new watcher sees changes', async () => {
    const d = disk();
    renameSync(d.path, `${d.path}.old`);
    mkdirSync(join(d.path, d.space), { recursive: true });
    writeFileSync(join(d.path, MARKER_FILE), JSON.stringify({ uuid: '11111111-2222-3333-4444-555555555555' }));
    r.checkDisks();
    assert.ok(events.some((e) => e.diskId === d.diskId && e.replaced && e.to === 'online'), JSON.stringify(events));
    await newFileIsSeen();
  });
});
