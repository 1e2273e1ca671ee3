// Coalesces watch events per path for a short window, so a file being written (many events)
// is examined once its burst settles, and bounds the wait so a busy file is still reported
// within a second.
export class ChangeQueue {
  private readonly pending = new Map<string, { first: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly flush: (keys: string[]) => void,
    private readonly settleMs = 50,
    private readonly maxWaitMs = 500,
  ) {}

  add(key: string): void {
    if (!this.pending.has(key)) this.pending.set(key, { first: Date.now() });
    this.schedule();
  }

  get size(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    let oldest = Infinity;
    for (const v of this.pending.values()) oldest = Math.min(oldest, v.first);
    const wait = Math.max(0, Math.min(this.settleMs, oldest + this.maxWaitMs - Date.now()));
    this.timer = setTimeout(() => this.drain(), wait);
  }

  /** Processes everything queued now. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const keys = [...this.pending.keys()];
    this.pending.clear();
    if (keys.length > 0) this.flush(keys);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
