// Scans every disk of one data server: buckets through the worker pool, then the namespace,
// then the namespace cross-check. Streams bucket results to the caller and shows progress.
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { checkNamespace } from '../namespace/namespace-check.js';
import { walkNamespace, type NamespaceLink } from '../namespace/namespace-walk.js';
import { isUnder, namespaceRootProblem, namespaceRoots } from '../namespace/namespace-roots.js';
import type { BucketResult, BucketTask } from './bucket-scan.js';
import { getCodec } from '../../shared/codec/index.js';
import { loadScanAddon } from './bucket-reader-native.js';
import { listBuckets, type DiskSpec } from './disk-layout.js';
import { runNativeScan } from './native-scan-runner.js';
import { BucketWorkerPool } from './worker-pool.js';

export interface SiteLayout {
  readonly serverId: string;
  readonly disks: readonly DiskSpec[];
  readonly localroot?: string;
  readonly exports: readonly string[];
}

export interface ScanProgress {
  readonly bucketsDone: number;
  readonly bucketsTotal: number;
  readonly files: number;
}

export interface SiteScanOptions {
  /**
   * Buckets walked at once (default 2): the native walker's own threads, or worker threads with
   * the JS reader.
   */
  readonly workers?: number;
  readonly reader?: 'auto' | 'native' | 'js';
  /** Also walk and cross-check the namespace (default true). */
  readonly namespace?: boolean;
  /**
   * Keep bucket records and findings in the result (default true). With false they reach the
   * caller only through onBucket, so memory stays flat at any size; needs namespace: false
   * (the cross-check needs every record).
   */
  readonly collect?: boolean;
  readonly onBucket?: (r: BucketResult) => void;
  readonly onProgress?: (p: ScanProgress) => void;
}

export interface DiskScanSummary {
  readonly disk: DiskSpec;
  readonly buckets: number;
  readonly files: number;
  /** The space directory could not be read at all: errno code. */
  readonly error?: string;
}

export interface SiteScanResult {
  readonly records: ArchiveRecord[];
  readonly findings: Finding[];
  readonly links: NamespaceLink[];
  /**
   * Namespace roots and directories that could not be read: records found unlinked whose link
   * would be below one say nothing about their link (reported once, as a finding on the path).
   */
  readonly namespaceBlind: string[];
  readonly disks: DiskScanSummary[];
  readonly elapsedMs: number;
}

export { namespaceRoots } from '../namespace/namespace-roots.js';

export async function scanSite(layout: SiteLayout, opts: SiteScanOptions = {}): Promise<SiteScanResult> {
  const started = Date.now();
  const collect = opts.collect !== false;
  if (!collect && opts.namespace !== false) throw new Error('scanSite: collect: false needs namespace: false (the namespace check needs every record)');
  const findings: Finding[] = [];
  const tasks: BucketTask[] = [];
  const perDisk = new Map<string, { buckets: number; files: number; error?: string }>();
  for (const disk of layout.disks) {
    const l = listBuckets(disk);
    findings.push(...l.findings);
    perDisk.set(disk.diskId, { buckets: l.buckets.length, files: 0, ...(l.error ? { error: l.error } : {}) });
    for (const b of l.buckets) tasks.push({ diskId: disk.diskId, space: disk.space, spacePath: disk.path, bucketRel: b });
  }
  const records: ArchiveRecord[] = [];
  const site = { serverId: layout.serverId, exports: layout.exports, ...(layout.localroot !== undefined ? { localroot: layout.localroot } : {}) };
  // Threads: a small site is scanned in the calling thread; else the native walker on its own
  // threads when the addon has it, else the JS reader in worker threads.
  const threads = tasks.length < 8 ? 0 : Math.min(opts.workers ?? 2, tasks.length);
  const kind = opts.reader ?? 'auto';
  const addon = threads > 0 && kind !== 'js' ? loadScanAddon().addon : undefined;
  let done = 0;
  let files = 0;
  const onResult = (r: BucketResult): void => {
    done++;
    files += r.records.length;
    const d = perDisk.get(r.task.diskId);
    if (d) d.files += r.records.length;
    if (collect) {
      for (const x of r.records) records.push(x);
      for (const f of r.findings) findings.push(f);
    }
    opts.onBucket?.(r);
    opts.onProgress?.({ bucketsDone: done, bucketsTotal: tasks.length, files });
  };
  if (addon) {
    await runNativeScan(addon, tasks, site, getCodec(), threads, onResult);
  } else {
    const pool = new BucketWorkerPool(threads, site, kind);
    try {
      await pool.run(tasks, onResult);
    } finally {
      await pool.close();
    }
  }
  let links: NamespaceLink[] = [];
  let checked = records;
  const broken: string[] = [];
  if (opts.namespace !== false) {
    for (const root of namespaceRoots(layout)) {
      const problem = namespaceRootProblem(root);
      if (problem !== undefined) {
        // Not walked: its files would all look unlinked, which says nothing about them.
        broken.push(root);
        findings.push({ kind: 'unreadable', severity: 'error', path: root, reason: problem });
        continue;
      }
      const w = walkNamespace(root, layout.localroot);
      links = links.concat(w.links);
      findings.push(...w.findings);
      broken.push(...w.unreadable);
    }
    const c = checkNamespace({ records, links, disks: layout.disks, ...(layout.localroot !== undefined ? { localroot: layout.localroot } : {}) });
    checked = c.records;
    const unknown = (f: Finding): boolean => f.kind === 'data-without-symlink' && f.lfn !== undefined && broken.some((b) => isUnder((layout.localroot ?? '') + f.lfn, b));
    findings.push(...c.findings.filter((f) => !unknown(f)));
  }
  return {
    records: checked,
    findings,
    links,
    namespaceBlind: broken,
    disks: layout.disks.map((disk) => ({ disk, ...(perDisk.get(disk.diskId) ?? { buckets: 0, files: 0 }) })),
    elapsedMs: Date.now() - started,
  };
}
