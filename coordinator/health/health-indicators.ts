// The four "when to panic" indicators (seeds/dmedia-road-to-production.txt, for XrdEc): each is
// raised once, with an event, when its condition has held for `raiseAfterMs`, and cleared, with
// an event, when it has been false for `clearAfterMs` — hysteresis, so no flapping. Nothing is
// judged in safe mode (after a restart the picture is still forming: no alert storm), and the
// raised set is kept in the catalog so a restart neither forgets nor re-announces it.
import type { HealthIndicator } from '../../shared/domain/event.js';

export interface IndicatorInputs {
  /** Servers up with at least one online disk, and the most archives one file needs (N+M). */
  readonly placeableServers: number;
  readonly widestProfile: number;
  /** Files whose missing stripes sit on down servers (state unavailable). */
  readonly unavailableFiles: number;
  /** Disks failed or downgraded. */
  readonly failingDisks: readonly string[];
  /** Files at redundancy 0 (state critical). */
  readonly criticalFiles: number;
}

export interface IndicatorState {
  readonly active: boolean;
  readonly since: number;
  readonly details: string;
}

export interface IndicatorChange {
  readonly indicator: HealthIndicator;
  readonly active: boolean;
  readonly since: number;
  readonly details: string;
  readonly count?: number;
}

export interface IndicatorOptions {
  readonly raiseAfterMs: number;
  readonly clearAfterMs: number;
}

interface Track {
  state: IndicatorState;
  /** When the condition last started to differ from the published state. */
  differingSince?: number;
}

function judge(i: IndicatorInputs): Record<HealthIndicator, { on: boolean; details: string; count: number }> {
  return {
    'insufficient-storage': { on: i.widestProfile > 0 && i.placeableServers < i.widestProfile, details: `${i.placeableServers} servers with an online disk (not drained); files need ${i.widestProfile} archives on distinct servers`, count: i.placeableServers },
    'last-copy-offline': { on: i.unavailableFiles > 0, details: `${i.unavailableFiles} file(s) readable only when down servers return`, count: i.unavailableFiles },
    'disk-failing': { on: i.failingDisks.length > 0, details: `failing disk(s): ${i.failingDisks.slice(0, 10).join(', ')}${i.failingDisks.length > 10 ? ', …' : ''}`, count: i.failingDisks.length },
    'low-durability': { on: i.criticalFiles > 0, details: `${i.criticalFiles} file(s) at redundancy 0: one more loss is data loss`, count: i.criticalFiles },
  };
}

export class HealthIndicators {
  private readonly tracks = new Map<HealthIndicator, Track>();

  constructor(private readonly o: IndicatorOptions, saved: Partial<Record<HealthIndicator, IndicatorState>> = {}) {
    for (const [k, v] of Object.entries(saved)) if (v) this.tracks.set(k as HealthIndicator, { state: v });
  }

  /** Feeds current facts; returns the indicators that were raised or cleared now. */
  evaluate(now: number, inputs: IndicatorInputs): IndicatorChange[] {
    const changes: IndicatorChange[] = [];
    for (const [name, v] of Object.entries(judge(inputs)) as [HealthIndicator, { on: boolean; details: string; count: number }][]) {
      const t = this.tracks.get(name) ?? { state: { active: false, since: now, details: '' } };
      this.tracks.set(name, t);
      if (v.on === t.state.active) {
        t.differingSince = undefined;
        if (v.on) t.state = { ...t.state, details: v.details };
        continue;
      }
      t.differingSince ??= now;
      const wait = v.on ? this.o.raiseAfterMs : this.o.clearAfterMs;
      if (now - t.differingSince < wait) continue;
      t.state = { active: v.on, since: now, details: v.on ? v.details : `cleared: ${v.details}` };
      t.differingSince = undefined;
      changes.push({ indicator: name, active: v.on, since: now, details: t.state.details, count: v.count });
    }
    return changes;
  }

  /** Current state of each indicator (for status, metrics and persistence). */
  states(): Record<HealthIndicator, IndicatorState> {
    const out = {} as Record<HealthIndicator, IndicatorState>;
    for (const name of ['insufficient-storage', 'last-copy-offline', 'disk-failing', 'low-durability'] as HealthIndicator[]) {
      out[name] = this.tracks.get(name)?.state ?? { active: false, since: 0, details: '' };
    }
    return out;
  }
}
