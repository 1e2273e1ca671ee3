// The agent's disks as it last judged them (DESIGN.md §3): checks each one (disk-check.ts),
// keeps its state, identity and downgrade in the agent's state, and says what changed. The
// runtime acts on the changes (rescans, watches); the scrub downgrades through downgrade().
import { statfsSync } from 'node:fs';
import { getLogger } from '../../shared/logger.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import type { AgentDb } from '../state/agent-db.js';
import { DiskStore, downgradeKey } from '../state/disk-store.js';
import { checkDisk, type DiskHealth, type DiskState, type Downgrade } from './disk-check.js';
import type { ServiceUser } from './service-user.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

const log = getLogger('agent');
/** Findings kept as a downgraded disk's evidence (the newest). */
const MAX_DOWNGRADE_EVIDENCE = 20;

export interface DiskEvent {
  readonly diskId: string;
  readonly path: string;
  readonly from: DiskState | 'unknown';
  readonly to: DiskState;
  readonly evidence: readonly string[];
  readonly uuid?: string;
  readonly replaced?: { readonly oldUuid: string; readonly newUuid: string };
  readonly at: number;
  /** Why the disk turned downgraded: its scrub's findings, or an operator's request. */
  readonly downgradedBy?: 'corruption' | 'operator';
}

export interface DiskMonitorOptions {
  readonly disks: readonly DiskSpec[];
  readonly serverId: string;
  readonly serviceUser?: ServiceUser;
}

export class DiskMonitor {
  private readonly store: DiskStore;
  private readonly health = new Map<string, DiskHealth>();

  constructor(db: AgentDb, private readonly o: DiskMonitorOptions) {
    this.store = new DiskStore(db);
  }

  all(): DiskHealth[] {
    return [...this.health.values()];
  }

  state(diskId: string): DiskState | undefined {
    return this.health.get(diskId)?.state;
  }

  /** Online or downgraded: scanned, watched, read. */
  usable(diskId: string): boolean {
    return diskReadable(this.state(diskId));
  }

  /** Free and total bytes of the online disks (statfs; a disk that cannot say is left out). */
  space(): { diskId: string; freeBytes: number; totalBytes: number }[] {
    const out: { diskId: string; freeBytes: number; totalBytes: number }[] = [];
    for (const d of this.o.disks) {
      if (this.state(d.diskId) !== 'online') continue;
      try {
        const s = statfsSync(d.path);
        out.push({ diskId: d.diskId, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize });
      } catch {
        /* the disk check reports its trouble */
      }
    }
    return out;
  }

  /**
   * Checks every disk; returns an event for each state or identity change (and each disk's first
   * check), each also handed to `onEvent` as soon as it is stored, before the next disk is checked.
   */
  check(onEvent: (ev: DiskEvent) => void = () => undefined): DiskEvent[] {
    const events: DiskEvent[] = [];
    for (const disk of this.o.disks) {
      const known = this.store.get(disk.diskId);
      const downgradeOf = (uuid: string | undefined): Downgrade | undefined => this.store.downgrade(downgradeKey(uuid, disk.diskId));
      const h = checkDisk(disk, { ...(known?.uuid ? { uuid: known.uuid } : {}), mountPoint: known?.mountPoint ?? false, downgradeOf },
        { serverId: this.o.serverId, createMarker: true, ...(this.o.serviceUser ? { serviceUser: this.o.serviceUser } : {}) });
      this.health.set(disk.diskId, h);
      if (h.downgradeCleared) {
        this.store.clearDowngrade(downgradeKey(h.uuid, disk.diskId));
        log.info(`disk ${disk.diskId}: ${h.evidence.join('; ')}`);
      }
      if (h.requestedDowngrade) this.store.setDowngrade(downgradeKey(h.uuid, disk.diskId), disk.diskId, { ...h.requestedDowngrade, evidence: [...h.requestedDowngrade.evidence] });
      const from = known?.state ?? 'unknown';
      if (from === h.state && !h.replaced && known) continue;
      this.store.put(disk.diskId, disk.path, h, known?.mountPoint === true || h.mountPoint);
      if (from !== 'unknown') log.warn(`disk ${disk.diskId}: ${from} -> ${h.state}`, { evidence: h.evidence });
      const ev: DiskEvent = {
        diskId: disk.diskId, path: disk.path, from, to: h.state, evidence: h.evidence, at: Date.now(), ...(h.uuid ? { uuid: h.uuid } : {}), ...(h.replaced ? { replaced: h.replaced } : {}),
        ...(h.downgradedBy ? { downgradedBy: h.downgradedBy } : {}),
      };
      events.push(ev);
      onEvent(ev);
    }
    return events;
  }

  /**
   * The scrub found corrupt stripes on an online disk (DESIGN.md §3): downgraded, so no new
   * placement goes there while its archives stay tracked; kept across restarts until an
   * operator clears this downgrade. On a disk already downgraded the finding is added (a clear
   * of the earlier downgrade no longer applies). Returns the event, or undefined when there is
   * no new state to announce.
   */
  downgrade(diskId: string, evidence: readonly string[]): DiskEvent | undefined {
    const h = this.health.get(diskId);
    const spec = this.o.disks.find((d) => d.diskId === diskId);
    if (!h || !spec) return undefined;
    const key = downgradeKey(h.uuid, diskId);
    if (h.state === 'downgraded') {
      const prev = this.store.downgrade(key);
      const all = [...(prev?.evidence ?? h.evidence), ...evidence].slice(-MAX_DOWNGRADE_EVIDENCE);
      this.store.setDowngrade(key, diskId, { at: Date.now(), evidence: all, by: prev?.by ?? 'corruption', ...(prev?.requestAt !== undefined ? { requestAt: prev.requestAt } : {}) });
      this.health.set(diskId, { ...h, evidence: all });
      return undefined;
    }
    if (h.state !== 'online') return undefined;
    const next: DiskHealth = { ...h, state: 'downgraded', evidence: [...evidence], downgradedBy: 'corruption' };
    this.health.set(diskId, next);
    this.store.setDowngrade(key, diskId, { at: Date.now(), evidence: [...evidence], by: 'corruption' });
    this.store.put(diskId, spec.path, next, this.store.get(diskId)?.mountPoint === true || h.mountPoint);
    log.warn(`disk ${diskId}: online -> downgraded`, { evidence: next.evidence });
    return { diskId, path: spec.path, from: 'online', to: 'downgraded', evidence: next.evidence, at: Date.now(), ...(h.uuid ? { uuid: h.uuid } : {}), downgradedBy: 'corruption' };
  }
}
