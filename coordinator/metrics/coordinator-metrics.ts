// The coordinator's Prometheus metrics (DESIGN.md §4, §5 `status`), read from a small source
// interface at scrape time (collect callbacks), so nothing is counted twice or goes stale and
// the Coordinator only has to answer a few questions it already knows the answers to.
//
// Every state of a label set is always exported (0 when none), so alert rules never meet an
// absent series where they expect 0.
//
// Repair metrics live in repair-metrics.ts and are added when the source offers them.
import { Counter, Gauge, Registry } from 'prom-client';
import { HEALTH_INDICATORS, type HealthIndicator } from '../../shared/domain/event.js';
import { FILE_STATES, type FileState, type ServerState } from '../../shared/domain/file-health.js';
import type { StateCount } from '../catalog/catalog-store.js';
import type { DiskState } from '../catalog/catalog-types.js';
import { coalesce } from '../../shared/metrics/coalesce.js';
import { REPAIR_METRIC_NAMES, registerRepairMetrics, type RepairMetricsSource } from './repair-metrics.js';

/** What the metrics read from the coordinator; every call returns plain data, now. */
export interface CoordinatorMetricsSource {
  /** Files and their bytes per state (CatalogStore.fileCounts()); a missing state counts as 0. */
  fileCounts(): Promise<Partial<Record<FileState, StateCount>>>;
  /** Archives in the catalog per state of the disk holding them. */
  archivesByDiskState(): Promise<Partial<Record<DiskState, number>>>;
  /** Servers in the catalog per state. */
  serversByState(): Promise<Partial<Record<ServerState, number>>>;
  /** Agent sessions connected now (SessionRegistry.size). */
  agentSessions(): Promise<number>;
  /** Records rejected since the coordinator started, per server id (Coordinator.rejected). */
  rejectedRecords(): Promise<Readonly<Record<string, number>>>;
  /** Events written but not yet acknowledged by JetStream (EventLog.backlog()); 0 without an event log. */
  outboxBacklog(): Promise<number>;
  /** Whether safe mode is on (SafeMode.isActive). */
  safeMode(): Promise<boolean>;
  /** Health indicators on now; a missing one counts as off. */
  healthIndicators(): Promise<Partial<Record<HealthIndicator, boolean>>>;
  readonly repair?: RepairMetricsSource;
}

export const DISK_STATES: readonly DiskState[] = ['online', 'missing', 'failed', 'downgraded'];
export const SERVER_STATES: readonly ServerState[] = ['up', 'down', 'lost'];
/** File states whose data has less than full redundancy, or none right now. */
export const AT_RISK_STATES: readonly FileState[] = ['degraded', 'critical', 'unavailable', 'lost'];

/** Every metric name the registry exports (alert rules are checked against it). */
export const COORDINATOR_METRIC_NAMES = [
  'ecguard_files',
  'ecguard_file_bytes',
  'ecguard_bytes_at_risk',
  'ecguard_archives',
  'ecguard_servers',
  'ecguard_agent_sessions',
  'ecguard_records_rejected_total',
  'ecguard_event_outbox_backlog',
  'ecguard_safe_mode',
  'ecguard_health_indicator',
  ...REPAIR_METRIC_NAMES,
] as const;


export function coordinatorMetrics(source: CoordinatorMetricsSource): Registry {
  const registry = new Registry();
  const fileCounts = coalesce(() => source.fileCounts());

  new Gauge({
    name: 'ecguard_files',
    help: 'Files in the catalog per health state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await fileCounts();
      this.reset();
      for (const s of FILE_STATES) this.set({ state: s }, c[s]?.count ?? 0);
    },
  });

  new Gauge({
    name: 'ecguard_file_bytes',
    help: 'Bytes (file size of the latest version) of the files in the catalog per health state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await fileCounts();
      this.reset();
      for (const s of FILE_STATES) this.set({ state: s }, c[s]?.bytes ?? 0);
    },
  });

  new Gauge({
    name: 'ecguard_bytes_at_risk',
    help: 'Bytes of files that are degraded, critical, unavailable or lost.',
    registers: [registry],
    async collect() {
      const c = await fileCounts();
      this.set(AT_RISK_STATES.reduce((sum, s) => sum + (c[s]?.bytes ?? 0), 0));
    },
  });

  new Gauge({
    name: 'ecguard_archives',
    help: 'Archives in the catalog per state of the disk holding them.',
    labelNames: ['disk_state'],
    registers: [registry],
    async collect() {
      const c = await source.archivesByDiskState();
      this.reset();
      for (const s of DISK_STATES) this.set({ disk_state: s }, c[s] ?? 0);
    },
  });

  new Gauge({
    name: 'ecguard_servers',
    help: 'Data servers in the catalog per state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await source.serversByState();
      this.reset();
      for (const s of SERVER_STATES) this.set({ state: s }, c[s] ?? 0);
    },
  });

  new Gauge({
    name: 'ecguard_agent_sessions',
    help: 'Agent sessions connected to this coordinator now.',
    registers: [registry],
    async collect() {
      this.set(await source.agentSessions());
    },
  });

  // A counter (monotonic, reset by a coordinator restart, which rate() understands), set to
  // the coordinator's own running count on each scrape.
  new Counter({
    name: 'ecguard_records_rejected_total',
    help: 'Archive records rejected as impossible since the coordinator started, per server.',
    labelNames: ['server'],
    registers: [registry],
    async collect() {
      const c = await source.rejectedRecords();
      this.reset();
      for (const [server, n] of Object.entries(c)) this.inc({ server }, n);
    },
  });

  new Gauge({
    name: 'ecguard_event_outbox_backlog',
    help: 'Events recorded but not yet acknowledged by NATS JetStream (grows while NATS is unreachable).',
    registers: [registry],
    async collect() {
      this.set(await source.outboxBacklog());
    },
  });

  new Gauge({
    name: 'ecguard_safe_mode',
    help: '1 while the coordinator is in safe mode (no repair or debris action is planned).',
    registers: [registry],
    async collect() {
      this.set((await source.safeMode()) ? 1 : 0);
    },
  });

  new Gauge({
    name: 'ecguard_health_indicator',
    help: '1 while a "when to panic" health indicator is active.',
    labelNames: ['indicator'],
    registers: [registry],
    async collect() {
      const c = await source.healthIndicators();
      this.reset();
      for (const i of HEALTH_INDICATORS) this.set({ indicator: i }, c[i] === true ? 1 : 0);
    },
  });

  if (source.repair) registerRepairMetrics(registry, source.repair);
  return registry;
}
