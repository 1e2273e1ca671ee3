// Scans buckets with the native walker on `threads` threads of its own (native/src/
// scan-buckets.cc): they take bucket after bucket without waiting for the main thread (the
// syscalls, and the usual records interpreted in C++), and each bucket's result is finished
// here as it arrives (records of the usual archives are a few object literals; the rest go
// through record-builder.ts). No worker threads: nothing to start, nothing to clone, and the
// main thread stays responsive between buckets.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { ScanDirAddon } from './bucket-reader-native.js';
import { bucketDir, bucketResult, recordStamp, type BucketResult, type BucketTask, type ScanSiteContext } from './bucket-scan.js';
import { decodeRecordsBuffer, listingError, walkBuckets } from './native-records.js';

export async function runNativeScan(
  addon: ScanDirAddon, tasks: readonly BucketTask[], site: ScanSiteContext, codec: ErasureCodec, threads: number,
  onResult: (r: BucketResult) => void,
): Promise<void> {
  if (tasks.length === 0) return;
  const mode = site.localroot !== undefined ? { localroot: site.localroot, exports: site.exports } : { exports: site.exports };
  // onResult throwing stops the walkers and rejects with what it threw.
  await walkBuckets(addon, tasks.map(bucketDir), mode, Math.max(1, threads), (i, raw, error) => {
    const task = tasks[i] as BucketTask;
    const stamp = recordStamp(task, site);
    const listing = raw !== null ? decodeRecordsBuffer(raw, stamp) : listingError(error);
    onResult(bucketResult(task, site, codec, listing));
  });
}
