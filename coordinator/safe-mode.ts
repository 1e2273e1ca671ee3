// Safe mode (DESIGN.md §4): after start, and after losing contact with many servers at once,
// the coordinator's picture may be stale, so states are shown as pending evidence and no repair
// or debris action is planned. It ends when every known server has reported (a full inventory
// or a journal replay caught up), or when `timeoutMs` has passed with at least `quorum` of them;
// `leave()` overrides.
export interface SafeModeOptions {
  readonly timeoutMs: number;
  /** Fraction of known servers that must have reported for the timeout to end safe mode. */
  readonly quorum: number;
  /** Re-enter when more than this fraction of servers is out of contact at once. */
  readonly reenterFraction: number;
  /**
   * Stay until no new server has appeared for this long: a fresh coordinator cannot know how
   * many servers to expect, and leaving after the first one would call every file degraded.
   */
  readonly settleMs: number;
}

export interface SafeModeStatus {
  readonly active: boolean;
  readonly reason: string;
  readonly waitingFor: readonly string[];
  readonly since: number;
}

export class SafeMode {
  private active = true;
  private reason = 'coordinator started: waiting for every known server to report';
  private since = Date.now();
  private readonly reported = new Set<string>();
  private known = new Set<string>();
  private wasOverridden = false;
  private lastJoin = Date.now();

  constructor(private readonly o: SafeModeOptions) {}

  /** Servers the catalog knows: each must report before safe mode ends by itself. */
  setKnown(serverIds: Iterable<string>): void {
    this.known = new Set(serverIds);
    this.evaluate();
  }

  /**
   * A server said hello: from now on it is one to wait for (a fresh catalog knows no server, and
   * safe mode must not end after the first inventory while others are still sending theirs).
   */
  connected(serverId: string): void {
    if (this.known.has(serverId)) return;
    this.known.add(serverId);
    this.lastJoin = Date.now();
  }

  /** A server's view is complete (inventory done, or replay caught up). */
  reportedBy(serverId: string): void {
    if (!this.known.has(serverId)) this.lastJoin = Date.now();
    this.known.add(serverId);
    this.reported.add(serverId);
    this.evaluate();
  }

  /** Called when contact with servers is lost; `down` = servers out of contact now. */
  contactLost(down: readonly string[]): void {
    if (this.active || this.known.size === 0) return;
    if (down.length / this.known.size > this.o.reenterFraction) {
      this.active = true;
      this.wasOverridden = false;
      this.since = Date.now();
      this.reason = `lost contact with ${down.length} of ${this.known.size} servers at once`;
      for (const s of down) this.reported.delete(s);
    }
  }

  /** Enters safe mode now (e.g. the catalog was rebuilt): every known server must report again. */
  enter(reason: string): void {
    this.active = true;
    this.wasOverridden = false;
    this.since = Date.now();
    this.reason = reason;
    this.reported.clear();
  }

  leave(by: string): string {
    if (!this.active) return 'not in safe mode';
    this.active = false;
    this.wasOverridden = true;
    this.reason = `left by ${by}`;
    return `left safe mode (${this.waiting().length} server(s) had not reported: ${this.waiting().join(', ') || 'none'})`;
  }

  waiting(): string[] {
    return [...this.known].filter((s) => !this.reported.has(s)).sort();
  }

  /** Ends safe mode when its conditions hold (call periodically). */
  evaluate(now = Date.now()): void {
    if (!this.active) return;
    const waiting = this.waiting();
    if (now - this.lastJoin < this.o.settleMs) return;
    if (waiting.length === 0 && this.known.size > 0) {
      this.active = false;
      this.reason = 'every known server has reported';
      return;
    }
    const have = this.known.size - waiting.length;
    if (now - this.since >= this.o.timeoutMs && this.known.size > 0 && have / this.known.size >= this.o.quorum) {
      this.active = false;
      this.reason = `timeout with ${have} of ${this.known.size} servers reported (still missing: ${waiting.join(', ')})`;
    }
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Left by an operator (`safemode leave`), not by its own conditions. */
  get overridden(): boolean {
    return this.wasOverridden;
  }

  status(): SafeModeStatus {
    return { active: this.active, reason: this.reason, waitingFor: this.active ? this.waiting() : [], since: this.since };
  }
}
