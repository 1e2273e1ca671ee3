// Walks the files still counting an archive on each drained disk, a page per tick, so the
// planner can move them; keeps per disk what the last complete pass found (for `ecguard drain
// status`). Only a bounded number of drain tasks is queued at once: a drain of a million
// archives must not fill the queue ahead of repairs planned later.
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { DrainBook } from './drain-book.js';

export interface DrainPass {
  /** Files seen with an archive there that still counts. */
  candidates: number;
  /** Of those, queued now (or already holding a task). */
  planned: number;
  /** Could not be moved now, with a few examples (LFN: reason). */
  blocked: number;
  /** Of the candidates, `.mt` copies (not files: a drain does not move them). */
  metadata: number;
  examples: string[];
  startedAt: number;
  endedAt?: number;
}

/** One planning outcome, as the sweep counts it. */
export type DrainOutcome = 'planned' | 'blocked' | 'metadata' | 'other';

const PAGE = 500;
const REST_MS = 10_000;

export class DrainSweep {
  private readonly after = new Map<string, string>();
  private readonly resting = new Map<string, number>();
  private readonly running = new Map<string, DrainPass>();
  /** The last complete pass per disk. */
  readonly last = new Map<string, DrainPass>();

  constructor(private readonly store: Pick<CatalogStore, 'lfnsCountedOnDisk'>, private readonly book: DrainBook, private readonly o: { page?: number; restMs?: number } = {}) {}

  /** The next page of each drained disk not resting after a complete pass: disk id → LFNs. */
  async next(now: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const disks = new Set(this.book.drains().flatMap((d) => this.book.disksOf(d)));
    for (const id of [...this.running.keys(), ...this.last.keys(), ...this.after.keys()]) {
      if (!disks.has(id)) this.forget(id);
    }
    const page = this.o.page ?? PAGE;
    for (const diskId of disks) {
      if ((this.resting.get(diskId) ?? 0) > now) continue;
      const after = this.after.get(diskId);
      const lfns = await this.store.lfnsCountedOnDisk(diskId, { ...(after !== undefined ? { after } : {}), limit: page });
      if (!this.running.has(diskId)) this.running.set(diskId, { candidates: 0, planned: 0, blocked: 0, metadata: 0, examples: [], startedAt: now });
      const pass = this.running.get(diskId) as DrainPass;
      pass.candidates += lfns.length;
      if (lfns.length === page) this.after.set(diskId, lfns[lfns.length - 1] as string);
      else {
        // the pass ends with this page: counted once its outcomes are in (record)
        this.after.delete(diskId);
        this.resting.set(diskId, now + (this.o.restMs ?? REST_MS));
        pass.endedAt = now;
      }
      out.set(diskId, lfns);
    }
    return out;
  }

  /** What planning decided for a page of `diskId`'s files. */
  record(diskId: string, outcomes: readonly { lfn: string; outcome: DrainOutcome; reason?: string }[]): void {
    const pass = this.running.get(diskId);
    if (!pass) return;
    for (const o of outcomes) {
      if (o.outcome === 'planned') pass.planned++;
      else if (o.outcome === 'metadata') pass.metadata++;
      else if (o.outcome === 'blocked') {
        pass.blocked++;
        if (pass.examples.length < 5) pass.examples.push(`${o.lfn}: ${o.reason ?? 'no reason given'}`);
      }
    }
    if (pass.endedAt !== undefined) {
      this.last.set(diskId, pass);
      this.running.delete(diskId);
    }
  }

  /** A drain started or stopped: its disks start a fresh pass now. */
  restart(diskIds: readonly string[]): void {
    for (const id of diskIds) this.forget(id);
  }

  private forget(diskId: string): void {
    this.after.delete(diskId);
    this.resting.delete(diskId);
    this.running.delete(diskId);
    this.last.delete(diskId);
  }
}
