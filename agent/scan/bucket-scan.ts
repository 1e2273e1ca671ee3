// Scans one bucket directory into records and findings: the unit of work a scan worker does.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import { readBucketJs, type BucketListing } from './bucket-reader-js.js';
import type { RecordStamp } from './raw-data-file.js';
import { buildRecord, type RecordContext } from './record-builder.js';

export interface BucketTask {
  readonly diskId: string;
  readonly space: string;
  readonly spacePath: string;
  /** `<space>/<XX>` relative to spacePath. */
  readonly bucketRel: string;
}

export interface BucketResult {
  readonly task: BucketTask;
  readonly records: ArchiveRecord[];
  readonly findings: Finding[];
  /** Directory entries seen (data files and anything else). */
  readonly entries: number;
  /** The bucket directory itself failed (errno code). */
  readonly error?: string;
}

export interface ScanSiteContext {
  readonly serverId: string;
  readonly localroot?: string;
  readonly exports: readonly string[];
}

/** Reads one bucket directory; `stamp` is for readers that build records themselves. */
export type BucketReader = (dir: string, stamp: RecordStamp) => BucketListing;

export function bucketDir(task: BucketTask): string {
  return `${task.spacePath}/${task.bucketRel}`;
}

export function recordStamp(task: BucketTask, site: ScanSiteContext): RecordStamp {
  const { serverId, exports, localroot } = site;
  const { diskId, space, bucketRel } = task;
  return localroot !== undefined ? { serverId, diskId, space, bucketRel, localroot, exports } : { serverId, diskId, space, bucketRel, exports };
}

export function scanBucket(task: BucketTask, site: ScanSiteContext, codec: ErasureCodec, reader: BucketReader = readBucketJs): BucketResult {
  return bucketResult(task, site, codec, reader(bucketDir(task), recordStamp(task, site)));
}

/** Records and findings of one bucket from what a reader returned. */
export function bucketResult(task: BucketTask, site: ScanSiteContext, codec: ErasureCodec, listing: BucketListing): BucketResult {
  const dir = bucketDir(task);
  // Records the reader built come first (the usual clean archives: no findings).
  const records: ArchiveRecord[] = listing.built ?? [];
  const findings: Finding[] = [];
  const entries = listing.files.length + records.length;
  if (listing.error) {
    findings.push({ kind: 'unreadable', severity: 'error', path: dir, diskId: task.diskId, reason: `cannot list bucket directory: ${listing.error}`, evidence: { errno: listing.error } });
    return { task, records, findings, entries: 0, error: listing.error };
  }
  const ctx: RecordContext = { serverId: site.serverId, diskId: task.diskId, space: task.space, spacePath: task.spacePath, exports: site.exports, codec, ...(site.localroot !== undefined ? { localroot: site.localroot } : {}) };
  for (const raw of listing.files) {
    if (raw.isFile && !raw.error && raw.name.endsWith('%')) {
      // A data file: the usual case first; everything else below becomes a finding.
      const built = buildRecord(raw, task.bucketRel, ctx);
      records.push(built.record);
      for (const f of built.findings) findings.push(f);
      continue;
    }
    const path = `${dir}/${raw.name}`;
    if (raw.error) {
      if (raw.error.code === 'ENOENT') {
        findings.push({ kind: 'vanished', severity: 'info', path, diskId: task.diskId, reason: `removed while being scanned (at ${raw.error.step})` });
      } else if (raw.error.code === 'EILSEQ') {
        findings.push({ kind: 'unexpected-entry', severity: 'warning', path, diskId: task.diskId, reason: 'file name is not valid UTF-8: not an xrootd data file, not opened' });
      } else if (raw.error.code === 'ELOOP') {
        findings.push({ kind: 'unexpected-entry', severity: 'warning', path, diskId: task.diskId, reason: 'a symlink where data files live: not followed' });
      } else {
        findings.push({ kind: 'unreadable', severity: 'error', path, diskId: task.diskId, reason: `${raw.error.step} failed: ${raw.error.code}`, evidence: { errno: raw.error.code, step: raw.error.step } });
      }
      continue;
    }
    if (!raw.isFile) {
      findings.push({ kind: 'unexpected-entry', severity: 'warning', path, diskId: task.diskId, reason: 'not a regular file where data files live' });
      continue;
    }
    if (!raw.name.endsWith('%')) {
      findings.push({ kind: 'unexpected-entry', severity: 'info', path, diskId: task.diskId, reason: 'file name does not end in % (not an xrootd data file)' });
    }
  }
  return { task, records, findings, entries };
}
