// Who is silent: the last time each server was heard from, and which have been quiet longer
// than `downAfterMs`. The coordinator's own stalls do not count against the agents: when a
// check runs late (a long catalog write, a GC pause, a starved box), the messages that arrived
// meanwhile are still queued unread, so every server's silence is shortened by the stall
// instead of marking healthy servers down and forcing them to reconnect.

export interface LivenessOptions {
  readonly downAfterMs: number;
  /** How often check() is meant to run. */
  readonly intervalMs: number;
  readonly now?: () => number;
}

export class LivenessMonitor {
  private readonly lastSeen = new Map<string, number>();
  /** Not reported silent before this time (graceAll). */
  private readonly notBefore = new Map<string, number>();
  private lastCheck: number | undefined;
  /** Total time forgiven because the coordinator itself stalled (for logs and metrics). */
  forgivenMs = 0;
  private readonly now: () => number;

  constructor(private readonly o: LivenessOptions) {
    this.now = o.now ?? Date.now;
  }

  seen(serverId: string): void {
    this.lastSeen.set(serverId, this.now());
    this.notBefore.delete(serverId);
  }

  /**
   * A coordinator start: agents need time to reconnect. Everyone counts as heard from now, and
   * none is reported silent before `graceMs` (default one period) has passed: an agent that was
   * retrying with its longest backoff while the coordinator was down may take longer than one
   * period to come back, and calling it down meanwhile cost two reclassifications of its files.
   */
  graceAll(serverIds: Iterable<string>, graceMs = this.o.downAfterMs): void {
    const t = this.now();
    for (const id of serverIds) {
      this.lastSeen.set(id, t);
      if (graceMs > this.o.downAfterMs) this.notBefore.set(id, t + graceMs);
    }
  }

  lastSeenOf(serverId: string): number | undefined {
    return this.lastSeen.get(serverId);
  }

  /**
   * Of `candidates` (servers that are up), those silent for longer than downAfterMs (or
   * `limitOf(id)` when given). Call it every intervalMs; a late call forgives the lateness.
   */
  silent(candidates: Iterable<string>, limitOf?: (serverId: string) => number): { serverId: string; silentMs: number }[] {
    const t = this.now();
    if (this.lastCheck !== undefined) {
      const stall = t - this.lastCheck - this.o.intervalMs;
      if (stall > this.o.intervalMs) {
        this.forgivenMs += stall;
        for (const [id, at] of this.lastSeen) this.lastSeen.set(id, Math.min(t, at + stall));
      }
    }
    this.lastCheck = t;
    const out: { serverId: string; silentMs: number }[] = [];
    for (const id of candidates) {
      const until = this.notBefore.get(id);
      if (until !== undefined) {
        if (t < until) continue;
        this.notBefore.delete(id);
      }
      const silentMs = t - (this.lastSeen.get(id) ?? 0);
      if (silentMs > (limitOf?.(id) ?? this.o.downAfterMs)) out.push({ serverId: id, silentMs });
    }
    return out;
  }
}
