// Call-order scheduling for the PostgreSQL store. The SQLite store is synchronous: each method
// runs whole, in the order the methods were called, and the coordinator (sessions, reclassifier,
// repair, admin calls, all concurrent) relies on that: an inventory's begin/batch/end of one
// server never interleaves with applyArchiveChanges of the same server, a read sees every write
// called before it, never half of one. On PostgreSQL the methods await the network, so without
// this they would overlap in any order.
//
// The rule kept here: a write starts when everything called before it has finished; a read
// starts when every write called before it has finished. Reads called one after another run
// together (the pool's connections), which is the only concurrency the store adds. Every method
// is one statement or one transaction, so a read overlapping nothing but reads sees one state.

const settled = (p: Promise<unknown>): Promise<void> => p.then(() => undefined, () => undefined);

export class CallOrder {
  /** Settles when the last write called so far has finished. */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Reads called since that write: the next write waits for them too. */
  private readsSince: Promise<void>[] = [];

  read<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lastWrite.then(() => fn());
    this.readsSince.push(settled(run));
    return run;
  }

  write<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.readsSince.length === 0 ? this.lastWrite : Promise.all([this.lastWrite, ...this.readsSince]);
    this.readsSince = [];
    const run = before.then(() => fn());
    this.lastWrite = settled(run);
    return run;
  }

  /** Settles once everything called so far has finished (close waits for it). */
  idle(): Promise<void> {
    return this.write(async () => undefined);
  }
}
