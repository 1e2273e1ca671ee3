// A fixed pool of scan worker threads fed bucket by bucket (work stealing by pull: a worker gets
// the next bucket when it posts its last result). size 0 scans in the calling thread.
import { Worker } from 'node:worker_threads';
import { getCodec } from '../../shared/codec/index.js';
import { EcguardError } from '../../shared/errors.js';
import { scanBucket, type BucketResult, type BucketTask, type ScanSiteContext } from './bucket-scan.js';
import { pickBucketReader } from './bucket-reader.js';

type ReaderKind = 'auto' | 'native' | 'js';

export class BucketWorkerPool {
  private readonly workers: Worker[] = [];

  constructor(private readonly size: number, private readonly site: ScanSiteContext, private readonly reader: ReaderKind = 'auto') {
    for (let i = 0; i < size; i++) {
      this.workers.push(new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: { site, reader } }));
    }
  }

  /** Scans every task; results arrive through onResult in completion order. */
  async run(tasks: readonly BucketTask[], onResult: (r: BucketResult) => void): Promise<void> {
    if (this.size === 0) {
      const codec = getCodec();
      const reader = pickBucketReader(this.reader);
      for (const t of tasks) {
        onResult(scanBucket(t, this.site, codec, reader));
        // let timers and I/O (progress, heartbeats) run between buckets
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    let next = 0;
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve, reject) => {
      const feed = (): void => {
        if (next >= tasks.length) {
          w.off('message', onMessage);
          w.off('error', onError);
          resolve();
          return;
        }
        w.postMessage(tasks[next++]);
      };
      const onMessage = (m: { ok: boolean; result?: BucketResult; task?: BucketTask; error?: string }): void => {
        if (m.ok && m.result) onResult(m.result);
        else reject(new EcguardError('SCAN_WORKER', `scan worker failed on ${m.task?.spacePath}/${m.task?.bucketRel}: ${m.error}`));
        feed();
      };
      const onError = (err: Error): void => reject(new EcguardError('SCAN_WORKER', `scan worker crashed: ${err.message}`, { cause: err }));
      w.on('message', onMessage);
      w.on('error', onError);
      feed();
    })));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
