// `ecguard coordinator` and `ecguard agent`: the two long-running processes.
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import { loadAgentConfig, resolveEcProfile } from '../../agent/config/agent-config.js';
import { siteLayout } from '../../agent/config/site-layout.js';
import { lookupServiceUser } from '../../agent/disk/service-user.js';
import { CoordinatorLink } from '../../agent/session/coordinator-link.js';
import { RepairEndpoint } from '../../agent/repair/repair-endpoint.js';
import { openCatalogStore, sqlitePathOf } from '../../coordinator/catalog/open-store.js';
import { isPostgresUrl } from '../../coordinator/catalog/pg-connection.js';
import { PgLeaderLease } from '../../coordinator/catalog/pg-leader-lease.js';
import { PgCatalogStore } from '../../coordinator/catalog/pg-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { baselineAnnounced } from '../../coordinator/events/announced-baseline.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { JetStreamPublisher } from '../../coordinator/events/jetstream-publisher.js';
import { OutboxRelay } from '../../coordinator/events/outbox-relay.js';
import { coordinatorMetrics } from '../../coordinator/metrics/coordinator-metrics.js';
import { coordinatorMetricsSource } from '../../coordinator/metrics/coordinator-source.js';
import { agentMetrics } from '../../agent/metrics/agent-metrics.js';
import { agentMetricsSource } from '../../agent/metrics/agent-source.js';
import { parseListen, startMetricsServer } from '../../shared/metrics/metrics-server.js';
import { UsageError } from '../../shared/errors.js';
import { isLoopbackAddress, serverCredentials } from '../../shared/tls/tls-identity.js';
import { getLogger } from '../../shared/logger.js';
import { DURATION_HINT, tryParseDuration } from '../../shared/config/duration.js';
import { ProfileMap } from '../../coordinator/profile-map.js';
import { DebrisDesk } from '../../agent/debris/debris-desk.js';
import { ScrubLoop } from '../../agent/scrub/scrub-loop.js';
import { reactToScrubFinding } from '../../agent/scrub/scrub-reaction.js';
import { getCodec } from '../../shared/codec/index.js';
import { EXIT } from '../exit-codes.js';

const log = getLogger('cli');

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info(`${sig}: stopping`);
      void stop().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

interface CoordinatorFlags {
  listen: string;
  db: string;
  eventLog?: string;
  cluster: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  heartbeat: string;
  downAfter: string;
  safeModeTimeout: string;
  safeModeQuorum: string;
  safeModeSettle: string;
  writeSettle: string;
  profile: string[];
  rebuildCatalog?: boolean;
  nats?: string;
  metrics?: string;
  serverLostAfter: string;
  serverCriticalAfter: string;
  repairLease: string;
  repairAttempts: string;
  repairBackoff: string;
  repairAuto: boolean;
  repairTasksPerAgent?: string;
  repairClusterTasks?: string;
  repairMbps?: string;
  repairSourceStreams?: string;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} wants a whole number ≥ 1, got ${v}`);
  return n;
}

/** A duration flag's value; the error names the flag (parseDuration alone cannot). */
function duration(flag: string, v: string): number {
  const n = tryParseDuration(v);
  if (n === undefined) throw new UsageError(`${flag} wants ${DURATION_HINT}, got ${JSON.stringify(v)}`);
  return n;
}

function hostPort(flag: string, v: string): void {
  const i = v.lastIndexOf(':');
  const port = v.slice(i + 1);
  if (i <= 0 || !/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) throw new UsageError(`${flag} wants HOST:PORT (e.g. 0.0.0.0:7443), got ${JSON.stringify(v)}`);
}

// The event log stays in a local SQLite file with a PostgreSQL catalog (docs/coordinator.md).
const DEFAULT_PG_EVENT_LOG = '/var/lib/ecguard/events.db';

function eventLogPath(f: CoordinatorFlags): string {
  const path = f.eventLog ?? (isPostgresUrl(f.db) ? DEFAULT_PG_EVENT_LOG : sqlitePathOf(f.db) ?? f.db);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  return path;
}

/** Takes the catalog's leader lock (waiting as a standby while another coordinator holds it), then opens the store. */
async function leadOrWait(url: string, store: PgCatalogStore): Promise<PgLeaderLease> {
  const lease = new PgLeaderLease(url);
  await lease.acquire();
  lease.onLost((err) => {
    // no graceful stop: every further write could race the coordinator that took over
    process.stderr.write(`ecguard: ${err.code}: ${err.message}\n`);
    process.exit(EXIT.PROBLEMS);
  });
  const fence = lease.fence;
  if (fence) store.setLeaderFence(fence);
  try {
    await store.open();
  } catch (err) {
    await lease.release();
    throw err;
  }
  return lease;
}

function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} wants a positive number, got ${v}`);
  return n;
}

export function registerDaemons(program: Command): void {
  program.command('coordinator').description('run the coordinator (gRPC for agents and the Admin API)')
    .option('--listen <host:port>', 'address to listen on', '0.0.0.0:7443')
    .option('--db <path|url>', 'catalog: SQLite file (or sqlite:/path), or postgres://USER@HOST:PORT/DATABASE (one active coordinator, others wait as standbys)', '/var/lib/ecguard/catalog.db')
    .option('--event-log <path>', `event log and NATS outbox, a local SQLite file (default: the SQLite catalog's file; ${DEFAULT_PG_EVENT_LOG} with a PostgreSQL catalog)`)
    .option('--cluster <name>', 'cluster name (in events and status)', 'ecguard')
    .option('--tls-ca <pem>', 'CA that signed agent and admin certificates')
    .option('--tls-cert <pem>', 'coordinator certificate')
    .option('--tls-key <pem>', 'coordinator key')
    .option('--insecure', 'no TLS, loopback only (demos and tests)')
    .option('--heartbeat <duration>', 'agent heartbeat interval', '5s')
    .option('--down-after <duration>', 'a server without messages this long is down', '30s')
    .option('--safe-mode-timeout <duration>', 'leave safe mode after this with a quorum of servers', '10m')
    .option('--safe-mode-quorum <fraction>', 'fraction of known servers needed at the timeout', '0.9')
    .option('--safe-mode-settle <duration>', 'stay in safe mode until no new server appeared for this long', '10s')
    .option('--write-settle <duration>', 'a new file or version still missing archives is "being written", not damaged, for this long', '10s')
    .option('--profile <spec>', 'EC profile: N+M:C for the site (default: from the agents), or /lfn/prefix/=N+M:C; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--rebuild-catalog', 'forget what agents told before and rebuild the catalog from full inventories')
    .option('--metrics <host:port>', 'serve Prometheus /metrics here (e.g. 127.0.0.1:9464)')
    .option('--server-lost-after <duration>', 'a down server\'s archives are rebuilt elsewhere after this (server.lostAfter)', '1h')
    .option('--server-critical-after <duration>', '... after this for files with no redundancy left (server.criticalAfter)', '10m')
    .option('--repair-lease <duration>', 'a repair task without progress this long is reassigned', '60s')
    .option('--repair-attempts <n>', 'attempts before a repair task is parked for an operator', '5')
    .option('--repair-backoff <duration>', 'first retry delay of a failed repair (doubles each time)', '2s')
    .option('--no-repair-auto', 'plan repairs only when an operator runs `ecguard repair run`')
    .option('--repair-tasks-per-agent <n>', 'initial throttle: repair tasks one agent runs at once (then `ecguard repair throttle`)')
    .option('--repair-cluster-tasks <n>', 'initial throttle: repair tasks running in the whole cluster')
    .option('--repair-mbps <n>', 'initial throttle: source MB/s one executing agent reads')
    .option('--repair-source-streams <n>', 'initial throttle: read streams one agent serves to repairing peers')
    .option('--nats <urls>', 'publish events to NATS JetStream (stream ECGUARD, subjects ecguard.<cluster>.<type>), e.g. nats://127.0.0.1:4222')
    .action(async (f: CoordinatorFlags) => {
      const tls = f.tlsCa || f.tlsCert || f.tlsKey ? { ca: f.tlsCa ?? '', cert: f.tlsCert ?? '', key: f.tlsKey ?? '' } : undefined;
      if (!tls && !f.insecure) throw new UsageError('give --tls-ca, --tls-cert and --tls-key (deploy/make-certs.sh makes them), or --insecure for a loopback demo');
      if (tls && (!f.tlsCa || !f.tlsCert || !f.tlsKey)) {
        throw new UsageError(`TLS needs all three of --tls-ca, --tls-cert and --tls-key; missing ${[['--tls-ca', f.tlsCa], ['--tls-cert', f.tlsCert], ['--tls-key', f.tlsKey]].filter(([, v]) => !v).map(([k]) => k).join(', ')} (deploy/make-certs.sh makes them)`);
      }
      if (tls) serverCredentials(tls); // unreadable or mismatched files fail now (TLS_FILES), before the catalog is touched
      const quorum = Number(f.safeModeQuorum);
      if (!(quorum > 0 && quorum <= 1)) throw new UsageError(`--safe-mode-quorum wants a fraction in (0, 1], got ${f.safeModeQuorum}`);
      const specs = f.profile.map((s) => ProfileMap.parseSpec(s));
      const profile = specs.find((s) => s.prefix === undefined)?.profile;
      const profilesByPrefix = specs.filter((s) => s.prefix !== undefined).map((s) => ({ prefix: s.prefix as string, profile: s.profile }));
      // Every flag is checked before the catalog is opened: a typo must not create or touch it.
      const ms = (flag: string, v: string): number => duration(flag, v);
      const timing = {
        heartbeatMs: ms('--heartbeat', f.heartbeat), downAfterMs: ms('--down-after', f.downAfter), safeModeTimeoutMs: ms('--safe-mode-timeout', f.safeModeTimeout),
        safeModeSettleMs: ms('--safe-mode-settle', f.safeModeSettle), writeSettleMs: ms('--write-settle', f.writeSettle),
      };
      const repair = {
        auto: f.repairAuto, lostAfterMs: ms('--server-lost-after', f.serverLostAfter), criticalAfterMs: ms('--server-critical-after', f.serverCriticalAfter),
        leaseMs: ms('--repair-lease', f.repairLease), maxAttempts: positiveInt('--repair-attempts', f.repairAttempts), backoffMs: ms('--repair-backoff', f.repairBackoff),
      };
      const repairThrottles = {
        ...(f.repairTasksPerAgent !== undefined ? { perAgentTasks: positiveInt('--repair-tasks-per-agent', f.repairTasksPerAgent) } : {}),
        ...(f.repairClusterTasks !== undefined ? { clusterTasks: positiveInt('--repair-cluster-tasks', f.repairClusterTasks) } : {}),
        ...(f.repairSourceStreams !== undefined ? { perSourceStreams: positiveInt('--repair-source-streams', f.repairSourceStreams) } : {}),
        ...(f.repairMbps !== undefined ? { perAgentMBps: positiveNumber('--repair-mbps', f.repairMbps) } : {}),
      };
      hostPort('--listen', f.listen);
      const listen = f.insecure && f.listen === '0.0.0.0:7443' ? '127.0.0.1:7443' : f.listen;
      // before anything is created, as every other flag (the coordinator would refuse it later)
      if (f.insecure && !isLoopbackAddress(listen.slice(0, listen.lastIndexOf(':')))) throw new UsageError(`--insecure listens on loopback only; --listen ${listen} is not loopback (drop --insecure and give TLS files, or listen on 127.0.0.1)`);
      if (f.metrics !== undefined) {
        try {
          parseListen(f.metrics); // the metrics server's own rule (':9464' is all interfaces)
        } catch {
          throw new UsageError(`--metrics wants HOST:PORT or :PORT (e.g. 127.0.0.1:9464, :9464), got ${JSON.stringify(f.metrics)}`);
        }
      }
      const store = openCatalogStore(f.db);
      // PostgreSQL: one active coordinator per catalog; this one waits here as a standby until
      // it holds the lock, and stops serving the moment it loses it.
      const lease = store instanceof PgCatalogStore ? await leadOrWait(f.db, store) : undefined;
      try {
        const eventLog = new EventLog(eventLogPath(f));
        // Events are always logged first; with --nats an outbox relay publishes them in order.
        let publisher: JetStreamPublisher | undefined;
        let relay: OutboxRelay | undefined;
        if (f.nats) {
          publisher = new JetStreamPublisher({ servers: f.nats.split(',') });
          const skipped = eventLog.beginPublishing();
          if (skipped > 0) log.info(`event publishing starts now: the ${skipped} event(s) logged before NATS was configured stay in the log only`);
          relay = new OutboxRelay({
            pending: async (n) => eventLog.pending(n), markPublished: async (ids) => eventLog.markPublished(ids), countPending: async () => eventLog.backlog(),
            markRefused: async (id, error) => eventLog.markRefused(id, error),
          }, publisher);
          publisher.onReady(() => relay?.kick());
          publisher.start();
          relay.start();
        }
        if (f.rebuildCatalog) {
          // what was announced stays the baseline: only real differences become events
          await baselineAnnounced(store, (rows) => eventLog.held.baseline(rows));
          await store.clearAgentData();
          for (const s of await store.listServers()) await store.putServer({ ...s, appliedSeq: 0, inventoried: false });
          log.warn('catalog cleared: every agent will send a full inventory');
        }
        const c = new Coordinator({
          cluster: f.cluster, listen, store, insecure: f.insecure === true,
          ...timing, safeModeQuorum: quorum,
          ...(tls ? { tls } : {}), ...(profile ? { profile } : {}), profilesByPrefix, eventLog, onEvents: () => relay?.kick(),
          repair, repairThrottles,
        });
        const port = await c.start();
        process.stdout.write(`coordinator listening on port ${port}\n`);
        const metrics = f.metrics ? await startMetricsServer(coordinatorMetrics(coordinatorMetricsSource(c)), f.metrics) : undefined;
        if (metrics) log.info(`metrics on ${f.metrics} (/metrics)`);
        onSignals(async () => {
          await metrics?.close();
          await c.stop();
          await relay?.stop();
          await publisher?.close();
          eventLog.close();
          await lease?.release(); // a standby takes over now, not when the server notices the process gone
        });
      } catch (err) {
        await lease?.release(); // also lets the process exit: the lock connection holds it open
        throw err;
      }
    });

  program.command('agent').description('run the agent of this data server (scan, watch, report to the coordinator)')
    .requiredOption('--config <yaml>', 'agent config (see deploy/agent.example.yaml)')
    .action(async (f: { config: string }) => {
      const cfg = loadAgentConfig(f.config);
      const { layout, warnings } = siteLayout({
        xrootdConfig: cfg.xrootdConfig, serverId: cfg.serverId,
        ...(cfg.host !== undefined ? { host: cfg.host } : {}), ...(cfg.instance !== undefined ? { instance: cfg.instance } : {}), ...(cfg.spaces ? { spaces: cfg.spaces } : {}),
      });
      for (const w of warnings) log.warn(`xrootd config: ${w}`);
      const profile = resolveEcProfile(cfg);
      const serviceUser = lookupServiceUser('xrootd');
      const runtime = new AgentRuntime({
        layout, stateDir: cfg.stateDir, journalMaxEntries: cfg.journal.maxEntries, fullScanIntervalMs: cfg.scan.fullScanIntervalMs,
        fullScanJitter: cfg.scan.jitter, workers: cfg.scan.workers, ...(cfg.scan.progress ? { scanProgressEveryMs: 10_000 } : {}), watch: cfg.watch.enabled, ...(serviceUser ? { serviceUser } : {}),
      });
      await runtime.start();
      const repair = new RepairEndpoint({
        runtime, layout, listen: cfg.stripes.listen, insecure: cfg.coordinator.insecure, maxTasks: cfg.throttles.repairTasks, mbPerS: cfg.throttles.repairMBps, peerStreams: cfg.throttles.peerStreams,
        ...(cfg.stripes.advertise ? { advertise: cfg.stripes.advertise } : {}), ...(cfg.host ? { host: cfg.host } : {}), ...(cfg.coordinator.tls ? { tls: cfg.coordinator.tls } : {}),
        ...(cfg.stripes.dataFileAddress ? { dataFileAddress: cfg.stripes.dataFileAddress } : {}),
      });
      await repair.start();
      // after the first scan (the disks' states are known): finish or undo interrupted moves, purge old ones
      const debris = new DebrisDesk({ runtime, layout, retentionMs: cfg.debris.retentionMs });
      debris.start();
      const link = new CoordinatorLink(runtime, {
        address: cfg.coordinator.address, profile, stateDir: cfg.stateDir, insecure: cfg.coordinator.insecure, repair, debris,
        ...(cfg.coordinator.tls ? { tls: cfg.coordinator.tls } : {}),
      });
      repair.bind((p) => link.sendProgress(p));
      debris.bind((r) => link.sendQuarantineResult(r));
      link.start();
      // Background CRC check: a corrupt stripe is reported and its disk downgraded (no new placements there).
      const scrub = cfg.scrub.enabled
        ? new ScrubLoop({
          disks: () => layout.disks.filter((d) => ['online', 'downgraded'].includes(runtime.diskHealth().find((h) => h.diskId === d.diskId)?.state ?? '')),
          exports: layout.exports, ...(layout.localroot !== undefined ? { localroot: layout.localroot } : {}), codec: getCodec(),
          mbps: cfg.scrub.mbps, intervalMs: cfg.scrub.intervalMs, stateFile: join(cfg.stateDir, 'scrub-state.json'),
          known: (diskId, dataPath, id) => runtime.knownCorrupt(diskId, dataPath, id),
          onFinding: (x) => reactToScrubFinding({
            sendScrubFinding: (f) => link.sendScrubFinding(f),
            archiveCorrupt: (...a) => runtime.archiveCorrupt(...a),
            downgradeDisk: (...a) => runtime.downgradeDisk(...a),
          }, x),
        })
        : undefined;
      scrub?.start();
      const metrics = cfg.metrics.listen ? await startMetricsServer(agentMetrics(agentMetricsSource(runtime, link, repair, debris, scrub)), cfg.metrics.listen) : undefined;
      log.info(`agent ${layout.serverId}: ${layout.disks.length} disk(s), ${runtime.inventory.size} archives, reporting to ${cfg.coordinator.address}`);
      onSignals(async () => {
        await metrics?.close();
        await scrub?.stop();
        await repair.stop();
        debris.stop();
        link.stop();
        await runtime.stop();
      });
    });
}
