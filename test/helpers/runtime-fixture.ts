// Per test: a fake two-disk site, a state dir and the AgentRuntimes under test (mocha hooks
// registered in the calling describe), for tests that drive the agent runtime directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime, type AgentRuntimeOptions } from '../../agent/agent-runtime.js';
import type { SiteLayout } from '../../agent/scan/site-scanner.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from './archive-factory.js';
import { makeFakeSite, type FakeSite } from './fake-site.js';

export interface RuntimeFixture {
  readonly site: FakeSite;
  readonly state: string;
  readonly tpl: ArchiveTemplate;
  /** The site as the runtime sees it. */
  layout(): SiteLayout;
  /** A runtime over the site and state dir (default: no watch, no scan workers); stopped after the test. */
  runtime(o?: Partial<AgentRuntimeOptions>): AgentRuntime;
  /** Stores an archive of `lfn` in bucket `bucket` (0..255) of disk `disk`. */
  storeIn(bucket: number, lfn: string, disk?: number): string;
}

export function useRuntimeFixture(): RuntimeFixture {
  let site: FakeSite | undefined;
  let state: string | undefined;
  let tpl: ArchiveTemplate | undefined;
  let started: AgentRuntime[] = [];
  // the data file name's counter picks its bucket (its low byte), a fresh name each time
  let next = 0x10000000;
  before(() => {
    tpl = makeArchiveTemplate();
  });
  beforeEach(() => {
    site = makeFakeSite();
    state = mkdtempSync(join(tmpdir(), 'ecguard-state-'));
  });
  afterEach(async () => {
    for (const r of started) await r.stop().catch(() => undefined);
    started = [];
    site?.cleanup();
    if (state) rmSync(state, { recursive: true, force: true });
  });
  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`runtime fixture: ${what} is only there inside a test`);
    return v;
  };
  const f: RuntimeFixture = {
    get site() {
      return must(site, 'site');
    },
    get state() {
      return must(state, 'state');
    },
    get tpl() {
      return must(tpl, 'tpl');
    },
    layout: () => ({ serverId: f.site.serverId, disks: f.site.disks, exports: [f.site.exportPath], ...(f.site.localroot ? { localroot: f.site.localroot } : {}) }),
    runtime(o = {}) {
      const r = new AgentRuntime({ layout: f.layout(), stateDir: f.state, watch: false, workers: 0, ...o });
      started.push(r);
      return r;
    },
    storeIn: (bucket, lfn, disk = 0) => f.site.store(lfn, disk, (p) => writeArchive(p, f.tpl), { counter: (next += 0x100) + bucket }),
  };
  return f;
}
