// One data server's agent: disk health, full scans reconciled against the last inventory,
// live watching, and the delta journal. Streaming to the coordinator sits on top of this
// (it listens to 'deltas' and 'disk' and reads the journal); this class knows nothing of gRPC.
import { EventEmitter } from 'node:events';
import { lstatSync, readlinkSync } from 'node:fs';
import { getCodec } from '../shared/codec/index.js';
import type { ArchiveRecord, Finding } from '../shared/domain/archive-record.js';
import type { Delta } from '../shared/domain/delta.js';
import { faultPoint } from '../shared/fault-point.js';
import { getLogger } from '../shared/logger.js';
import type { DiskHealth } from './disk/disk-check.js';
import { CorruptStore, sameArchive, type ArchiveIdentity } from './state/corrupt-store.js';
import type { ServiceUser } from './disk/service-user.js';
import { scanBucket } from './scan/bucket-scan.js';
import type { DiskSpec } from './scan/disk-layout.js';
import { readOne } from './scan/bucket-reader-js.js';
import { buildRecord } from './scan/record-builder.js';
import { keepKnownLinks } from './namespace/known-links.js';
import { namespaceRootProblem, namespaceRoots } from './namespace/namespace-roots.js';
import { scanSite, type SiteLayout } from './scan/site-scanner.js';
import { getMeta, openAgentDb, type AgentDb } from './state/agent-db.js';
import { DeltaJournal, type NewDelta } from './state/delta-journal.js';
import { DiskMonitor, type DiskEvent } from './disk/disk-monitor.js';
import { Inventory, type FresherKeys } from './state/inventory.js';
import { ReadDisks } from './state/read-disks.js';
import { archiveKey } from '../shared/domain/delta.js';
import { ChangeQueue } from './watch/change-queue.js';
import { DiskWatcher } from './watch/disk-watcher.js';
import { diskReadable } from '../shared/domain/disk-readable.js';

export interface AgentRuntimeOptions {
  readonly layout: SiteLayout;
  readonly stateDir: string;
  readonly journalMaxEntries?: number;
  /** Full scan period (default 6 h) and its jitter as a fraction (default 0.1). */
  readonly fullScanIntervalMs?: number;
  readonly fullScanJitter?: number;
  readonly diskCheckIntervalMs?: number;
  readonly workers?: number;
  /** Log a full scan's progress (buckets, files) this often (agent YAML scan.progress: 10 s). */
  readonly scanProgressEveryMs?: number;
  readonly watch?: boolean;
  readonly serviceUser?: ServiceUser;
}

export type { DiskEvent } from './disk/disk-monitor.js';

export interface FullScanReport {
  readonly reason: string;
  readonly records: number;
  readonly deltas: number;
  readonly findings: number;
  readonly elapsedMs: number;
  readonly skippedDisks: readonly string[];
}

const log = getLogger('agent');

export class AgentRuntime extends EventEmitter {
  readonly db: AgentDb;
  readonly journal: DeltaJournal;
  readonly inventory: Inventory;
  private readonly disks: DiskMonitor;
  /** Archives the scrub found corrupt: reported unreadable until rewritten (corrupt-store.ts). */
  private readonly corrupt: CorruptStore;
  private readonly readDisks: ReadDisks;
  /**
   * A disk first read whole asks for a resync, except in the very first scan of a new state
   * (the link has not spoken yet: its first sync covers that scan).
   */
  private firstScanOfNewState: boolean;
  private readonly watchers = new Map<string, DiskWatcher>();
  private readonly queue: ChangeQueue;
  private readonly codec = getCodec();
  private scanTimer: NodeJS.Timeout | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<FullScanReport> | undefined;
  /** A scan asked for while one runs (disk back, coordinator rescan): runs once it ends. */
  private nextScan: Promise<FullScanReport> | undefined;
  /** What the watcher examined since the running full scan started (newer than the scan). */
  private watchedDuringScan: { keys: Set<string>; buckets: Set<string> } | undefined;
  private stopped = false;
  /** Findings of the last full scan (namespace check included). */
  lastFindings: Finding[] = [];

  constructor(private readonly o: AgentRuntimeOptions) {
    super();
    this.db = openAgentDb(o.stateDir);
    try {
      // a state in use before (the journal writes lastSeq on its first start); read first, so a
      // damaged row refuses the start before anything is written
      const existing = getMeta(this.db, 'lastSeq') !== undefined;
      this.readDisks = new ReadDisks(this.db, o.layout.disks.map((d) => d.diskId), existing);
      this.firstScanOfNewState = !existing;
      this.journal = new DeltaJournal(this.db, o.journalMaxEntries ?? 1_000_000);
      this.inventory = new Inventory(this.db);
      this.disks = new DiskMonitor(this.db, { disks: o.layout.disks, serverId: o.layout.serverId, ...(o.serviceUser ? { serviceUser: o.serviceUser } : {}) });
      this.corrupt = new CorruptStore(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.queue = new ChangeQueue((keys) => this.processChanges(keys));
  }

  /** Never read whole by this agent state: the Hello says so, and the coordinator sweeps nothing there. */
  diskUnread(diskId: string): boolean {
    return !this.readDisks.has(diskId);
  }

  get serverId(): string {
    return this.o.layout.serverId;
  }

  async start(): Promise<void> {
    this.checkDisks();
    // Watch first: a change made while the first scan runs is seen by one or the other.
    if (this.o.watch !== false) for (const d of this.o.layout.disks) this.startWatch(d.diskId);
    await this.fullScan('start');
    this.scheduleScan();
    this.diskTimer = setInterval(() => this.checkDisks(), this.o.diskCheckIntervalMs ?? 5000);
    this.diskTimer.unref();
  }

  disk(diskId: string): DiskSpec | undefined {
    return this.o.layout.disks.find((d) => d.diskId === diskId);
  }

  diskHealth(): DiskHealth[] {
    return this.disks.all();
  }

  /** Free and total bytes of the online disks (statfs; a disk that cannot say is left out). */
  diskSpace(): { diskId: string; freeBytes: number; totalBytes: number }[] {
    return this.disks.space();
  }

  /** Checks every disk; emits a 'disk' event for each state or identity change, and acts on it. */
  checkDisks(): DiskEvent[] {
    return this.disks.check((ev) => {
      this.emit('disk', ev);
      const usable = diskReadable(ev.to);
      const back = ev.from === 'missing' || ev.from === 'failed' || ev.replaced !== undefined;
      if (usable && back) void this.fullScan(`disk ${ev.diskId} back`);
      if (usable && (back || ev.from === 'unknown') && this.o.watch !== false && !this.stopped) {
        // An unmount or a swapped disk leaves the old inotify watches dead without an error
        // (IN_IGNORED, no 'error' event): a kept DiskWatcher would block a new one forever.
        this.watchers.get(ev.diskId)?.close();
        this.watchers.delete(ev.diskId);
        this.startWatch(ev.diskId);
      }
    });
  }

  /** The scrub found corrupt stripes on the disk: see DiskMonitor.downgrade; the event is emitted. */
  downgradeDisk(diskId: string, evidence: readonly string[]): DiskEvent | undefined {
    const ev = this.disks.downgrade(diskId, evidence);
    if (ev) this.emit('disk', ev);
    return ev;
  }

  /**
   * The scrub found corrupt stripes in this archive: from now on it is reported unreadable (the
   * coordinator stops counting it and plans its rebuild), until it is rewritten or removed.
   * Nothing is reported when the inventory's record is of another file than the one read.
   */
  archiveCorrupt(diskId: string, dataPath: string, id: ArchiveIdentity, detail: string): Delta[] {
    this.corrupt.mark(diskId, dataPath, id, detail);
    return this.publish(() => {
      const rec = this.inventory.get(diskId, dataPath);
      if (!rec || !sameArchive(id, rec)) return [];
      const d = this.inventory.upsert(this.corrupt.overlayOne(rec));
      return d ? [d] : [];
    });
  }

  /** The scrub already found this very file corrupt (same inode, size, mtime): not read or reported again. */
  knownCorrupt(diskId: string, dataPath: string, id: ArchiveIdentity): boolean {
    return this.corrupt.holds(diskId, dataPath, id);
  }

  /** True when the data file now at this place is one the scrub found corrupt (and it was not rewritten since). */
  isCorrupt(diskId: string, dataPath: string): boolean {
    const spec = this.disk(diskId);
    if (!spec) return false;
    try {
      const st = lstatSync(`${spec.path}/${dataPath}`);
      return st.isFile() && this.corrupt.holds(diskId, dataPath, { inode: st.ino, size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      return false;
    }
  }

  private usable(diskId: string): boolean {
    return this.disks.usable(diskId);
  }

  /** Scans every usable disk and reports what changed since the last known inventory. */
  fullScan(reason: string): Promise<FullScanReport> {
    // The running scan may have skipped (or already read) what this request is about.
    if (this.scanning) {
      this.nextScan ??= this.scanning.catch(() => undefined).then((prev) => {
        this.nextScan = undefined;
        // stopped meanwhile: the state db is closing, scan nothing more
        if (this.stopped) return prev ?? { reason, records: 0, deltas: 0, findings: 0, elapsedMs: 0, skippedDisks: this.o.layout.disks.map((d) => d.diskId) };
        return this.fullScan(reason);
      });
      return this.nextScan;
    }
    this.scanning = this.doFullScan(reason).finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async doFullScan(reason: string): Promise<FullScanReport> {
    const disks = this.o.layout.disks.filter((d) => this.usable(d.diskId));
    const skipped = this.o.layout.disks.filter((d) => !this.usable(d.diskId)).map((d) => d.diskId);
    const fresher = { keys: new Set<string>(), buckets: new Set<string>() };
    this.watchedDuringScan = fresher;
    let r: Awaited<ReturnType<typeof scanSite>>;
    try {
      let said = Date.now();
      const every = this.o.scanProgressEveryMs;
      r = await scanSite({ ...this.o.layout, disks }, {
        workers: this.o.workers ?? 2,
        ...(every !== undefined ? {
          onProgress: (p: { bucketsDone: number; bucketsTotal: number; files: number }) => {
            if (Date.now() - said < every) return;
            said = Date.now();
            log.info(`full scan (${reason}): ${p.bucketsDone} of ${p.bucketsTotal} bucket directories, ${p.files} files so far`);
          },
        } : {}),
      });
    } finally {
      this.watchedDuringScan = undefined;
    }
    // A disk that failed during the scan gives no evidence of removals.
    this.checkDisks();
    const good = disks.filter((d) => this.usable(d.diskId) && !r.disks.find((x) => x.disk.diskId === d.diskId)?.error);
    const goodIds = new Set(good.map((d) => d.diskId));
    const badBuckets = new Set(r.findings.filter((f) => f.kind === 'unreadable' && f.diskId && /bucket directory/.test(f.reason)).map((f) => f.diskId));
    // Records whose namespace could not be read keep the links last known (known-links.ts).
    if (r.namespaceBlind.length > 0) log.warn(`full scan (${reason}): namespace ${r.namespaceBlind.join(', ')} could not be read: the data files keep the links last known for them`);
    const records = this.corrupt.overlay(keepKnownLinks(r.records, r.namespaceBlind, (d, p) => this.inventory.get(d, p)));
    let firstRead: string[] = [];
    const askResync = !this.firstScanOfNewState;
    this.firstScanOfNewState = false;
    const deltas = this.publish(() => {
      // a disk with unreadable bucket directories is not read whole yet
      firstRead = this.readDisks.add(good.filter((d) => !badBuckets.has(d.diskId)).map((d) => d.diskId));
      const changes: NewDelta[] = [];
      for (const d of good) {
        const recs = records.filter((x) => x.diskId === d.diskId);
        // With unreadable buckets, only remove keys from buckets that were read.
        const within = badBuckets.has(d.diskId) ? new Set(recs.map((x) => `${x.diskId}\u0000${x.dataPath.slice(0, x.dataPath.lastIndexOf('/'))}`)) : undefined;
        changes.push(...this.inventory.reconcile([d.diskId], recs, 'rescan', within, fresher as FresherKeys));
      }
      return changes;
    }, () => {
      // Read whole for the first time since this state began (it was unmounted or failed until
      // now): what the catalog holds for it is unconfirmed until a resync compares. Marked in the
      // transaction that marks the disk read: a crash between the two would lose the request.
      if (firstRead.length > 0 && askResync) this.journal.requireResync();
    });
    if (firstRead.length > 0 && askResync) {
      log.info(`full scan (${reason}): first read of ${firstRead.join(', ')} since this agent state began: asking the coordinator for a resync`);
      this.emit('resync', firstRead);
    }
    this.lastFindings = r.findings;
    const report = { reason, records: r.records.filter((x) => goodIds.has(x.diskId)).length, deltas: deltas.length, findings: r.findings.length, elapsedMs: r.elapsedMs, skippedDisks: skipped };
    this.emit('scan', report);
    return report;
  }

  /**
   * Updates the inventory (`change`) and journals what changed in ONE transaction: a crash
   * between the two would leave the inventory ahead of the journal, and the change would never
   * be reported (the next scan finds nothing different).
   */
  private publish(change: () => NewDelta[], after?: () => void): Delta[] {
    let changes: NewDelta[] = [];
    let deltas: Delta[] = [];
    this.db.transaction(() => {
      changes = change();
      if (changes.length > 0) faultPoint('agent-before-journal');
      deltas = this.journal.append(changes);
      after?.();
    })();
    if (deltas.length > 0) this.emit('deltas', deltas);
    if (changes.length > deltas.length) this.emit('overflow', this.journal.stats());
    return deltas;
  }

  private startWatch(diskId: string): void {
    const disk = this.o.layout.disks.find((d) => d.diskId === diskId);
    if (!disk || this.watchers.has(diskId) || !this.usable(diskId)) return;
    const w = new DiskWatcher(disk, {
      onEntry: (bucketRel, name) => this.queue.add(`${diskId}\u0000${bucketRel}\u0000${name}`),
      onBucket: (bucketRel) => this.queue.add(`${diskId}\u0000${bucketRel}`),
      onTrouble: (reason) => {
        log.warn(`watch trouble on ${diskId}: ${reason}`);
        this.watchers.get(diskId)?.close();
        this.watchers.delete(diskId);
        this.checkDisks();
      },
    });
    w.start();
    this.watchers.set(diskId, w);
  }

  /** Examines changed entries (or whole buckets) and journals what differs. */
  processChanges(keys: readonly string[]): Delta[] {
    const site = { serverId: this.serverId, exports: this.o.layout.exports, ...(this.o.layout.localroot !== undefined ? { localroot: this.o.layout.localroot } : {}) };
    return this.publish(() => {
      const changes: NewDelta[] = [];
      for (const key of keys) {
        const [diskId, bucketRel, name] = key.split('\u0000') as [string, string, string | undefined];
        if (name === undefined) this.watchedDuringScan?.buckets.add(`${diskId}\u0000${bucketRel}`);
        else this.watchedDuringScan?.keys.add(archiveKey(diskId, `${bucketRel}/${name}`));
        const disk = this.o.layout.disks.find((d) => d.diskId === diskId);
        if (!disk || !this.usable(diskId)) continue;
        if (name === undefined) {
          const res = scanBucket({ diskId, space: disk.space, spacePath: disk.path, bucketRel }, site, this.codec);
          if (!res.error) changes.push(...this.inventory.reconcile([diskId], this.corrupt.overlay(this.keepLinks(res.records.map((r) => this.withLink(r)))), 'unlink', new Set([`${diskId}\u0000${bucketRel}`])));
          continue;
        }
        const raw = readOne(`${disk.path}/${bucketRel}`, name);
        if (raw.error?.code === 'ENOENT') {
          const d = this.inventory.remove(diskId, `${bucketRel}/${name}`, 'unlink');
          if (d) changes.push(d);
          continue;
        }
        if (raw.error || !raw.isFile || !name.endsWith('%')) continue;
        const built = buildRecord(raw, bucketRel, { serverId: this.serverId, diskId, space: disk.space, spacePath: disk.path, exports: site.exports, codec: this.codec, ...(site.localroot !== undefined ? { localroot: site.localroot } : {}) });
        const d = this.inventory.upsert(this.corrupt.overlayOne(this.keepLinks([this.withLink(built.record)])[0] as ArchiveRecord));
        if (d) changes.push(d);
      }
      return changes;
    });
  }

  /** The namespace link for a watched file: the symlink at its Pfn, when it points back here. */
  private withLink(r: ArchiveRecord): ArchiveRecord {
    if (r.pfn === undefined || r.nsPath !== undefined) return r;
    const disk = this.o.layout.disks.find((d) => d.diskId === r.diskId);
    try {
      if (disk && readlinkSync(r.pfn) === `${disk.path}/${r.dataPath}`) return { ...r, nsPath: r.pfn };
    } catch {
      /* no link (yet): the full scan's namespace check decides */
    }
    return r;
  }

  // A watched file whose link was not found while its namespace root cannot be read keeps the
  // link last known (the roots are examined only then: one opendir each).
  private keepLinks(records: ArchiveRecord[]): ArchiveRecord[] {
    const lost = records.some((x) => x.nsPath === undefined && this.inventory.get(x.diskId, x.dataPath)?.nsPath !== undefined);
    if (!lost) return records;
    const blind = namespaceRoots(this.o.layout).filter((root) => namespaceRootProblem(root) !== undefined);
    return keepKnownLinks(records, blind, (d, p) => this.inventory.get(d, p));
  }

  /** Waits until queued watch events are processed (tests, shutdown). */
  flushChanges(): void {
    this.queue.drain();
  }

  private scheduleScan(): void {
    const base = this.o.fullScanIntervalMs ?? 6 * 3600_000;
    const jitter = this.o.fullScanJitter ?? 0.1;
    const delay = base * (1 - jitter + Math.random() * 2 * jitter);
    this.scanTimer = setTimeout(() => {
      void this.fullScan('periodic').catch((err: unknown) => log.error(`periodic scan failed: ${String(err)}`)).finally(() => {
        if (!this.stopped) this.scheduleScan();
      });
    }, delay);
    this.scanTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scanTimer) clearTimeout(this.scanTimer);
    if (this.diskTimer) clearInterval(this.diskTimer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.queue.close();
    if (this.scanning) await this.scanning.catch(() => undefined);
    if (this.nextScan) await this.nextScan.catch(() => undefined);
    this.db.close();
  }
}
