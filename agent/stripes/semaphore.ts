// A small async semaphore whose limit can change at run time (the coordinator's throttles).
// Waiters are served first come, first served; a waiter whose signal aborts leaves the queue.
import { EcguardError } from '../../shared/errors.js';

type Waiter = (release: () => void) => void;

export class Semaphore {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(private max: number) {
    Semaphore.check(max);
  }

  private static check(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new EcguardError('USAGE', `a semaphore limit must be a positive integer, got ${n}`);
  }

  get limit(): number {
    return this.max;
  }

  /** Permits held now. */
  get active(): number {
    return this.used;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** A lower limit lets running holders finish; a higher one admits waiters at once. */
  setLimit(n: number): void {
    Semaphore.check(n);
    this.max = n;
    this.pump();
  }

  /** Resolves with a release function (calling it twice is harmless). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new EcguardError('CANCELLED', 'cancelled while waiting for a slot'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new EcguardError('CANCELLED', 'cancelled while waiting for a slot'));
      };
      const waiter: Waiter = (release) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Runs `fn` holding one permit. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private pump(): void {
    while (this.used < this.max && this.queue.length > 0) {
      const w = this.queue.shift() as Waiter;
      this.used++;
      let released = false;
      w(() => {
        if (released) return;
        released = true;
        this.used--;
        this.pump();
      });
    }
  }
}
