// Coordinator metrics scraped over real HTTP from a fake source (a plain object implementing
// CoordinatorMetricsSource, the contract the Coordinator's adapter fulfils): every value equals
// the source's, every state is present, values follow the source between scrapes, the catalog
// is asked once per scrape, and the exported name list is exactly what the registry serves.
import assert from 'node:assert/strict';
import { HEALTH_INDICATORS, type HealthIndicator } from '../../shared/domain/event.js';
import { FILE_STATES, type FileState, type ServerState } from '../../shared/domain/file-health.js';
import { setLogLevel } from '../../shared/logger.js';
import { startMetricsServer, type MetricsServer } from '../../shared/metrics/metrics-server.js';
import type { StateCount } from '../../coordinator/catalog/catalog-store.js';
import type { DiskState } from '../../coordinator/catalog/catalog-types.js';
import { COORDINATOR_METRIC_NAMES, coordinatorMetrics, type CoordinatorMetricsSource } from '../../coordinator/metrics/coordinator-metrics.js';
import { scrape, samplesOf, valueOf, type Exposition } from '../helpers/prom-text.js';

class FakeCoordinator implements CoordinatorMetricsSource {
  files: Partial<Record<FileState, StateCount>> = {
    healthy: { count: 1000, bytes: 7_340_032_000 },
    degraded: { count: 12, bytes: 120_000_000 },
    critical: { count: 3, bytes: 30_000_000 },
    unavailable: { count: 2, bytes: 2_000_000 },
    lost: { count: 1, bytes: 7_340_032 },
    incomplete: { count: 4, bytes: 400 },
  };
  archives: Partial<Record<DiskState, number>> = { online: 6000, failed: 51, downgraded: 7 };
  servers: Partial<Record<ServerState, number>> = { up: 5, down: 1 };
  sessions = 5;
  rejected: Record<string, number> = { srv02: 3, 'srv"07\\x': 1 };
  backlog = 17;
  safe = true;
  indicators: Partial<Record<HealthIndicator, boolean>> = { 'disk-failing': true, 'low-durability': true, 'last-copy-offline': false };
  fileCountCalls = 0;

  async fileCounts(): Promise<Partial<Record<FileState, StateCount>>> {
    this.fileCountCalls++;
    await new Promise((r) => setTimeout(r, 5)); // a catalog query takes a while
    return this.files;
  }
  async archivesByDiskState(): Promise<Partial<Record<DiskState, number>>> {
    return this.archives;
  }
  async serversByState(): Promise<Partial<Record<ServerState, number>>> {
    return this.servers;
  }
  async agentSessions(): Promise<number> {
    return this.sessions;
  }
  async rejectedRecords(): Promise<Record<string, number>> {
    return this.rejected;
  }
  async outboxBacklog(): Promise<number> {
    return this.backlog;
  }
  async safeMode(): Promise<boolean> {
    return this.safe;
  }
  async healthIndicators(): Promise<Partial<Record<HealthIndicator, boolean>>> {
    return this.indicators;
  }
  readonly repair = {
    taskCounts: async () => ({ queued: 3, assigned: 1, running: 2, verifying: 0, done: 10, failed: 1, parked: 1, cancelled: 0 }),
    bytesRebuilt: async () => 123_456,
    bytesPerSecond: async () => 2048,
    waitingFiles: async () => 4,
    throttles: async () => ({ perAgentTasks: 2, perSourceStreams: 4, perAgentMBps: 100, clusterTasks: 64 }),
    paused: async () => true,
    drains: async () => [{ drain: 'server srv03', diskId: 'srv03:/disk/sda', files: 120 }, { drain: 'server srv03', diskId: 'srv03:/disk/sdb', files: 0 }],
  };
}

describe('coordinator metrics', () => {
  let server: MetricsServer;
  let source: FakeCoordinator;
  let url: string;

  before(() => setLogLevel('error'));
  after(() => setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info'));
  beforeEach(async () => {
    source = new FakeCoordinator();
    server = await startMetricsServer(coordinatorMetrics(source), '127.0.0.1:0');
    url = `http://127.0.0.1:${server.port}/metrics`;
  });
  afterEach(() => server.close());

  function checkAll(e: Exposition, s: FakeCoordinator): void {
    for (const st of FILE_STATES) {
      assert.equal(valueOf(e, 'ecguard_files', { state: st }), s.files[st]?.count ?? 0, `files ${st}`);
      assert.equal(valueOf(e, 'ecguard_file_bytes', { state: st }), s.files[st]?.bytes ?? 0, `bytes ${st}`);
    }
    const atRisk = (['degraded', 'critical', 'unavailable', 'lost'] as const).reduce((n, st) => n + (s.files[st]?.bytes ?? 0), 0);
    assert.equal(valueOf(e, 'ecguard_bytes_at_risk'), atRisk);
    for (const d of ['online', 'missing', 'failed', 'downgraded'] as const) assert.equal(valueOf(e, 'ecguard_archives', { disk_state: d }), s.archives[d] ?? 0, d);
    for (const st of ['up', 'down', 'lost'] as const) assert.equal(valueOf(e, 'ecguard_servers', { state: st }), s.servers[st] ?? 0, st);
    assert.equal(valueOf(e, 'ecguard_agent_sessions'), s.sessions);
    assert.equal(samplesOf(e, 'ecguard_records_rejected_total').length, Object.keys(s.rejected).length);
    for (const [server, n] of Object.entries(s.rejected)) assert.equal(valueOf(e, 'ecguard_records_rejected_total', { server }), n, server);
    assert.equal(valueOf(e, 'ecguard_event_outbox_backlog'), s.backlog);
    assert.equal(valueOf(e, 'ecguard_safe_mode'), s.safe ? 1 : 0);
    for (const i of HEALTH_INDICATORS) assert.equal(valueOf(e, 'ecguard_health_indicator', { indicator: i }), s.indicators[i] ? 1 : 0, i);
  }

  it('serves every value of the source, with every state present', async () => {
    const e = await scrape(url);
    checkAll(e, source);
    assert.equal(valueOf(e, 'ecguard_bytes_at_risk'), 120_000_000 + 30_000_000 + 2_000_000 + 7_340_032);
    assert.equal(valueOf(e, 'ecguard_files', { state: 'pending' }), 0);
    assert.equal(valueOf(e, 'ecguard_archives', { disk_state: 'missing' }), 0);
    assert.equal(valueOf(e, 'ecguard_servers', { state: 'lost' }), 0);
    assert.equal(valueOf(e, 'ecguard_health_indicator', { indicator: 'insufficient-storage' }), 0);
    // An odd server id survives label escaping.
    assert.equal(valueOf(e, 'ecguard_records_rejected_total', { server: 'srv"07\\x' }), 1);
  });

  it('reads the source at each scrape, once per scrape for the file counts', async () => {
    await scrape(url);
    assert.equal(source.fileCountCalls, 1);
    source.files = { healthy: { count: 1021, bytes: 9e9 }, lost: { count: 0, bytes: 0 } };
    source.archives = { online: 6100 };
    source.servers = { up: 6 };
    source.sessions = 6;
    source.rejected = { srv02: 5 };
    source.backlog = 0;
    source.safe = false;
    source.indicators = {};
    const e = await scrape(url);
    assert.equal(source.fileCountCalls, 2);
    checkAll(e, source);
    assert.equal(valueOf(e, 'ecguard_bytes_at_risk'), 0);
    assert.deepEqual(samplesOf(e, 'ecguard_records_rejected_total').map((x) => x.labels.server), ['srv02']);
  });

  it('repair: tasks per state (every state), bytes rebuilt, throughput, waiting files, throttles, pause, drains', async () => {
    const e = await scrape(url);
    const tasks = samplesOf(e, 'ecguard_repair_tasks');
    assert.equal(tasks.length, 8);
    assert.equal(tasks.find((x) => x.labels.state === 'parked')?.value, 1);
    assert.equal(tasks.find((x) => x.labels.state === 'queued')?.value, 3);
    assert.equal(valueOf(e, 'ecguard_repair_rebuilt_bytes_total'), 123_456);
    assert.equal(valueOf(e, 'ecguard_repair_throughput_bytes_per_second'), 2048);
    assert.equal(valueOf(e, 'ecguard_repair_waiting_files'), 4);
    assert.equal(samplesOf(e, 'ecguard_repair_throttle').find((x) => x.labels.throttle === 'per_agent_tasks')?.value, 2);
    assert.equal(valueOf(e, 'ecguard_repair_paused'), 1);
    assert.deepEqual(samplesOf(e, 'ecguard_drain_files').map((x) => [x.labels.disk_id, x.value]), [['srv03:/disk/sda', 120], ['srv03:/disk/sdb', 0]]);
    assert.equal(samplesOf(e, 'ecguard_drain_files')[0]?.labels.drain, 'server srv03');
  });

  it('exports exactly COORDINATOR_METRIC_NAMES, with HELP and the right types', async () => {
    const e = await scrape(url);
    assert.deepEqual([...e.types.keys()].sort(), [...COORDINATOR_METRIC_NAMES].sort());
    for (const n of COORDINATOR_METRIC_NAMES) {
      assert.ok((e.help.get(n) ?? '').length > 10, `HELP of ${n}`);
      assert.equal(e.types.get(n), n.endsWith('_total') ? 'counter' : 'gauge', n);
    }
    assert.ok(e.samples.every((x) => (COORDINATOR_METRIC_NAMES as readonly string[]).includes(x.name)));
  });
});
