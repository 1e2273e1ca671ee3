// An agent that lost its state (host reinstalled, state dir wiped) starts while one of its disks
// is not mounted. It knows nothing of that disk's archives, so its inventory lacks them. The
// coordinator must not take that as their deletion: the agent says the disk is missing, so its
// archives stay in the catalog (lost until the disk is back, never swept). When the disk is
// mounted again, the agent reads it for the first time and asks for a resync, which compares:
// an archive the disk lost while away is dropped, the others stay.
import assert from 'node:assert/strict';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import { CoordinatorLink } from '../../agent/session/coordinator-link.js';
import { PROFILE, startLinkHarness, until, type LinkHarness } from '../helpers/link-harness.js';

const ARCHIVES = 200;

describe('coordinator link: fresh agent state while a disk is missing', function () {
  this.timeout(90_000);
  let h: LinkHarness | undefined;
  let runtime: AgentRuntime | undefined;
  let link: CoordinatorLink | undefined;
  afterEach(async () => {
    link?.stop();
    await runtime?.stop();
    link = runtime = undefined;
    await h?.close();
    h = undefined;
  });

  for (const [mode, remount] of [['digest resync', 'live'], ['full inventory', 'live'], ['digest resync', 'agent restart']] as const) {
    it(`its ${mode} sweeps none of the missing disk's archives; mounted again (${remount === 'live' ? 'while it runs' : 'across an agent restart'}) and read, a resync drops only what it lost`, async () => {
      h = await startLinkHarness({ archives: ARCHIVES });
      const hh = h;
      const serverId = h.site.serverId;
      const [d0, d1] = h.site.disks;
      assert.ok(d0 && d1);
      h.link.start();
      await until(async () => hh.link.connected && (await hh.catalogArchives()) === ARCHIVES && (await hh.coord.store.getServer(serverId))?.inventoried === true, 30_000, 'the first full inventory');
      const before = await h.coord.store.archiveCountsByDisk();
      assert.equal(before.get(d1.diskId), ARCHIVES / 2);

      // the host is reinstalled: agent state gone, and disk 1 not mounted when the agent starts
      h.link.stop();
      await h.runtime.stop();
      rmSync(join(h.dir, 'state'), { recursive: true, force: true });
      renameSync(d1.path, `${d1.path}.away`);
      // a catalog that holds the server's archives but no complete inventory of it (one cut short) asks for a full one
      if (mode === 'full inventory') await h.coord.cluster.updateServer(serverId, { inventoried: false });
      const state = join(h.dir, 'state-new');
      runtime = new AgentRuntime({ layout: { serverId, disks: h.site.disks, exports: [h.site.exportPath], ...(h.site.localroot ? { localroot: h.site.localroot } : {}) }, stateDir: state, watch: false, workers: 0, diskCheckIntervalMs: 3_600_000 });
      await runtime.start();
      assert.equal(runtime.inventory.size, ARCHIVES / 2, 'premise: the new agent knows only disk 0\'s archives');
      link = new CoordinatorLink(runtime, { address: `127.0.0.1:${h.proxy.port}`, insecure: true, profile: PROFILE, stateDir: state, batch: 10 });
      const l = link;
      link.start();
      // done when the coordinator closed it (InventoryDone handled: the sweep is behind us)
      await until(async () => l.connected && (mode === 'full inventory' ? l.stats.fullInventories : l.stats.digestResyncs) === 1 && (await hh.coord.store.getServer(serverId))?.inventoried === true && (await hh.coord.store.getServer(serverId))?.appliedSeq === runtime?.journal.stats().lastSeq, 30_000, `the new agent's ${mode}`);
      assert.equal(l.stats.fullInventories + l.stats.digestResyncs, 1);
      assert.equal((await h.coord.store.getDisk(d1.diskId))?.state, 'missing');
      await h.coord.reclassifier.flush();
      const after = await h.coord.store.archiveCountsByDisk();
      assert.equal(after.get(d0.diskId), ARCHIVES / 2);
      assert.equal(after.get(d1.diskId), ARCHIVES / 2, 'the missing disk\'s archives were swept');

      // while unmounted, one archive was lost from it (an fsck, say): only a comparison can tell
      const lost = readdirSync(`${d1.path}.away`, { recursive: true, encoding: 'utf8' }).find((p) => p.endsWith('%'));
      assert.ok(lost);
      rmSync(join(`${d1.path}.away`, lost));

      // mounted again: the agent reads it for the first time and asks for a resync, which drops
      // the lost archive's row; the catalog then holds exactly what the disks hold
      let resyncs = l.stats.digestResyncs + l.stats.fullInventories;
      let cur = l;
      if (remount === 'live') {
        renameSync(`${d1.path}.away`, d1.path);
        runtime.checkDisks();
      } else {
        // the host reboots with the disk mounted: the start scan is its first read
        link.stop();
        await runtime.stop();
        renameSync(`${d1.path}.away`, d1.path);
        runtime = new AgentRuntime({ layout: { serverId, disks: h.site.disks, exports: [h.site.exportPath], ...(h.site.localroot ? { localroot: h.site.localroot } : {}) }, stateDir: state, watch: false, workers: 0, diskCheckIntervalMs: 3_600_000 });
        await runtime.start();
        assert.notEqual(runtime.journal.stats().overflowSince, undefined, 'the start scan asked for a resync');
        link = new CoordinatorLink(runtime, { address: `127.0.0.1:${h.proxy.port}`, insecure: true, profile: PROFILE, stateDir: state, batch: 10 });
        cur = link;
        resyncs = 0;
        link.start();
      }
      const c = cur;
      await until(async () => (await hh.coord.store.getDisk(d1.diskId))?.state === 'online', 10_000, 'disk 1 online again');
      await until(() => runtime?.inventory.size === ARCHIVES - 1, 10_000, 'the agent to know disk 1');
      await until(async () => c.connected && c.stats.digestResyncs + c.stats.fullInventories === resyncs + 1 && runtime?.journal.stats().overflowSince === undefined, 20_000, 'the resync asked for');
      await until(async () => (await hh.catalogArchives()) === ARCHIVES - 1, 10_000, 'the lost archive dropped from the catalog');
      const now = await h.coord.store.archiveCountsByDisk();
      assert.deepEqual([now.get(d0.diskId), now.get(d1.diskId)], [ARCHIVES / 2, ARCHIVES / 2 - 1]);
      // once read, the disk asks for no further resync
      await runtime.fullScan('again');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(c.stats.digestResyncs + c.stats.fullInventories, resyncs + 1);
    });
  }
});
