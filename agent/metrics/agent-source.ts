// The agent's numbers for Prometheus, read at scrape time from the runtime and its link.
import type { FindingKind } from '../../shared/domain/archive-record.js';
import type { AgentRuntime, FullScanReport } from '../agent-runtime.js';
import type { DiskState } from '../disk/disk-check.js';
import type { CoordinatorLink } from '../session/coordinator-link.js';
import type { RepairEndpoint } from '../repair/repair-endpoint.js';
import type { ScrubLoop } from '../scrub/scrub-loop.js';
import type { DebrisDesk } from '../debris/debris-desk.js';
import type { AgentMetricsSource, FullScanSummary } from './agent-metrics.js';

export function agentMetricsSource(runtime: AgentRuntime, link: CoordinatorLink | undefined, repair?: RepairEndpoint, debris?: DebrisDesk, scrub?: ScrubLoop): AgentMetricsSource {
  let last: FullScanSummary | undefined;
  runtime.on('scan', (r: FullScanReport) => {
    last = { records: r.records, elapsedMs: r.elapsedMs, finishedAtMs: Date.now() };
  });
  return {
    inventorySize: async () => runtime.inventory.size,
    disksByState: async () => {
      const out: Partial<Record<DiskState, number>> = {};
      for (const h of runtime.diskHealth()) out[h.state] = (out[h.state] ?? 0) + 1;
      return out;
    },
    journal: async () => runtime.journal.stats(),
    lastFullScan: async () => last,
    lastScanFindings: async () => {
      const out: Partial<Record<FindingKind, number>> = {};
      for (const f of runtime.lastFindings) out[f.kind] = (out[f.kind] ?? 0) + 1;
      return out;
    },
    repair: async () => {
      if (!repair) return undefined;
      const e = repair.executor.stats;
      const st = repair.server.stats;
      return { running: e.running, done: e.done, failed: e.failed, bytesRead: e.bytesRead, bytesWritten: e.bytesWritten, servedBytes: st.bytesServed, activeReads: st.activeReads, waitingReads: st.waitingReads };
    },
    debris: async () => (debris ? { ...debris.stats } : undefined),
    scrub: async () => scrub?.stats(),
    coordinatorLink: async () => (link ? { connected: link.connected, connects: link.stats.connects, fullInventories: link.stats.fullInventories, replays: link.stats.replays, digestResyncs: link.stats.digestResyncs } : undefined),
  };
}
