// How the Stripes service sends entries: ReadEntries (the server sends as fast as the transport
// takes them) and StreamEntries (the caller grants credit; an entry is sent only against credit,
// so one call can cover a whole archive while the caller holds a bounded window). Either way
// names are looked up in our own parse of the directory, never at offsets a caller gives.
import type { FileHandle } from 'node:fs/promises';
import type * as grpc from '@grpc/grpc-js';
import type { ArchiveRef } from '../../proto/gen/ecguard/v1/repair.js';
import type { EntryCredit, EntryData } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError } from '../../shared/errors.js';
import { readEntry, readZipDirectory } from '../../shared/xrdec/archive-io.js';
import type { ZipDirectory, ZipEntry } from '../../shared/xrdec/zip-directory.js';
import { openArchive, resolveArchiveRef } from './archive-ref.js';
import type { StripesContext } from './stripes-context.js';

export interface OpenedEntries {
  readonly fh: FileHandle;
  readonly dir: ZipDirectory;
  readonly wanted: readonly ZipEntry[];
}

/** Opens the archive and finds every named entry (UNKNOWN_ENTRY, ENTRY_TOO_LARGE otherwise); the caller closes fh. */
export async function openEntries(ctx: StripesContext, ref: ArchiveRef | undefined, names: readonly string[], maxMessage: number): Promise<OpenedEntries> {
  const r = resolveArchiveRef(ctx, ref);
  const fh = await openArchive(r);
  try {
    const dir = await readZipDirectory(fh);
    const byName = new Map(dir.entries.map((e) => [e.name, e]));
    const wanted = names.map((n) => {
      const e = byName.get(n);
      if (e === undefined) throw new EcguardError('UNKNOWN_ENTRY', `${r.dataPath} on disk ${r.disk.diskId} has no entry ${JSON.stringify(n.slice(0, 100))}`);
      if (e.size + 1024 > maxMessage) throw new EcguardError('ENTRY_TOO_LARGE', `entry ${e.name} (${e.size} bytes) does not fit a ${maxMessage}-byte message`);
      return e;
    });
    return { fh, dir, wanted };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

type Writable = grpc.ServerWritableStream<unknown, EntryData> | grpc.ServerDuplexStream<EntryCredit, EntryData>;

/** Writes `data`, waiting for the transport to drain when it says so. */
export async function writeEntry(call: Writable, e: ZipEntry, data: Buffer, signal: AbortSignal): Promise<void> {
  if (!call.write({ name: e.name, data })) await drained(call, signal);
}

/** Limits on a StreamEntries request (credit is counted in entries). */
const MAX_NAMES = 1 << 20;

/**
 * The first message of a StreamEntries call (it must carry the request), and a credit counter fed
 * by it and every later message. `waitCredit` resolves once an entry may be sent; false when the
 * caller finished its side with no credit left (nothing more will be sent).
 */
export function creditFeed(call: grpc.ServerDuplexStream<EntryCredit, EntryData>, signal: AbortSignal): { first: Promise<EntryCredit>; waitCredit(): Promise<boolean>; readonly credit: number; spend(): void } {
  let credit = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  let gotFirst: ((m: EntryCredit) => void) | undefined;
  let failFirst: ((e: Error) => void) | undefined;
  const first = new Promise<EntryCredit>((resolve, reject) => ((gotFirst = resolve), (failFirst = reject)));
  first.catch(() => undefined);
  call.on('data', (m: EntryCredit) => {
    if (gotFirst) {
      const g = gotFirst;
      gotFirst = undefined;
      if (m.request === undefined) return failFirst?.(new EcguardError('BAD_ENTRY_STREAM', 'the first message of StreamEntries must carry the request'));
      if (m.request.names.length > MAX_NAMES) return failFirst?.(new EcguardError('BAD_ENTRY_STREAM', `at most ${MAX_NAMES} entries per call`));
      g(m);
    }
    credit += m.entries;
    wake?.();
  });
  call.on('end', () => {
    ended = true;
    failFirst?.(new EcguardError('BAD_ENTRY_STREAM', 'StreamEntries ended before its request'));
    wake?.();
  });
  return {
    first,
    async waitCredit(): Promise<boolean> {
      while (credit <= 0) {
        if (ended) return false;
        if (signal.aborted) throw new EcguardError('CANCELLED', 'the caller cancelled');
        await new Promise<void>((resolve) => {
          const done = (): void => {
            wake = undefined;
            signal.removeEventListener('abort', done);
            resolve();
          };
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
      return true;
    },
    get credit() {
      return credit;
    },
    spend: () => void credit--,
  };
}

export interface CreditSending {
  readonly total: number;
  /** One of the service's read slots (waits for one). */
  slot(): Promise<() => void>;
  /** The archive and the entries (opened once, on first use). */
  open(): Promise<OpenedEntries>;
  sent(n: number): void;
}

/**
 * Sends the entries of one StreamEntries call against credit. A read slot is held only while
 * credit lasts, never while waiting for more: a caller that holds one peer's slot while it waits
 * for another peer's entries (or the same peer's other archive) must not block anyone for good.
 */
export async function sendWithCredit(call: grpc.ServerDuplexStream<EntryCredit, EntryData>, feed: ReturnType<typeof creditFeed>, signal: AbortSignal, o: CreditSending): Promise<void> {
  let i = 0;
  while (i < o.total) {
    if (!(await feed.waitCredit())) return;
    const release = await o.slot();
    try {
      const opened = await o.open();
      for (; i < opened.wanted.length && feed.credit > 0; i++) {
        if (signal.aborted) return;
        feed.spend();
        const e = opened.wanted[i] as ZipEntry;
        const data = await readEntry(opened.fh, opened.dir, e);
        o.sent(data.length);
        await writeEntry(call, e, data, signal);
      }
    } finally {
      release();
    }
  }
}

function drained(call: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const stop = (): void => {
      call.off('drain', done);
      reject(new EcguardError('CANCELLED', 'the caller cancelled'));
    };
    if (signal.aborted) return stop();
    call.on('drain', done);
    signal.addEventListener('abort', stop, { once: true });
  });
}
