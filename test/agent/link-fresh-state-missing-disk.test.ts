// An agent that lost its state (host reinstalled, state dir wiped) starts while one of its disks
// is not mounted. It knows nothing of that disk's archives, so its inventory lacks them. The
// coordinator must not take that as their deletion: the agent says the disk is missing, so its
// archives stay in the catalog (lost until the disk is back, never swept, no tombstone), and
// when the disk is mounted again the catalog is as before.
import assert from 'node:assert/strict';
import { renameSync, rmSync } from 'node:fs';
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

  for (const mode of ['digest resync', 'full inventory'] as const) {
    it(`its ${mode} sweeps none of the missing disk's archives; mounted again, the catalog is as before`, async () => {
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

      // mounted again: the agent scans it, and the catalog holds exactly what it held before
      renameSync(`${d1.path}.away`, d1.path);
      runtime.checkDisks();
      await until(async () => (await hh.coord.store.getDisk(d1.diskId))?.state === 'online', 10_000, 'disk 1 online again');
      await until(() => runtime?.inventory.size === ARCHIVES, 10_000, 'the agent to know disk 1 again');
      await until(async () => (await hh.catalogArchives()) === ARCHIVES, 10_000, 'the catalog to hold every archive');
      assert.deepEqual([...(await h.coord.store.archiveCountsByDisk())].sort(), [...before].sort());
    });
  }
});
