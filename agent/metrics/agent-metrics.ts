// An agent's Prometheus metrics (DESIGN.md §3, §4), read from a small source interface at
// scrape time (collect callbacks): inventory, disks, the delta journal, the last full scan and
// the coordinator link. Prometheus adds `instance`, which names the data server.
//
// Every label value is always exported (0 when none), and the scan and link gauges read 0
// until there is a first scan or a link, so alert rules never meet an absent series.
import { Counter, Gauge, Registry } from 'prom-client';
import type { FindingKind } from '../../shared/domain/archive-record.js';
import type { DiskState } from '../disk/disk-check.js';
import { coalesce } from '../../shared/metrics/coalesce.js';
import type { ScrubStats } from '../scrub/scrub-loop.js';

/** The delta journal's counters; DeltaJournal.stats() fits as is. */
export interface JournalSummary {
  readonly pending: number;
  readonly lastSeq: number;
  readonly ackedSeq: number;
  /** Set while the journal has a gap (it overflowed): the next session is a full inventory. */
  readonly overflowSince?: number;
}

/** The last full scan: FullScanReport's numbers and when it finished. */
export interface FullScanSummary {
  readonly records: number;
  readonly elapsedMs: number;
  readonly finishedAtMs: number;
}

/** The coordinator link: whether a session is live, and CoordinatorLink.stats' counters. */
export interface LinkSummary {
  readonly connected: boolean;
  readonly connects: number;
  readonly fullInventories: number;
  readonly replays: number;
  /** Digest resyncs (the journal could not cover the gap; only differing buckets re-sent). */
  readonly digestResyncs: number;
}

/** What the metrics read from the agent; every call returns plain data, now. */
export interface AgentMetricsSource {
  /** Archives in the agent's inventory (Inventory.size). */
  inventorySize(): Promise<number>;
  /** Disks per state (AgentRuntime.diskHealth()); a missing state counts as 0. */
  disksByState(): Promise<Partial<Record<DiskState, number>>>;
  journal(): Promise<JournalSummary>;
  /** Undefined before the first full scan has finished. */
  lastFullScan(): Promise<FullScanSummary | undefined>;
  /** Findings of the last full scan per kind (AgentRuntime.lastFindings, counted). */
  lastScanFindings(): Promise<Partial<Record<FindingKind, number>>>;
  /** Undefined when the agent runs without a coordinator. */
  coordinatorLink(): Promise<LinkSummary | undefined>;
  /** The repair executor and Stripes service; undefined when the agent runs none. */
  repair?(): Promise<RepairSummary | undefined>;
  /** Quarantine orders and the quarantine kept (DebrisDesk.stats); undefined without one. */
  debris?(): Promise<DebrisSummary | undefined>;
  /** The background scrub (ScrubLoop.stats()); undefined when it is off. */
  scrub?(): Promise<ScrubStats | undefined>;
}

export interface DebrisSummary {
  readonly quarantined: number;
  readonly refused: number;
  readonly failed: number;
  readonly purged: number;
  /** Archives kept in quarantine now, and their bytes (as of the last order or sweep). */
  readonly kept: number;
  readonly keptBytes: number;
}

const NO_DEBRIS: DebrisSummary = { quarantined: 0, refused: 0, failed: 0, purged: 0, kept: 0, keptBytes: 0 };

/** RepairExecutor.stats and StripesServer.stats, as the metrics need them. */
export interface RepairSummary {
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly servedBytes: number;
  readonly activeReads: number;
  readonly waitingReads: number;
}

const NO_REPAIR: RepairSummary = { running: 0, done: 0, failed: 0, bytesRead: 0, bytesWritten: 0, servedBytes: 0, activeReads: 0, waitingReads: 0 };

export const AGENT_DISK_STATES: readonly DiskState[] = ['online', 'missing', 'failed', 'downgraded'];

/** Every finding kind, so each has a series (the compiler checks the list is complete). */
export const FINDING_KINDS = [
  'data-without-symlink',
  'dangling-symlink',
  'stale-pfn',
  'duplicate-lfn',
  'hostile-pfn',
  'missing-pfn',
  'foreign-symlink',
  'bad-archive',
  'bad-xattrs',
  'unreadable',
  'vanished',
  'unexpected-entry',
] as const satisfies readonly FindingKind[];
const _allKinds: [Exclude<FindingKind, (typeof FINDING_KINDS)[number]>] extends [never] ? true : never = true;

/** Every metric name the registry exports (alert rules are checked against it). */
export const AGENT_METRIC_NAMES = [
  'ecguard_agent_archives',
  'ecguard_agent_disks',
  'ecguard_agent_journal_pending',
  'ecguard_agent_journal_last_seq',
  'ecguard_agent_journal_acked_seq',
  'ecguard_agent_journal_overflow',
  'ecguard_agent_last_full_scan_duration_seconds',
  'ecguard_agent_last_full_scan_records',
  'ecguard_agent_last_full_scan_timestamp_seconds',
  'ecguard_agent_last_full_scan_records_per_second',
  'ecguard_agent_last_scan_findings',
  'ecguard_agent_coordinator_connected',
  'ecguard_agent_coordinator_connects_total',
  'ecguard_agent_full_inventories_total',
  'ecguard_agent_replays_total',
  'ecguard_agent_digest_resyncs_total',
  'ecguard_agent_repair_tasks_running',
  'ecguard_agent_repair_tasks_total',
  'ecguard_agent_repair_read_bytes_total',
  'ecguard_agent_repair_written_bytes_total',
  'ecguard_agent_stripes_served_bytes_total',
  'ecguard_agent_stripes_reads',
  'ecguard_agent_debris_orders_total',
  'ecguard_agent_debris_purged_total',
  'ecguard_agent_quarantined_archives',
  'ecguard_agent_quarantined_bytes',
  'ecguard_agent_scrub_read_bytes_total',
  'ecguard_agent_scrub_archives_total',
  'ecguard_agent_scrub_corrupt_archives_total',
  'ecguard_agent_scrub_passes_total',
  'ecguard_agent_scrub_last_pass_timestamp_seconds',
] as const;


const NO_SCRUB: ScrubStats = { running: false, passes: 0, archives: 0, bytes: 0, corruptArchives: 0 };
const NO_LINK: LinkSummary = { connected: false, connects: 0, fullInventories: 0, replays: 0, digestResyncs: 0 };

export function agentMetrics(source: AgentMetricsSource): Registry {
  const registry = new Registry();
  const journal = coalesce(() => source.journal());
  const scan = coalesce(() => source.lastFullScan());
  const link = coalesce(async () => (await source.coordinatorLink()) ?? NO_LINK);

  const gauge = (name: string, help: string, read: () => Promise<number>): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await read());
      },
    });
  };
  // Counters mirror the agent's own running counts (reset by a restart, which rate() handles).
  const counter = (name: string, help: string, read: () => Promise<number>): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const v = await read();
        this.reset();
        this.inc(v);
      },
    });
  };

  gauge('ecguard_agent_archives', 'Archives (EC data files) in the agent\'s inventory.', () => source.inventorySize());

  new Gauge({
    name: 'ecguard_agent_disks',
    help: 'Disks (oss.space paths) of this server per state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await source.disksByState();
      this.reset();
      for (const s of AGENT_DISK_STATES) this.set({ state: s }, c[s] ?? 0);
    },
  });

  gauge('ecguard_agent_journal_pending', 'Deltas journaled but not yet acknowledged by the coordinator.', async () => (await journal()).pending);
  gauge('ecguard_agent_journal_last_seq', 'Sequence number of the newest journaled delta.', async () => (await journal()).lastSeq);
  gauge('ecguard_agent_journal_acked_seq', 'Highest sequence number the coordinator acknowledged.', async () => (await journal()).ackedSeq);
  gauge('ecguard_agent_journal_overflow', '1 while the journal has overflowed (a gap): the next session is a full inventory.', async () => ((await journal()).overflowSince !== undefined ? 1 : 0));

  gauge('ecguard_agent_last_full_scan_duration_seconds', 'Duration of the last full scan (0 before the first).', async () => ((await scan())?.elapsedMs ?? 0) / 1000);
  gauge('ecguard_agent_last_full_scan_records', 'Archive records found by the last full scan.', async () => (await scan())?.records ?? 0);
  gauge('ecguard_agent_last_full_scan_timestamp_seconds', 'Unix time the last full scan finished (0 before the first).', async () => ((await scan())?.finishedAtMs ?? 0) / 1000);
  gauge('ecguard_agent_last_full_scan_records_per_second', 'Scan rate of the last full scan: records per second.', async () => {
    const s = await scan();
    return s && s.elapsedMs > 0 ? s.records / (s.elapsedMs / 1000) : 0;
  });

  new Gauge({
    name: 'ecguard_agent_last_scan_findings',
    help: 'Findings (namespace and archive problems) of the last full scan per kind.',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const c: Partial<Record<string, number>> = await source.lastScanFindings();
      this.reset();
      // Known kinds always, and any kind the agent learned since this list was written.
      for (const k of new Set<string>([...FINDING_KINDS, ...Object.keys(c)])) this.set({ kind: k }, c[k] ?? 0);
    },
  });

  gauge('ecguard_agent_coordinator_connected', '1 while a session with the coordinator is live.', async () => ((await link()).connected ? 1 : 0));
  counter('ecguard_agent_coordinator_connects_total', 'Connection attempts to the coordinator since the agent started.', async () => (await link()).connects);
  counter('ecguard_agent_full_inventories_total', 'Full inventories sent to the coordinator since the agent started.', async () => (await link()).fullInventories);
  counter('ecguard_agent_replays_total', 'Journal replays (resumed sessions) since the agent started.', async () => (await link()).replays);
  counter('ecguard_agent_digest_resyncs_total', 'Digest resyncs (journal gap, only differing buckets re-sent) since the agent started.', async () => (await link()).digestResyncs);

  const repair = coalesce(async () => (await source.repair?.()) ?? NO_REPAIR);
  gauge('ecguard_agent_repair_tasks_running', 'Repair tasks this agent is executing now.', async () => (await repair()).running);
  new Counter({
    name: 'ecguard_agent_repair_tasks_total',
    help: 'Repair tasks this agent finished since it started, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const r = await repair();
      this.reset();
      this.inc({ outcome: 'done' }, r.done);
      this.inc({ outcome: 'failed' }, r.failed);
    },
  });
  counter('ecguard_agent_repair_read_bytes_total', 'Source bytes read by this agent\'s repair tasks.', async () => (await repair()).bytesRead);
  counter('ecguard_agent_repair_written_bytes_total', 'Rebuilt bytes written by this agent\'s repair tasks.', async () => (await repair()).bytesWritten);
  counter('ecguard_agent_stripes_served_bytes_total', 'Entry bytes this agent served to repairing peers.', async () => (await repair()).servedBytes);
  new Gauge({
    name: 'ecguard_agent_stripes_reads',
    help: 'Entry read streams served to peers now (active), and waiting for the per-source limit.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const r = await repair();
      this.reset();
      this.set({ state: 'active' }, r.activeReads);
      this.set({ state: 'waiting' }, r.waitingReads);
    },
  });
  const debris = coalesce(async () => (await source.debris?.()) ?? NO_DEBRIS);
  new Counter({
    name: 'ecguard_agent_debris_orders_total',
    help: 'Quarantine orders this agent carried out since it started, by outcome (refused: its re-check found the archive changed).',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const d = await debris();
      this.reset();
      for (const o of ['quarantined', 'refused', 'failed'] as const) this.inc({ outcome: o }, d[o]);
    },
  });
  counter('ecguard_agent_debris_purged_total', 'Quarantined archives purged after debris.retention since the agent started.', async () => (await debris()).purged);
  gauge('ecguard_agent_quarantined_archives', 'Archives kept in quarantine on this agent\'s disks (until debris.retention).', async () => (await debris()).kept);
  gauge('ecguard_agent_quarantined_bytes', 'Bytes kept in quarantine on this agent\'s disks.', async () => (await debris()).keptBytes);
  const scrub = coalesce(async () => (await source.scrub?.()) ?? NO_SCRUB);
  counter('ecguard_agent_scrub_read_bytes_total', 'Stripe bytes the background scrub read and CRC-checked since the agent started.', async () => (await scrub()).bytes);
  counter('ecguard_agent_scrub_archives_total', 'Archives the background scrub checked since the agent started.', async () => (await scrub()).archives);
  counter('ecguard_agent_scrub_corrupt_archives_total', 'Archives the scrub found corrupt or unreadable stripes in since the agent started (each is a corruption.found event).', async () => (await scrub()).corruptArchives);
  counter('ecguard_agent_scrub_passes_total', 'Scrub passes over every disk finished since the agent started.', async () => (await scrub()).passes);
  gauge('ecguard_agent_scrub_last_pass_timestamp_seconds', 'When the last complete scrub pass ended (0: none yet, as far as the state directory knows).', async () => ((await scrub()).lastPassDoneAt ?? 0) / 1000);
  return registry;
}
