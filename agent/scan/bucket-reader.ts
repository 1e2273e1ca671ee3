// Chooses how buckets are read: the native batched walker when the addon has it, else plain
// Node calls. 'native' insists (and fails clearly), 'js' forces the fallback.
import { readBucketJs } from './bucket-reader-js.js';
import type { BucketReader } from './bucket-scan.js';

export function pickBucketReader(kind: 'auto' | 'native' | 'js'): BucketReader {
  if (kind === 'native') throw new Error('the native bucket walker is not built yet; use reader "js"');
  return readBucketJs;
}
