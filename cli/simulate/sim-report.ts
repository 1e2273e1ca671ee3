// What `ecguard simulate` is asked to do and what it reports: the phases, their options, and
// per phase the time, the rate, the figures and the checks against the population.
import type { StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import type { SimShape } from './sim-population.js';

export const SIM_PHASES = ['inventory', 'churn', 'disk', 'server', 'restart', 'resync'] as const;
export type SimPhase = (typeof SIM_PHASES)[number];

export interface SimOptions {
  readonly shape: SimShape;
  readonly files: number;
  readonly batch: number;
  /** Files created (and as many deleted) per second in the churn phase. */
  readonly churnPerSecond: number;
  readonly churnSeconds: number;
  /** Phases after inventory (which always runs). */
  readonly phases: ReadonlySet<SimPhase>;
  readonly dir: string;
  readonly db: string;
  readonly downAfter: string;
  /** Longest wait for one phase's outcome. */
  readonly timeoutMs: number;
  readonly onPhase?: (r: SimPhaseResult) => void;
  readonly onProgress?: (text: string) => void;
}

export interface SimCheck {
  readonly what: string;
  readonly expected: number;
  readonly observed: number;
  readonly ok: boolean;
}

export interface SimPhaseResult {
  readonly phase: SimPhase;
  readonly seconds: number;
  /** Records or deltas the phase sent, and their rate over `seconds`. */
  readonly sent: number;
  readonly perSecond: number;
  readonly coordinatorCpuSeconds: number;
  readonly note: string;
  /** The phase's figures by name (seconds, counts), as the note gives them. */
  readonly detail: Readonly<Record<string, number>>;
  readonly checks: SimCheck[];
}

export interface SimReport {
  readonly servers: number;
  readonly disksPerServer: number;
  readonly profile: string;
  readonly files: number;
  readonly archives: number;
  readonly coordinatorPeakRssMB: number;
  readonly phases: SimPhaseResult[];
  readonly ok: boolean;
}

/** Files the coordinator shows in `state`. */
export const count = (s: StatusReply, state: string): number => s.filesByState.find((x) => x.state === state)?.count ?? 0;
/** Files the coordinator shows in any state. */
export const total = (s: StatusReply): number => s.filesByState.reduce((n, x) => n + x.count, 0);
/** A check passes when the coordinator showed exactly what the population says. */
export const check = (what: string, expected: number, observed: number): SimCheck => ({ what, expected, observed, ok: expected === observed });
