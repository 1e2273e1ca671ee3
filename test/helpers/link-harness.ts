// One agent (real runtime on a fake site, real CoordinatorLink) and the real coordinator over
// loopback gRPC (insecure), with a stallable relay between them (pausable-proxy.ts), for tests of
// what happens while the agent is in the middle of a full inventory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime, type AgentRuntimeOptions } from '../../agent/agent-runtime.js';
import { CoordinatorLink } from '../../agent/session/coordinator-link.js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from './archive-factory.js';
import { makeFakeSite, type FakeSite } from './fake-site.js';
import { startPausableProxy, type PausableProxy } from './pausable-proxy.js';

export const PROFILE = { nbData: 4, nbParity: 2, chunkSize: 1024 };

export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface LinkHarness {
  readonly dir: string;
  readonly site: FakeSite;
  readonly tpl: ArchiveTemplate;
  readonly coord: Coordinator;
  readonly proxy: PausableProxy;
  readonly runtime: AgentRuntime;
  readonly link: CoordinatorLink;
  /** Archives of the agent's server in the catalog. */
  catalogArchives(): Promise<number>;
  /**
   * Starts the link and stalls the relay as soon as the agent begins its full inventory; resolves
   * once the agent's stream is full and waits for 'drain' (the inventory is far from sent).
   */
  startStalledInInventory(): Promise<void>;
  close(): Promise<void>;
}

/** Writes `archives` archives (disk 0 and 1 alternately), starts the runtime; the link is not started. */
export async function startLinkHarness(o: { archives: number; runtime?: Partial<AgentRuntimeOptions> }): Promise<LinkHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'ecguard-link-'));
  const site = makeFakeSite();
  const tpl = makeArchiveTemplate();
  // Long names make big records: the inventory must outgrow what gRPC buffers without
  // backpressure (its 1 MiB per-call retry buffer, then HTTP/2's 64 KiB window).
  const deep = `/data/${Array.from({ length: 6 }, (_, i) => `${i}`.repeat(250)).join('/')}`;
  for (let i = 0; i < o.archives; i++) site.store(`${deep}/f${i}`, i % 2, (p) => writeArchive(p, tpl));
  const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store: openCatalogStore(join(dir, 'catalog.db')), insecure: true, heartbeatMs: 200, downAfterMs: 30_000, safeModeTimeoutMs: 60_000, safeModeSettleMs: 500, writeSettleMs: 2000 });
  const port = await coord.start();
  const proxy = await startPausableProxy(() => port);
  const state = join(dir, 'state');
  const runtime = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: false, workers: 0, diskCheckIntervalMs: 3_600_000, ...o.runtime });
  await runtime.start();
  // Small messages: the agent waits for 'drain' soon after the window closes.
  const link = new CoordinatorLink(runtime, { address: `127.0.0.1:${proxy.port}`, insecure: true, profile: PROFILE, stateDir: state, batch: 10 });
  const stream = (): { writableNeedDrain: boolean } | undefined => (link as unknown as { stream?: { writableNeedDrain: boolean } }).stream;
  return {
    dir, site, tpl, coord, proxy, runtime, link,
    async catalogArchives() {
      const counts = await coord.store.archiveCountsByDisk();
      return site.disks.reduce((n, d) => n + (counts.get(d.diskId) ?? 0), 0);
    },
    async startStalledInInventory() {
      const before = link.stats.fullInventories;
      link.start();
      // Welcome is handled, and the first batches written, within one turn of the event loop.
      const end = Date.now() + 10_000;
      while (link.stats.fullInventories === before) {
        if (Date.now() > end) throw new Error('timed out waiting for the full inventory to start');
        await new Promise((r) => setImmediate(r));
      }
      proxy.stall();
      await until(() => stream()?.writableNeedDrain === true, 5000, 'the agent to wait for drain (premise)');
    },
    async close() {
      link.stop();
      await runtime.stop();
      await proxy.close();
      await coord.stop();
      site.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
