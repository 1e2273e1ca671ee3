// The coordinator's numbers for Prometheus, read at scrape time from the catalog and the
// coordinator's in-memory state.
import type { DiskState } from '../catalog/catalog-types.js';
import type { Coordinator } from '../coordinator.js';
import type { CoordinatorMetricsSource } from './coordinator-metrics.js';

export function coordinatorMetricsSource(c: Coordinator): CoordinatorMetricsSource {
  return {
    fileCounts: () => c.store.fileCounts(),
    archivesByDiskState: async () => {
      const out: Partial<Record<DiskState, number>> = {};
      for (const [diskId, n] of await c.store.archiveCountsByDisk()) {
        const state = c.cluster.disk(diskId)?.state ?? 'online';
        out[state] = (out[state] ?? 0) + n;
      }
      return out;
    },
    serversByState: async () => {
      const out: Record<string, number> = {};
      for (const s of c.cluster.listServers()) out[s.state] = (out[s.state] ?? 0) + 1;
      return out;
    },
    agentSessions: async () => c.registry.size,
    rejectedRecords: async () => Object.fromEntries(c.rejected),
    outboxBacklog: async () => c.o.eventLog?.backlog() ?? 0,
    safeMode: async () => c.safeMode.isActive,
    healthIndicators: async () => Object.fromEntries(Object.entries(c.indicators.states()).map(([k, v]) => [k, v.active])),
    repair: {
      taskCounts: () => c.store.repairTaskCounts(),
      bytesRebuilt: async () => c.repair.throughput.total,
      bytesPerSecond: async () => c.repair.throughput.rate(Date.now()),
      waitingFiles: async () => c.repair.planner.waiting.size,
      throttles: async () => c.repair.throttles,
      paused: async () => c.repair.paused,
      drains: async () => c.repair.drain.lastCounts(),
    },
  };
}
