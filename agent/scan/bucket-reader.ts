// Chooses how buckets are read: the native batched walker when the addon has it, else plain
// Node calls. 'native' insists (and fails clearly), 'js' forces the fallback.
import { readBucketJs } from './bucket-reader-js.js';
import { loadScanAddon, nativeBucketReader } from './bucket-reader-native.js';
import type { BucketReader } from './bucket-scan.js';

export function pickBucketReader(kind: 'auto' | 'native' | 'js'): BucketReader {
  if (kind === 'js') return readBucketJs;
  const { addon, problem } = loadScanAddon();
  if (addon) return nativeBucketReader(addon);
  if (kind === 'native') {
    throw new Error(`the native bucket walker is not available (${problem}); build it with \`npm run build:native\`, or use reader "js"`);
  }
  return readBucketJs;
}
