// Where data files live on one oss.space disk: <path>/<space>/<XX>/ with XX two uppercase hex
// digits (XRDEC-FORMAT.md §A). Listing is cheap (≤ 256 directories per space).
import { readdirSync, statSync } from 'node:fs';
import type { Finding } from '../../shared/domain/archive-record.js';
import { errnoCode } from '../../shared/errors.js';

export interface DiskSpec {
  readonly diskId: string;
  /** Space name (oss.space NAME). */
  readonly space: string;
  /** The disk directory (oss.space PATH). */
  readonly path: string;
  /** oss.space … chkmount: the file that must exist for xrootd to use the disk. */
  readonly chkmount?: string;
}

const BUCKET_RE = /^[0-9A-F]{2}$/;

export interface BucketListingResult {
  readonly buckets: string[];
  readonly findings: Finding[];
  /** The space directory itself could not be read: errno code. */
  readonly error?: string;
}

export function listBuckets(disk: DiskSpec): BucketListingResult {
  const spaceDir = `${disk.path}/${disk.space}`;
  const findings: Finding[] = [];
  let names: string[];
  try {
    names = readdirSync(spaceDir);
  } catch (err) {
    const code = errnoCode(err) ?? 'EIO';
    // A space directory that does not exist yet on a fresh disk is normal: nothing stored.
    if (code === 'ENOENT') {
      try {
        statSync(disk.path);
        return { buckets: [], findings };
      } catch {
        /* the disk directory itself is gone: reported below */
      }
    }
    return { buckets: [], findings: [{ kind: 'unreadable', severity: 'error', path: spaceDir, diskId: disk.diskId, reason: `cannot list space directory: ${code}`, evidence: { errno: code } }], error: code };
  }
  const buckets: string[] = [];
  for (const n of names.sort()) {
    if (BUCKET_RE.test(n)) buckets.push(`${disk.space}/${n}`);
    else findings.push({ kind: 'unexpected-entry', severity: 'info', path: `${spaceDir}/${n}`, diskId: disk.diskId, reason: 'not a bucket directory (two uppercase hex digits)' });
  }
  return { buckets, findings };
}
