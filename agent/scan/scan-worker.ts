// Worker-thread entry: scans the buckets it is sent, with sync calls (cheaper than async here,
// see PERF-FACTS.md), and posts each bucket's result back.
import { parentPort, workerData } from 'node:worker_threads';
import { getCodec } from '../../shared/codec/index.js';
import { scanBucket, type BucketTask, type ScanSiteContext } from './bucket-scan.js';
import { pickBucketReader } from './bucket-reader.js';

const site = (workerData as { site: ScanSiteContext; reader: 'auto' | 'native' | 'js' }).site;
const reader = pickBucketReader((workerData as { reader: 'auto' | 'native' | 'js' }).reader);
const codec = getCodec();

parentPort?.on('message', (task: BucketTask | null) => {
  if (task === null) {
    process.exit(0);
  }
  try {
    parentPort?.postMessage({ ok: true, result: scanBucket(task, site, codec, reader) });
  } catch (err) {
    parentPort?.postMessage({ ok: false, task, error: err instanceof Error ? err.message : String(err) });
  }
});
