// Agent metrics scraped over real HTTP from a fake source (a plain object implementing
// AgentMetricsSource, the contract the agent's adapter fulfils): every value equals the
// source's, zeros before the first scan and without a coordinator link, the scan rate, and the
// exported name list is exactly what the registry serves.
import assert from 'node:assert/strict';
import type { FindingKind } from '../../shared/domain/archive-record.js';
import { setLogLevel } from '../../shared/logger.js';
import { startMetricsServer, type MetricsServer } from '../../shared/metrics/metrics-server.js';
import type { DiskState } from '../../agent/disk/disk-check.js';
import { AGENT_METRIC_NAMES, FINDING_KINDS, agentMetrics, type AgentMetricsSource, type DebrisSummary, type FullScanSummary, type JournalSummary, type LinkSummary } from '../../agent/metrics/agent-metrics.js';
import type { ScrubStats } from '../../agent/scrub/scrub-loop.js';
import { scrape, valueOf } from '../helpers/prom-text.js';

class FakeAgent implements AgentMetricsSource {
  archives = 204_811;
  disks: Partial<Record<DiskState, number>> = { online: 10, failed: 1, missing: 1 };
  journalStats: JournalSummary = { pending: 42, lastSeq: 1042, ackedSeq: 1000 };
  scan: FullScanSummary | undefined = { records: 204_811, elapsedMs: 81_924, finishedAtMs: 1_748_772_000_123 };
  findings: Partial<Record<FindingKind, number>> = { 'dangling-symlink': 3, 'bad-archive': 1 };
  link: LinkSummary | undefined = { connected: true, connects: 3, fullInventories: 1, replays: 2, digestResyncs: 4 };
  journalCalls = 0;
  debrisStats: DebrisSummary | undefined = { quarantined: 5, refused: 2, failed: 1, purged: 3, kept: 4, keptBytes: 4096 };
  scrubStats: ScrubStats | undefined = { running: true, passes: 2, archives: 31_337, bytes: 9_876_543_210, corruptArchives: 3, lastPassDoneAt: 1_748_772_000_500 };

  async scrub(): Promise<ScrubStats | undefined> {
    return this.scrubStats;
  }

  async debris(): Promise<DebrisSummary | undefined> {
    return this.debrisStats;
  }

  async inventorySize(): Promise<number> {
    return this.archives;
  }
  async disksByState(): Promise<Partial<Record<DiskState, number>>> {
    return this.disks;
  }
  async journal(): Promise<JournalSummary> {
    this.journalCalls++;
    return this.journalStats;
  }
  async lastFullScan(): Promise<FullScanSummary | undefined> {
    return this.scan;
  }
  async lastScanFindings(): Promise<Partial<Record<FindingKind, number>>> {
    return this.findings;
  }
  async coordinatorLink(): Promise<LinkSummary | undefined> {
    return this.link;
  }
}

describe('agent metrics', () => {
  let server: MetricsServer;
  let source: FakeAgent;
  let url: string;

  before(() => setLogLevel('error'));
  after(() => setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info'));
  beforeEach(async () => {
    source = new FakeAgent();
    server = await startMetricsServer(agentMetrics(source), '127.0.0.1:0');
    url = `http://127.0.0.1:${server.port}/metrics`;
  });
  afterEach(() => server.close());

  it('serves every value of the source', async () => {
    const e = await scrape(url);
    assert.equal(valueOf(e, 'ecguard_agent_archives'), 204_811);
    for (const d of ['online', 'missing', 'failed', 'downgraded'] as const) assert.equal(valueOf(e, 'ecguard_agent_disks', { state: d }), source.disks[d] ?? 0, d);
    assert.equal(valueOf(e, 'ecguard_agent_journal_pending'), 42);
    assert.equal(valueOf(e, 'ecguard_agent_journal_last_seq'), 1042);
    assert.equal(valueOf(e, 'ecguard_agent_journal_acked_seq'), 1000);
    assert.equal(valueOf(e, 'ecguard_agent_journal_overflow'), 0);
    assert.equal(source.journalCalls, 1, 'one journal read per scrape');
    assert.equal(valueOf(e, 'ecguard_agent_last_full_scan_duration_seconds'), 81.924);
    assert.equal(valueOf(e, 'ecguard_agent_last_full_scan_records'), 204_811);
    assert.equal(valueOf(e, 'ecguard_agent_last_full_scan_timestamp_seconds'), 1_748_772_000.123);
    assert.ok(Math.abs(valueOf(e, 'ecguard_agent_last_full_scan_records_per_second') - 204_811 / 81.924) < 1e-6);
    for (const k of FINDING_KINDS) assert.equal(valueOf(e, 'ecguard_agent_last_scan_findings', { kind: k }), source.findings[k] ?? 0, k);
    assert.equal(valueOf(e, 'ecguard_agent_coordinator_connected'), 1);
    assert.equal(valueOf(e, 'ecguard_agent_coordinator_connects_total'), 3);
    assert.equal(valueOf(e, 'ecguard_agent_full_inventories_total'), 1);
    assert.equal(valueOf(e, 'ecguard_agent_replays_total'), 2);
    assert.equal(valueOf(e, 'ecguard_agent_digest_resyncs_total'), 4);
    for (const [o, n] of [['quarantined', 5], ['refused', 2], ['failed', 1]] as const) assert.equal(valueOf(e, 'ecguard_agent_debris_orders_total', { outcome: o }), n, o);
    assert.equal(valueOf(e, 'ecguard_agent_debris_purged_total'), 3);
    assert.equal(valueOf(e, 'ecguard_agent_quarantined_archives'), 4);
    assert.equal(valueOf(e, 'ecguard_agent_quarantined_bytes'), 4096);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_read_bytes_total'), 9_876_543_210);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_archives_total'), 31_337);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_corrupt_archives_total'), 3);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_passes_total'), 2);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_last_pass_timestamp_seconds'), 1_748_772_000.5);
  });

  it('reads 0 before the first scan and without a link, and follows the source between scrapes', async () => {
    source.scan = undefined;
    source.link = undefined;
    source.findings = {};
    source.journalStats = { pending: 1_000_000, lastSeq: 2_000_000, ackedSeq: 1_000_000, overflowSince: 1_999_000 };
    let e = await scrape(url);
    for (const n of ['duration_seconds', 'records', 'timestamp_seconds', 'records_per_second']) assert.equal(valueOf(e, `ecguard_agent_last_full_scan_${n}`), 0, n);
    for (const k of FINDING_KINDS) assert.equal(valueOf(e, 'ecguard_agent_last_scan_findings', { kind: k }), 0, k);
    assert.equal(valueOf(e, 'ecguard_agent_coordinator_connected'), 0);
    assert.equal(valueOf(e, 'ecguard_agent_coordinator_connects_total'), 0);
    assert.equal(valueOf(e, 'ecguard_agent_journal_overflow'), 1);
    assert.equal(valueOf(e, 'ecguard_agent_journal_pending'), 1_000_000);

    source.scan = { records: 0, elapsedMs: 0, finishedAtMs: 1000 };
    source.link = { connected: false, connects: 9, fullInventories: 2, replays: 6, digestResyncs: 1 };
    source.archives = 0;
    e = await scrape(url);
    assert.equal(valueOf(e, 'ecguard_agent_last_full_scan_records_per_second'), 0, 'no division by zero');
    assert.equal(valueOf(e, 'ecguard_agent_last_full_scan_timestamp_seconds'), 1);
    assert.equal(valueOf(e, 'ecguard_agent_archives'), 0);
    assert.equal(valueOf(e, 'ecguard_agent_coordinator_connected'), 0);
    assert.equal(valueOf(e, 'ecguard_agent_coordinator_connects_total'), 9);
    assert.equal(valueOf(e, 'ecguard_agent_replays_total'), 6);
    assert.equal(valueOf(e, 'ecguard_agent_digest_resyncs_total'), 1);
  });

  it('scrub metrics read 0 with the scrub off, and before its first complete pass', async () => {
    source.scrubStats = undefined;
    let e = await scrape(url);
    for (const n of ['read_bytes_total', 'archives_total', 'corrupt_archives_total', 'passes_total', 'last_pass_timestamp_seconds']) assert.equal(valueOf(e, `ecguard_agent_scrub_${n}`), 0, n);
    source.scrubStats = { running: true, passes: 0, archives: 5, bytes: 5000, corruptArchives: 0 };
    e = await scrape(url);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_archives_total'), 5);
    assert.equal(valueOf(e, 'ecguard_agent_scrub_last_pass_timestamp_seconds'), 0);
  });

  it('exports exactly AGENT_METRIC_NAMES, with HELP and the right types', async () => {
    const e = await scrape(url);
    assert.deepEqual([...e.types.keys()].sort(), [...AGENT_METRIC_NAMES].sort());
    for (const n of AGENT_METRIC_NAMES) {
      assert.ok((e.help.get(n) ?? '').length > 10, `HELP of ${n}`);
      assert.equal(e.types.get(n), n.endsWith('_total') ? 'counter' : 'gauge', n);
    }
  });
});
