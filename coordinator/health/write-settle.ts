// A version being written is not damage. XrdEc writes the n+m archives of a file in parallel
// and each server's data file appears (and its zip directory lands) at its own moment, so a new
// file or a rewrite with a higher strpver passes through "k-1 of k archives" on its way to
// healthy. Calling that degraded raises false alarms and, worse, lets the planner rebuild a
// slot the writer is still filling. So a version that has never been complete is held as
// `incomplete` ("being written") until it is complete or its newest archive is `settleMs` old.
//
// The clock is the coordinator's: the first time this process saw the version unsettled. An
// archive's mtime (the agent's clock) only shortens the wait, so a file found complete-but-old
// (catalog rebuild, coordinator restart) is classified at once and clock skew never holds a
// file forever.

export interface SettleDecision {
  /** Still settling: hold the file as incomplete until this time. */
  readonly untilMs: number;
  readonly ageMs: number;
}

export class WriteSettle {
  private readonly firstSeen = new Map<string, { strpver: number; at: number }>();

  constructor(private readonly settleMs: number) {}

  /**
   * A version that has never been complete and is not healthy now: settling or not.
   * `newestMtimeMs` is the newest mtime among its archives.
   */
  check(lfn: string, strpver: number, newestMtimeMs: number, nowMs: number): SettleDecision | undefined {
    if (this.settleMs <= 0) return undefined;
    let seen = this.firstSeen.get(lfn);
    if (!seen || seen.strpver !== strpver) {
      seen = { strpver, at: nowMs };
      this.firstSeen.set(lfn, seen);
    }
    const since = Math.min(seen.at, newestMtimeMs);
    const untilMs = since + this.settleMs;
    if (nowMs >= untilMs) {
      this.firstSeen.delete(lfn);
      return undefined;
    }
    return { untilMs, ageMs: Math.max(0, nowMs - since) };
  }

  /** The file is complete, healthy or gone: forget it. */
  done(lfn: string): void {
    this.firstSeen.delete(lfn);
  }

  get size(): number {
    return this.firstSeen.size;
  }
}
