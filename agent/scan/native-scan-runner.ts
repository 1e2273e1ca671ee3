// Scans buckets with the native walker on libuv's thread pool: `threads` buckets are walked at
// once off the main thread (the syscalls, and the usual records interpreted in C++), and each
// bucket's result is finished here as its walk completes (records of the usual archives are a
// few object literals; the rest go through record-builder.ts). No worker threads: nothing to
// start, nothing to clone, and the main thread stays responsive between buckets.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { ScanDirAddon } from './bucket-reader-native.js';
import { bucketDir, bucketResult, recordStamp, type BucketResult, type BucketTask, type ScanSiteContext } from './bucket-scan.js';
import { readBucketRecordsAsync } from './native-records.js';

export async function runNativeScan(
  addon: ScanDirAddon, tasks: readonly BucketTask[], site: ScanSiteContext, codec: ErasureCodec, threads: number,
  onResult: (r: BucketResult) => void,
): Promise<void> {
  let next = 0;
  // libuv runs at most UV_THREADPOOL_SIZE (default 4) of these at once.
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++] as BucketTask;
      const listing = await readBucketRecordsAsync(addon, bucketDir(task), recordStamp(task, site));
      onResult(bucketResult(task, site, codec, listing));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, threads) }, lane));
}
