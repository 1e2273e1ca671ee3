// `ecguard simulate` end to end: a real coordinator process driven by synthetic agents over
// gRPC through every phase, its report checked; and the refusals that keep it away from a
// site's catalog (an existing SQLite file, a PostgreSQL catalog with real servers).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { checkSimCatalog } from '../../cli/simulate/sim-coordinator.js';
import type { SimReport } from '../../cli/simulate/sim-run.js';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { server } from '../coordinator/catalog/catalog-fixtures.js';

describe('ecguard simulate', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-simtest-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('every phase against a real coordinator: the report\'s checks hold and its counts follow the population', async function () {
    this.timeout(180_000);
    const r = await runCliAsync(['simulate', '--servers', '7', '--files', '700', '--profile', '4+2:65536', '--churn', '40', '--churn-time', '1s', '--down-after', '2s', '--timeout', '60s', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rep = JSON.parse(r.stdout) as SimReport;
    assert.deepEqual(rep.phases.map((p) => p.phase), ['inventory', 'churn', 'disk', 'server', 'restart', 'resync']);
    for (const p of rep.phases) for (const c of p.checks) assert.ok(c.ok, `${p.phase}: ${c.what}: ${c.observed}, expected ${c.expected}`);
    assert.ok(rep.ok);
    const inv = rep.phases[0];
    assert.equal(inv?.sent, 700 * 6, 'the full inventories carried every archive once');
    assert.ok(inv?.checks.some((c) => c.what === 'sessions the coordinator closed' && c.observed === 0));
    // churn replaces files one for one: still 700 live
    assert.equal(rep.files, 700);
    const churn = rep.phases[1];
    assert.ok((churn?.sent ?? 0) >= 40 * 6 * 2 * 0.5, `churn sent ${churn?.sent} deltas`);
    const resync = rep.phases[5];
    assert.ok((resync?.sent ?? Infinity) < 700 * 6, 'a digest resync re-sends only the differing buckets');
    assert.ok(rep.coordinatorPeakRssMB > 0);
  });

  it('refuses bad flags and an existing SQLite catalog, changing nothing', () => {
    const existing = join(dir, 'catalog.db');
    writeFileSync(existing, 'a site catalog');
    const cases: [string[], RegExp][] = [
      [['--db', existing], /exists: simulate writes synthetic servers/],
      [['--servers', '3', '--profile', '4+2:65536'], /--servers 3: a 4\+2 file needs 6 servers/],
      [['--phases', 'disk,bogus'], /--phases: unknown phase "bogus"/],
      [['--profile', '/store/=4+2:65536'], /--profile wants N\+M:C/],
      [['--churn-time', 'soon'], /expected .*"soon"/],
      [['--timeout', '0s'], /--timeout 0s: give 1s or more/],
      [['--down-after', '100ms'], /--down-after 100ms: give 1s or more/],
    ];
    for (const [args, why] of cases) {
      const r = runCli(['simulate', ...args, '--files', '10']);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
    assert.equal(readFileSync(existing, 'utf8'), 'a site catalog');
  });

  describe('a PostgreSQL catalog', () => {
    let pg: PostgresServer;
    before(async function () {
      this.timeout(60_000);
      pg = await startPostgres();
    });
    after(async () => pg?.stop());

    it('is taken only when it holds no server: a site\'s is refused, so is an earlier run\'s', async function () {
      this.timeout(60_000);
      const base = await pg.createDatabase('sim');
      await checkSimCatalog(await pg.createSchema(base, 'empty'));
      const site = await pg.createSchema(base, 'site');
      const store = openCatalogStore(site);
      await store.putServer(server('srv07'));
      const simOnly = await pg.createSchema(base, 'simonly');
      const sims = openCatalogStore(simOnly);
      await sims.putServer(server('sim-003'));
      try {
        await assert.rejects(checkSimCatalog(site), (e: Error & { code?: string }) => e.code === 'USAGE' && /holds server srv07: it is a real catalog/.test(e.message));
        await assert.rejects(checkSimCatalog(simOnly), (e: Error & { code?: string }) => e.code === 'USAGE' && /holds sim-003 from an earlier simulate/.test(e.message));
        assert.equal((await store.getServer('srv07'))?.serverId, 'srv07', 'the catalog is unchanged');
      } finally {
        await store.close();
        await sims.close();
      }
    });
  });
});
