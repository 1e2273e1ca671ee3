// Chooses how buckets are read: the native batched walker (in records mode: it builds the usual
// records itself) when the addon has it, else plain Node calls. 'native' insists (and fails
// clearly), 'js' forces the fallback.
import { readBucketJs } from './bucket-reader-js.js';
import { loadScanAddon } from './bucket-reader-native.js';
import type { BucketReader } from './bucket-scan.js';
import { nativeRecordReader } from './native-records.js';

export function pickBucketReader(kind: 'auto' | 'native' | 'js'): BucketReader {
  if (kind === 'js') return readBucketJs;
  const { addon, problem } = loadScanAddon();
  if (addon) return nativeRecordReader(addon);
  if (kind === 'native') {
    throw new Error(`the native bucket walker is not available (${problem}); build it with \`npm run build:native\`, or use reader "js"`);
  }
  return readBucketJs;
}
