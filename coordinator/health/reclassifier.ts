// Keeps file states current: LFNs whose archives (or servers, or disks) changed are marked
// dirty and reclassified in batches. Deletions get a short grace: an xrootd rm removes the
// archives on every server within moments, and the file should vanish, not pass through
// degraded, critical and lost on the way (no false alarms). When every available archive of the
// latest version was unlinked, a tombstone records the deletion, so a leftover that comes back
// with a returning server is known debris.
import { EventEmitter } from 'node:events';
import { isScrubCorrupt } from '../../shared/domain/scrub-finding.js';
import type { FileState } from '../../shared/domain/file-health.js';
import { getLogger } from '../../shared/logger.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { ArchiveRole } from '../../shared/domain/file-health.js';
import type { ArchiveRoleRow, ArchiveState, FileRow, ReplacedArchive, Tombstone } from '../catalog/catalog-types.js';
import type { ClusterState } from '../cluster-state.js';
import { archiveKeyOf, classifyFile } from './health-engine.js';
import { isMetadataOnly } from './metadata-files.js';
import { WriteSettle } from './write-settle.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

export interface FileChange {
  readonly lfn: string;
  readonly prev?: FileRow;
  /** undefined: the file is gone (deleted). */
  readonly next?: FileRow;
  readonly anomalies: readonly string[];
  /** Servers holding an archive of the latest version (file.created's `servers`). */
  readonly servers?: readonly string[];
  /** Of those, the ones down when the file was deleted (file.deleted's `serversAway`). */
  readonly serversAway?: readonly string[];
}

/** An archive newly found to be debris (the debris.found event). */
export interface DebrisFound {
  readonly lfn: string;
  readonly serverId: string;
  readonly diskId: string;
  readonly dataPath: string;
  readonly size: number;
  readonly kind: 'superseded' | 'deleted' | 'damaged';
  readonly reason: string;
  readonly strpver?: number;
  readonly latestStrpver?: number;
}

export interface ReclassifierOptions {
  readonly batch?: number;
  readonly flushMs?: number;
  readonly deleteGraceMs?: number;
  /** How long a version that was never complete may stay unhealthy before it is called damage. */
  readonly writeSettleMs?: number;
  /**
   * A dead server is still `up` until liveness marks it down (server.downAfter). A delete in
   * that window leaves its archive counted as available: the file looked lost, and once the
   * server was down no tombstone came (the delete's grace was over). While every archive still
   * counted is on a server silent longer than `silentAfterMs` (ms since its last message, from
   * `silentMs`), the delete's grace is held, up to `deleteHoldMs` past it.
   */
  readonly silence?: {
    readonly silentMs: (serverId: string) => number;
    readonly silentAfterMs: number;
    readonly deleteHoldMs: number;
    /**
     * How long a server has been sending its inventory (or resync) after a reconnect, or
     * undefined: its archives in the catalog are its old word. Archives swept from one server's
     * inventory while the others' are still coming (every agent restarted without its journal
     * while files were deleted) are a delete being learnt server by server: held like silence,
     * while the holder has been syncing for less than `syncHoldMs`.
     */
    readonly syncingMs?: (serverId: string) => number | undefined;
    readonly syncHoldMs?: number;
  };
  /**
   * While true, marked files wait instead of being classified on the timer (flush() still
   * classifies them). At a start, every server's inventory arrives at once: each file's archives
   * come in one server at a time, and classifying after every batch classified each file once
   * per server, which was most of the coordinator's work (measured with `ecguard simulate`).
   */
  readonly holdWhile?: () => boolean;
}

/** Above this many waiting files, a hold is broken: memory stays bounded. */
const HOLD_LIMIT = 500_000;
const HOLD_RECHECK_MS = 250;

/** A file row is only rewritten when something in it changed (a re-sent inventory changes nothing). */
function sameFile(a: FileRow | undefined, b: FileRow): boolean {
  return a !== undefined && a.state === b.state && a.redundancy === b.redundancy && a.latestStrpver === b.latestStrpver && a.filesize === b.filesize
    && a.available === b.available && a.unavailable === b.unavailable && a.reason === b.reason && a.firstSeen === b.firstSeen
    && a.createdAt === b.createdAt && a.stateSince === b.stateSince && a.bytes === b.bytes;
}

/** The stored role differs from the verdict ('current' is stored as no role at all). */
function roleChanged(a: ArchiveState, role: ArchiveRole, reason: string): boolean {
  return role === 'current' ? a.role !== undefined : a.role !== role || a.roleReason !== reason;
}

const NONE: ReadonlyMap<string, string> = new Map();

export function replacedMap(rows: readonly ReplacedArchive[] | undefined): ReadonlyMap<string, string> {
  if (rows === undefined || rows.length === 0) return NONE; // nearly every file: no map to build
  return new Map(rows.filter((r) => r.strpver !== undefined).map((r) => [archiveKeyOf(r), r.taskId]));
}

const RANK: Record<FileState, number> = { healthy: 0, pending: 0, degraded: 1, critical: 2, unavailable: 3, incomplete: 3, lost: 4 };
const log = getLogger('health');

export class Reclassifier extends EventEmitter {
  private readonly dirty = new Set<string>();
  private readonly deleting = new Map<string, number>();
  private readonly silence: ReclassifierOptions['silence'];
  /** Archives that became debris on a disk not online: announced only once it is back (this run). */
  private readonly debrisOffline = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** A delete's grace end, one timer per batch of deletes (cleared by stop()). */
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly batch: number;
  private readonly flushMs: number;
  private readonly graceMs: number;
  private readonly settle: WriteSettle;
  private readonly holdWhile: (() => boolean) | undefined;

  constructor(private readonly store: CatalogStore, private readonly cluster: ClusterState, private readonly profileFor: (lfn: string) => EcProfile | undefined, o: ReclassifierOptions = {}) {
    super();
    this.batch = o.batch ?? 5000;
    this.flushMs = o.flushMs ?? 50;
    this.graceMs = o.deleteGraceMs ?? 3000;
    this.silence = o.silence;
    this.holdWhile = o.holdWhile;
    this.settle = new WriteSettle(o.writeSettleMs ?? 10_000);
  }

  mark(lfns: Iterable<string>): void {
    for (const l of lfns) this.dirty.add(l);
    this.schedule(this.flushMs);
  }

  /** Archives of these LFNs were unlinked: maybe a delete in progress. */
  markUnlinked(lfns: Iterable<string>): void {
    const until = Date.now() + this.graceMs;
    for (const l of lfns) {
      if (!this.deleting.has(l)) this.deleting.set(l, until);
      this.dirty.add(l);
    }
    this.schedule(this.flushMs);
    const t = setTimeout(() => {
      this.graceTimers.delete(t);
      this.schedule(0);
    }, this.graceMs + 10);
    t.unref();
    this.graceTimers.add(t);
  }

  /** No timer runs a reclassification after this (the coordinator closes its store next). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
  }

  get pending(): number {
    return this.dirty.size;
  }

  /** Whether any of `lfns` still waits (dirty: no profile yet, or a delete's grace). */
  anyWaiting(lfns: readonly string[]): boolean {
    return lfns.some((l) => this.dirty.has(l) || this.deleting.has(l));
  }

  private schedule(ms: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.held()) return this.schedule(HOLD_RECHECK_MS);
      void this.flush().catch((err: unknown) => log.error(`reclassification failed: ${String(err)}`));
    }, ms);
    this.timer.unref();
  }

  private held(): boolean {
    return this.holdWhile !== undefined && this.dirty.size < HOLD_LIMIT && this.holdWhile();
  }

  /** Reclassifies everything dirty now. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0) {
      // Files whose profile is unknown yet (no agent has told it) wait in the dirty set. Take a
      // batch from the front without copying the whole set (a million dirty LFNs made it quadratic).
      const lfns: string[] = [];
      const waiting: string[] = [];
      for (const l of this.dirty) {
        if (this.profileFor(l) === undefined) waiting.push(l);
        else lfns.push(l);
        if (lfns.length >= this.batch) break;
      }
      for (const l of lfns) this.dirty.delete(l);
      // move the waiting ones to the back so the next batch does not walk them again
      for (const l of waiting) {
        this.dirty.delete(l);
        this.dirty.add(l);
      }
      if (lfns.length === 0) return;
      await this.classify(lfns);
    }
  }

  private async classify(lfns: string[]): Promise<void> {
    const now = Date.now();
    // in key order: every read and write below then walks the indexes front to back
    lfns.sort();
    const archives = await this.store.archiveStatesOf(lfns);
    const tombs = await this.store.tombstonesFor(lfns);
    const replaced = await this.store.replacedFor(lfns);
    const prevRows = await this.store.filesOf(lfns);
    const puts: FileRow[] = [];
    const gone: string[] = [];
    const roles: ArchiveRoleRow[] = [];
    const newTombs: Tombstone[] = [];
    const changes: FileChange[] = [];
    const deferred: string[] = [];
    const settling: { lfn: string; until: number }[] = [];
    const debris: Omit<DebrisFound, 'size'>[] = [];
    for (const lfn of lfns) {
      const prev = prevRows.get(lfn);
      const profile = this.profileFor(lfn) as EcProfile;
      const list = archives.get(lfn) ?? [];
      let tlist = tombs.get(lfn) ?? [];
      if (isMetadataOnly(lfn, list)) {
        if (prev) gone.push(lfn); // an older catalog took it for a file
        for (const a of list) if (a.role !== undefined) roles.push({ serverId: a.serverId, diskId: a.diskId, dataPath: a.dataPath, lfn, role: 'current', reason: '' });
        continue;
      }
      const input = {
        lfn, archives: list, profile, serverState: this.cluster.serverState, diskState: this.cluster.diskState, nowMs: now,
        replaced: replacedMap(replaced.get(lfn)), tombstones: tlist,
        wasComplete: (sv: number | undefined) => prev?.createdAt !== undefined && prev.latestStrpver === sv,
      };
      let v = classifyFile(input);
      const deletingUntil = this.deleting.get(lfn);
      if (deletingUntil !== undefined) {
        if (v.state !== undefined && v.available === 0 && v.latestStrpver !== undefined
          && prev !== undefined && prev.latestStrpver === v.latestStrpver && prev.available > 0) {
          // Every available archive of the latest version was unlinked: the file was deleted. (An
          // unlink while none was available, e.g. of an old leftover, says nothing about it.) A
          // server that was silent through the unlinks and speaks again before it is marked down
          // proves nothing either way (a partition, or a quick reboot): no tombstone then, the
          // file is what its archives say (review: calling it deleted made live archives debris).
          const t: Tombstone = { lfn, strpver: v.latestStrpver, at: now, reason: `deleted on every up server${v.unavailable ? ` while ${v.unavailable} archive(s) were on down servers` : ''}` };
          newTombs.push(t);
          tlist = [...tlist, t];
          v = classifyFile({ ...input, tombstones: tlist });
          this.endDeleting(lfn);
        } else if (prev && v.state !== undefined && RANK[v.state] > RANK[prev.state] && (now < deletingUntil || this.heldBySilence(list, v.latestStrpver, now - deletingUntil))) {
          deferred.push(lfn); // a delete in progress: wait before calling it damage
          continue;
        } else if (now >= deletingUntil) this.endDeleting(lfn);
      }
      const wasComplete = prev?.createdAt !== undefined && prev.latestStrpver === v.latestStrpver;
      if (v.state !== undefined && v.state !== 'healthy' && !wasComplete && v.latestStrpver !== undefined) {
        const sv = v.latestStrpver;
        const newest = Math.max(...list.filter((a) => a.strpver === sv).map((a) => a.mtimeMs));
        const s = this.settle.check(lfn, sv, newest, now);
        if (s) {
          settling.push({ lfn, until: s.untilMs });
          v = { ...v, state: 'incomplete', reason: `being written (newest archive ${Math.round(s.ageMs / 1000)} s old, settles within ${Math.ceil((s.untilMs - now) / 1000)} s): ${v.reason}` };
        }
      } else this.settle.done(lfn);
      for (const a of v.archives) {
        // only roles that change are written (nearly every archive is current, stored as NULL)
        if (roleChanged(a.archive, a.role, a.reason)) roles.push({ serverId: a.archive.serverId, diskId: a.archive.diskId, dataPath: a.archive.dataPath, lfn, role: a.role, reason: a.reason });
        // Announced when it is debris on a disk that is there: a duplicate left on a dead disk
        // (its stripes rebuilt elsewhere) is announced if the disk comes back, not while it is gone.
        // (the hot path: nearly every archive is current and skips all of this)
        let announce = false;
        if (a.role === 'debris') {
          const key = `${a.archive.serverId}\0${a.archive.diskId}\0${a.archive.dataPath}`;
          const offline = !diskReadable(this.cluster.diskState(a.archive.diskId));
          if (a.archive.role !== 'debris') {
            if (!offline) announce = true;
            else {
              if (this.debrisOffline.size >= 200_000) this.debrisOffline.clear(); // bounded memory
              this.debrisOffline.add(key);
            }
          } else if (!offline && this.debrisOffline.size > 0) announce = this.debrisOffline.delete(key);
        } else if (this.debrisOffline.size > 0) this.debrisOffline.delete(`${a.archive.serverId}\0${a.archive.diskId}\0${a.archive.dataPath}`);
        if (announce) {
          debris.push({
            lfn, serverId: a.archive.serverId, diskId: a.archive.diskId, dataPath: a.archive.dataPath, kind: v.state === undefined ? 'deleted' : isScrubCorrupt(a.archive) ? 'damaged' : 'superseded', reason: a.reason,
            ...(a.archive.strpver !== undefined ? { strpver: a.archive.strpver } : {}), ...(v.latestStrpver !== undefined ? { latestStrpver: v.latestStrpver } : {}),
          });
        }
      }
      if (v.state === undefined) {
        if (prev) gone.push(lfn);
        if (prev) {
          const away = [...new Set(list.filter((a) => a.strpver === prev.latestStrpver && this.cluster.serverState(a.serverId) !== 'up').map((a) => a.serverId))].sort();
          changes.push({ lfn, prev, anomalies: v.anomalies, serversAway: away });
        }
        continue;
      }
      const complete = v.available + v.unavailable >= profile.nbData && v.state !== 'incomplete';
      const createdAt = prev?.latestStrpver === v.latestStrpver && prev?.createdAt !== undefined ? prev.createdAt : complete ? now : undefined;
      const next: FileRow = {
        lfn, state: v.state, redundancy: v.redundancy, available: v.available, unavailable: v.unavailable,
        reason: v.anomalies.length ? `${v.reason} [${v.anomalies.join('; ')}]` : v.reason,
        firstSeen: prev?.firstSeen ?? now, stateSince: prev?.state === v.state ? prev.stateSince : now, bytes: v.filesize ?? 0,
        ...(v.latestStrpver !== undefined ? { latestStrpver: v.latestStrpver } : {}),
        ...(v.filesize !== undefined ? { filesize: v.filesize } : {}),
        ...(createdAt !== undefined ? { createdAt } : {}),
      };
      if (!sameFile(prev, next)) puts.push(next);
      if (!prev || prev.state !== next.state || prev.latestStrpver !== next.latestStrpver || prev.available !== next.available || prev.unavailable !== next.unavailable) {
        const servers = [...new Set(list.filter((a) => a.strpver === v.latestStrpver).map((a) => a.serverId))].sort();
        changes.push({ lfn, ...(prev ? { prev } : {}), next, anomalies: v.anomalies, servers });
      }
    }
    if (newTombs.length) await this.store.addTombstones(newTombs);
    if (puts.length) await this.store.putFiles(puts);
    if (gone.length) await this.store.deleteFiles(gone);
    // deferred files have no role rows: theirs stay as they were
    if (roles.length) await this.store.updateArchiveRoles(roles);
    if (deferred.length) for (const l of deferred) this.dirty.add(l);
    if (changes.length) this.emit('changes', changes);
    if (debris.length && this.listenerCount('debris') > 0) this.emit('debris', await this.withSizes(debris));
    if (settling.length) {
      // come back when the first of them settles; the others re-arm then
      const wait = Math.max(10, Math.min(...settling.map((x) => x.until)) - now);
      setTimeout(() => this.mark(settling.map((x) => x.lfn)), wait).unref();
    }
    if (deferred.length && this.dirty.size === deferred.length) {
      // only deferred work left: come back after the grace instead of spinning
      // (past its grace a held delete waits for its silent servers: look again twice a second)
      const wait = Math.max(10, Math.min(...deferred.map((l) => { const until = this.deleting.get(l) ?? now; return until > now ? until - now : 500; })));
      for (const l of deferred) this.dirty.delete(l);
      setTimeout(() => this.mark(deferred), wait).unref();
    }
  }

  /**
   * The archives of `strpver` still counted are all on servers gone silent (maybe dead, not down
   * yet) or still syncing (their word on them is old).
   */
  private heldBySilence(list: readonly ArchiveState[], strpver: number | undefined, pastGraceMs: number): boolean {
    const q = this.silence;
    if (!q || strpver === undefined) return false;
    const holders = [...new Set(list.filter((a) => a.strpver === strpver && this.cluster.serverState(a.serverId) === 'up' && diskReadable(this.cluster.diskState(a.diskId))).map((a) => a.serverId))];
    if (holders.length === 0) return false;
    // each holder on its own clock: a sync from its start, silence from the end of the grace
    const syncHeld = (id: string): boolean => {
      const ms = q.syncingMs?.(id);
      return ms !== undefined && ms < (q.syncHoldMs ?? 0);
    };
    return holders.every((id) => syncHeld(id) || (pastGraceMs < q.deleteHoldMs && q.silentMs(id) > q.silentAfterMs));
  }

  private endDeleting(lfn: string): void {
    this.deleting.delete(lfn);
  }

  /** Sizes for the debris events (rare: read only for archives that just became debris). */
  private async withSizes(found: readonly Omit<DebrisFound, 'size'>[]): Promise<DebrisFound[]> {
    const rows = await this.store.archivesOf([...new Set(found.map((d) => d.lfn))]);
    const size = new Map<string, number>();
    for (const list of rows.values()) for (const a of list) size.set(`${a.serverId}\0${a.diskId}\0${a.dataPath}`, a.size);
    return found.map((d) => ({ ...d, size: size.get(`${d.serverId}\0${d.diskId}\0${d.dataPath}`) ?? 0 }));
  }
}
