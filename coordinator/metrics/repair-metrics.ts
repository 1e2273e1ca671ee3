// Repair metrics (DESIGN.md §7): queue depth by state, throughput, bytes rebuilt, files waiting
// for a down server's grace, throttles, pause, and drains. Read at scrape time like the others.
import { Counter, Gauge, type Registry } from 'prom-client';
import { REPAIR_TASK_STATES, type RepairTaskState } from '../../shared/domain/repair-task.js';
import type { RepairThrottleSettings } from '../repair/repair-settings.js';

export interface RepairMetricsSource {
  taskCounts(): Promise<Record<RepairTaskState, number>>;
  /** Bytes of rebuilt archives written since the coordinator started. */
  bytesRebuilt(): Promise<number>;
  bytesPerSecond(): Promise<number>;
  waitingFiles(): Promise<number>;
  throttles(): Promise<RepairThrottleSettings>;
  paused(): Promise<boolean>;
  /** Per drained disk: files still counting an archive there at its last complete pass. */
  drains(): Promise<readonly { drain: string; diskId: string; files: number }[]>;
}

export const REPAIR_METRIC_NAMES = [
  'ecguard_repair_tasks',
  'ecguard_repair_rebuilt_bytes_total',
  'ecguard_repair_throughput_bytes_per_second',
  'ecguard_repair_waiting_files',
  'ecguard_repair_throttle',
  'ecguard_repair_paused',
  'ecguard_drain_files',
] as const;

export function registerRepairMetrics(registry: Registry, source: RepairMetricsSource): void {
  new Gauge({
    name: 'ecguard_repair_tasks',
    help: 'Repair tasks per state (parked ones wait for an operator).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await source.taskCounts();
      this.reset();
      for (const s of REPAIR_TASK_STATES) this.set({ state: s }, c[s] ?? 0);
    },
  });
  new Counter({
    name: 'ecguard_repair_rebuilt_bytes_total',
    help: 'Bytes of rebuilt stripes written since the coordinator started.',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc(await source.bytesRebuilt());
    },
  });
  new Gauge({
    name: 'ecguard_repair_throughput_bytes_per_second',
    help: 'Rebuilt bytes per second over the last 30 s.',
    registers: [registry],
    async collect() {
      this.set(await source.bytesPerSecond());
    },
  });
  new Gauge({
    name: 'ecguard_repair_waiting_files',
    help: 'Unhealthy files not planned yet because a down server is in its grace.',
    registers: [registry],
    async collect() {
      this.set(await source.waitingFiles());
    },
  });
  new Gauge({
    name: 'ecguard_repair_throttle',
    help: 'Repair throttles in force (ecguard repair throttle).',
    labelNames: ['throttle'],
    registers: [registry],
    async collect() {
      const t = await source.throttles();
      this.reset();
      this.set({ throttle: 'per_agent_tasks' }, t.perAgentTasks);
      this.set({ throttle: 'cluster_tasks' }, t.clusterTasks);
      this.set({ throttle: 'per_agent_mb_per_s' }, t.perAgentMBps);
      this.set({ throttle: 'per_source_streams' }, t.perSourceStreams);
    },
  });
  new Gauge({
    name: 'ecguard_repair_paused',
    help: '1 while an operator has paused repair (ecguard repair pause).',
    registers: [registry],
    async collect() {
      this.set((await source.paused()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ecguard_drain_files',
    help: 'Files still counting an archive on a drained disk, at the last complete pass over it (ecguard drain); 0: drained.',
    labelNames: ['drain', 'disk_id'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const d of await source.drains()) this.set({ drain: d.drain, disk_id: d.diskId }, d.files);
    },
  });
}
