// A task's view of a source: every entry waits for the agent's token bucket before it is asked
// for, the task's cancellation stops further reads, and the bytes read are counted. For an entry
// stream the bucket paces the asks, and so the credit the peer gets (bytes in flight beyond what
// the bucket let through stay within the stream's window).
import { EcguardError } from '../../shared/errors.js';
import type { TokenBucket } from '../../shared/throttle/token-bucket.js';
import type { EntryStream, StripeSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import type { ZipEntry } from '../../shared/xrdec/zip-directory.js';

export interface ReadCounter {
  bytesRead: number;
}

export function metered(src: StripeSource, bucket: TokenBucket, c: ReadCounter, signal: AbortSignal): StripeSource {
  const check = (): void => {
    if (signal.aborted) throw new EcguardError('CANCELLED', `task cancelled: ${String(signal.reason)}`);
  };
  const open = src.openEntryStream?.bind(src);
  return {
    id: src.id,
    directory: () => src.directory(),
    xattrs: () => src.xattrs(),
    async readEntry(entry: ZipEntry): Promise<Buffer> {
      check();
      await bucket.take(entry.size);
      const data = await src.readEntry(entry);
      c.bytesRead += data.length;
      return data;
    },
    ...(open ? { openEntryStream: (entries: readonly ZipEntry[]) => meteredStream(open(entries), entries, bucket, c, check) } : {}),
  };
}

function meteredStream(inner: EntryStream, entries: readonly ZipEntry[], bucket: TokenBucket, c: ReadCounter, check: () => void): EntryStream {
  let asked = 0;
  // Asks reach `inner` in order even though each first waits for the bucket.
  let turn: Promise<unknown> = Promise.resolve();
  return {
    next(): Promise<Buffer> {
      const size = entries[asked++]?.size ?? 0;
      const got = turn.then(() => bucket.take(size)).then(() => {
        check();
        return inner.next();
      });
      turn = got.catch(() => undefined);
      return got.then((data) => {
        c.bytesRead += data.length;
        return data;
      });
    },
    close: () => inner.close(),
  };
}
