// A token bucket in bytes: take(n) waits until n bytes may pass at `ratePerSec` (bursts up to one
// second's worth). The rate can change at run time; waiters are served in order.
import { setTimeout as sleep } from 'node:timers/promises';

export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(private ratePerSec: number) {
    this.tokens = ratePerSec;
  }

  setRate(ratePerSec: number): void {
    this.refill();
    this.ratePerSec = ratePerSec;
    this.tokens = Math.min(this.tokens, ratePerSec);
  }

  get rate(): number {
    return this.ratePerSec;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.ratePerSec, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
  }

  /**
   * Resolves when `n` bytes may pass (n larger than a burst goes through in debt). Once `signal`
   * is aborted it resolves at once, taking nothing (the caller checks its signal): a stopping
   * reader never sits out the wait, nor leaves debt for those after it.
   */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const run = this.chain.then(async () => {
      this.refill();
      // A request bigger than the burst waits for a full bucket, then runs into debt.
      const need = Math.min(n, this.ratePerSec);
      while (this.tokens < need) {
        if (signal?.aborted) return;
        try {
          await sleep(Math.max(1, Math.ceil(((need - this.tokens) / this.ratePerSec) * 1000)), undefined, signal ? { signal } : undefined);
        } catch {
          return; // aborted while waiting
        }
        this.refill();
      }
      if (signal?.aborted) return;
      this.tokens -= n;
    });
    this.chain = run;
    return run;
  }
}
