// Worker-thread entry: scans the buckets it is sent, with sync calls (cheaper than async here,
// see PERF-FACTS.md), and posts each bucket's result back, packed (record-pack.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { getCodec } from '../../shared/codec/index.js';
import { scanBucket, type BucketTask, type ScanSiteContext } from './bucket-scan.js';
import { pickBucketReader } from './bucket-reader.js';
import { packBucketResult, type WorkerReply } from './record-pack.js';

const site = (workerData as { site: ScanSiteContext; reader: 'auto' | 'native' | 'js' }).site;
const reader = pickBucketReader((workerData as { reader: 'auto' | 'native' | 'js' }).reader);
const codec = getCodec();

parentPort?.on('message', (task: BucketTask | null) => {
  if (task === null) {
    process.exit(0);
  }
  let reply: WorkerReply;
  try {
    reply = { ok: true, result: packBucketResult(scanBucket(task, site, codec, reader)) };
  } catch (err) {
    reply = { ok: false, task, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply, reply.ok ? [reply.result.nums.buffer as ArrayBuffer] : []);
});
