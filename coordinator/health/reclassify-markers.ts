// A disk or server state change reclassifies every file there. The changed row carries a marker
// (reclassifyPending, a token written in the same row write as the new state) until those files
// are classified: a crash in between leaves it, and the next start reclassifies just what is
// marked; a clean restart finds nothing marked and reclassifies nothing.
import { getLogger } from '../../shared/logger.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { ClusterState } from '../cluster-state.js';
import type { Reclassifier } from './reclassifier.js';

const log = getLogger('coordinator');

export type MarkedKind = 'server' | 'disk';

export class ReclassifyMarkers {
  private last = 0;
  private stopped = false;

  constructor(
    private readonly store: CatalogStore,
    private readonly cluster: ClusterState,
    private readonly reclassifier: Reclassifier,
    /** How long to wait for files still waiting (no profile yet, a delete's grace) before looking again. */
    private readonly retryMs = 1000,
    private readonly maxTries = 600,
  ) {}

  /** A new marker, greater than every one this process gave (and than the clock). */
  token(): number {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }

  /** Reclassifies `lfns` for the change marked `token`, and clears the marker when they are classified. */
  reclassify(kind: MarkedKind, id: string, token: number, lfns: readonly string[]): void {
    if (lfns.length > 0) this.reclassifier.mark(lfns);
    void this.clearWhenDone(kind, id, token, lfns).catch((err: unknown) => log.warn(`${kind} ${id}: reclassify marker not cleared (${String(err)}): the next start classifies its files again`));
  }

  /** At start: the changes a crash left unclassified; returns how many files. */
  async resume(): Promise<number> {
    let n = 0;
    for (const d of this.cluster.listDisks()) {
      if (d.reclassifyPending === undefined) continue;
      const lfns = await this.store.lfnsOnDisk(d.diskId);
      n += lfns.length;
      this.reclassify('disk', d.diskId, d.reclassifyPending, lfns);
    }
    for (const s of this.cluster.listServers()) {
      if (s.reclassifyPending === undefined) continue;
      const lfns = await this.store.lfnsOnServer(s.serverId);
      n += lfns.length;
      this.reclassify('server', s.serverId, s.reclassifyPending, lfns);
    }
    return n;
  }

  /** No more clearing (the store is closing); what stays marked is redone at the next start. */
  stop(): void {
    this.stopped = true;
  }

  private async clearWhenDone(kind: MarkedKind, id: string, token: number, lfns: readonly string[]): Promise<void> {
    for (let tries = 0; !this.stopped; tries++) {
      await this.reclassifier.flush();
      if (this.stopped) return;
      if (!this.reclassifier.anyWaiting(lfns)) {
        if (await this.store.clearReclassifyPending(kind, id, token)) this.cluster.markerCleared(kind, id, token);
        return;
      }
      if (tries >= this.maxTries) return; // left marked: the next start tries again
      await new Promise((resolve) => setTimeout(resolve, this.retryMs).unref());
    }
  }
}
