// Scans buckets with the native walker on libuv's thread pool: `threads` buckets are walked at
// once off the main thread (the syscalls, and the usual records interpreted in C++), and each
// bucket's result is finished here as its walk completes (records of the usual archives are a
// few object literals; the rest go through record-builder.ts). No worker threads: nothing to
// start, nothing to clone, and the main thread stays responsive between buckets.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { ScanDirAddon } from './bucket-reader-native.js';
import type { BucketListing } from './bucket-reader-js.js';
import { bucketDir, bucketResult, recordStamp, type BucketResult, type BucketTask, type ScanSiteContext } from './bucket-scan.js';
import { decodeRecordsBuffer, listingError, walkBucketAsync } from './native-records.js';
import type { RecordStamp } from './raw-data-file.js';

interface Walk {
  readonly task: BucketTask;
  readonly stamp: RecordStamp;
  readonly raw: Promise<Buffer | BucketListing>;
}

export async function runNativeScan(
  addon: ScanDirAddon, tasks: readonly BucketTask[], site: ScanSiteContext, codec: ErasureCodec, threads: number,
  onResult: (r: BucketResult) => void,
): Promise<void> {
  let next = 0;
  const start = (): Walk | undefined => {
    if (next >= tasks.length) return undefined;
    const task = tasks[next++] as BucketTask;
    const stamp = recordStamp(task, site);
    return { task, stamp, raw: walkBucketAsync(addon, bucketDir(task), stamp).catch(listingError) };
  };
  // Each lane starts its next walk before decoding the one that finished, so its pool thread
  // never waits for the main thread; still `threads` walks at once (libuv runs at most
  // UV_THREADPOOL_SIZE, default 4, together).
  const lane = async (): Promise<void> => {
    for (let walk = start(); walk !== undefined;) {
      const raw = await walk.raw;
      const { task, stamp } = walk;
      walk = start();
      const listing = Buffer.isBuffer(raw) ? decodeRecordsBuffer(raw, stamp) : raw;
      onResult(bucketResult(task, site, codec, listing));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, threads) }, lane));
}
