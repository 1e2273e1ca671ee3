// The order a scrub visits a disk's data files in: buckets by name, files by name within a
// bucket (both sorted, so a saved cursor means the same place after a restart). Listing one
// bucket at a time keeps memory bounded by the largest bucket's names.
import { lstat, readdir } from 'node:fs/promises';
import { errnoCode } from '../../shared/errors.js';
import { listBuckets, type DiskSpec } from '../scan/disk-layout.js';

/** Where a scrub is: after this data file of this disk (bucket is <space>/<XX>). */
export interface ScrubCursor {
  readonly diskId: string;
  readonly bucket: string;
  readonly name: string;
}

export interface ScrubTarget {
  readonly diskId: string;
  readonly bucket: string;
  readonly name: string;
  /** Relative to the disk: <space>/<XX>/<name>. */
  readonly dataPath: string;
  readonly path: string;
  readonly size: number;
}

export interface WalkProblem {
  readonly diskId: string;
  readonly path: string;
  readonly code: string;
}

/**
 * Regular files in the disk's buckets, in cursor order, after `after` when it names this disk.
 * Directories that cannot be listed and files that vanish are passed to `onProblem` and skipped.
 */
export async function* scrubTargets(disk: DiskSpec, after: ScrubCursor | undefined, onProblem: (p: WalkProblem) => void): AsyncGenerator<ScrubTarget> {
  const from = after?.diskId === disk.diskId ? after : undefined;
  const listing = listBuckets(disk);
  if (listing.error) onProblem({ diskId: disk.diskId, path: `${disk.path}/${disk.space}`, code: listing.error });
  for (const bucket of listing.buckets) {
    if (from && bucket < from.bucket) continue;
    const dir = `${disk.path}/${bucket}`;
    let names: string[];
    try {
      // a bucket swapped for a symlink would lead the scrub off the disk
      if (!(await lstat(dir)).isDirectory()) continue;
      names = (await readdir(dir)).sort();
    } catch (err) {
      onProblem({ diskId: disk.diskId, path: dir, code: errnoCode(err) ?? 'EIO' });
      continue;
    }
    for (const name of names) {
      if (from && bucket === from.bucket && name <= from.name) continue;
      if (!name.endsWith('%')) continue; // xrootd's data files; anything else is the scan's to report
      const path = `${dir}/${name}`;
      let size: number;
      try {
        const st = await lstat(path);
        if (!st.isFile()) continue; // the scan reports what else is there
        size = st.size;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') onProblem({ diskId: disk.diskId, path, code: errnoCode(err) ?? 'EIO' });
        continue;
      }
      yield { diskId: disk.diskId, bucket, name, dataPath: `${bucket}/${name}`, path, size };
    }
  }
}
