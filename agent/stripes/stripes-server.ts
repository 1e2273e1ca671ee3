// The agent's Stripes gRPC service: repairing peers read directories and entries of archives
// on this server's disks, and place rebuilt archives here. Only other agents may call it (server
// certificates); every reference is checked by archive-ref.ts, entries are looked up in our own
// parse of the directory (never at offsets a caller gives), and at most `maxStreams` entry
// streams read the disks at once (extra calls wait, they are not refused).
import * as grpc from '@grpc/grpc-js';
import { type EntryCredit, type EntryData, type PlaceChunk, type PlaceReply, type ReadEntriesRequest, type StripesServer as StripesHandlers } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError } from '../../shared/errors.js';
import { bindWithWideWindows } from '../../shared/grpc/receive-window.js';
import { getLogger } from '../../shared/logger.js';
import { insecureWarning, isLoopbackAddress, peerIdentity, serverCredentials, type TlsFiles } from '../../shared/tls/tls-identity.js';
import { readEntry } from '../../shared/xrdec/archive-io.js';
import { readArchiveTail, readMetadataBytes, resolveArchiveRef, toServiceError } from './archive-ref.js';
import { creditFeed, openEntries, sendWithCredit, writeEntry, type OpenedEntries } from './entry-serving.js';
import { keptToWire, localPlacementProgress } from './placement-progress.js';
import { localPlacementSink, type PlacementSink } from './placement-sink.js';
import { placeMetadataCopy } from '../repair/metadata-copy.js';
import { dosStampFromWire, headerFromWire, placedToWire } from './placement-wire.js';
import { Semaphore } from './semaphore.js';
import { FastStripesService } from './stripes-service.js';
import type { StripesContext } from './stripes-context.js';

export interface StripesServerOptions {
  /** host:port (port 0: any free port). */
  readonly listen: string;
  readonly tls?: TlsFiles;
  /** No TLS, loopback only; says so loudly. */
  readonly insecure?: boolean;
  /** ReadEntries and StreamEntries calls reading at once (default 4). */
  readonly maxStreams?: number;
  readonly maxMessageBytes?: number;
}

export interface StripesStats {
  /** Entry calls holding a stream slot now, the most ever, and those waiting for one. */
  readonly activeReads: number;
  readonly peakReads: number;
  readonly waitingReads: number;
  readonly bytesServed: number;
  readonly placements: number;
  readonly alreadyPlaced: number;
  /** Calls refused for the caller's identity (not a server certificate). */
  readonly refused: number;
  /** Calls that ended with another error. */
  readonly failed: number;
}

const log = getLogger('stripes');

type AnyCall = Parameters<typeof peerIdentity>[0];

export class StripesServer {
  private server: grpc.Server | undefined;
  private readonly streams: Semaphore;
  private readonly maxMessage: number;
  private counts = { peakReads: 0, bytesServed: 0, placements: 0, alreadyPlaced: 0, refused: 0, failed: 0 };

  constructor(readonly ctx: StripesContext, private readonly o: StripesServerOptions) {
    this.streams = new Semaphore(o.maxStreams ?? 4);
    this.maxMessage = o.maxMessageBytes ?? 16 * 1024 * 1024;
  }

  async start(): Promise<number> {
    if (!this.o.insecure && !this.o.tls) throw new EcguardError('TLS_REQUIRED', 'the Stripes service needs TLS files (made by deploy/make-certs.sh) or insecure mode on loopback');
    const host = this.o.listen.slice(0, this.o.listen.lastIndexOf(':'));
    if (this.o.insecure) {
      if (!isLoopbackAddress(host)) throw new EcguardError('INSECURE_NON_LOOPBACK', `insecure mode only listens on loopback, not ${host}`);
      log.warn(insecureWarning('agent Stripes service'));
    }
    const max = this.maxMessage;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max, 'grpc.keepalive_time_ms': 30_000 });
    server.addService(FastStripesService, this.handlers());
    const creds = this.o.insecure ? grpc.ServerCredentials.createInsecure() : serverCredentials(this.o.tls as TlsFiles);
    // Holders receive whole rebuilt archives through PlaceArchive: 64 KiB windows throttled them.
    const port = await bindWithWideWindows(server, () => new Promise<number>((resolve, reject) =>
      server.bindAsync(this.o.listen, creds, (err, p) => (err ? reject(new EcguardError('LISTEN', `cannot listen on ${this.o.listen}: ${err.message}`, { cause: err })) : resolve(p))),
    ), (m) => log.warn(m));
    this.server = server;
    log.info(`Stripes service of ${this.ctx.serverId} on ${host}:${port} (${this.o.insecure ? 'INSECURE' : 'mTLS'}), ${this.streams.limit} read streams`);
    return port;
  }

  /** Lets running calls finish for up to `graceMs`, then cuts them (their placements are aborted). */
  async stop(graceMs = 2000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    server.forceShutdown();
  }

  setMaxStreams(n: number): void {
    this.streams.setLimit(n);
  }

  get stats(): StripesStats {
    return { ...this.counts, activeReads: this.streams.active, waitingReads: this.streams.waiting };
  }

  private handlers(): StripesHandlers {
    return {
      readDirectory: (call, cb) => {
        if (this.refuse(call, (e) => cb(e))) return;
        Promise.resolve().then(() => readArchiveTail(resolveArchiveRef(this.ctx, call.request))).then((t) => cb(null, t), (err: unknown) => cb(this.failed('ReadDirectory', err)));
      },
      readEntries: (call) => {
        if (this.refuse(call, (e) => call.emit('error', e))) return;
        const ac = new AbortController();
        call.on('cancelled', () => ac.abort());
        this.serveEntries(call, ac.signal).then(() => call.end(), (err: unknown) => {
          if (!ac.signal.aborted) call.emit('error', this.failed('ReadEntries', err));
        });
      },
      streamEntries: (call) => {
        if (this.refuse(call, (e) => call.emit('error', e))) return;
        const ac = new AbortController();
        call.on('cancelled', () => ac.abort());
        this.serveEntryStream(call, ac.signal).then(() => call.end(), (err: unknown) => {
          if (!ac.signal.aborted) call.emit('error', this.failed('StreamEntries', err));
        });
      },
      placeArchive: (call, cb) => {
        if (this.refuse(call, (e) => cb(e))) return;
        this.place(call).then((r) => cb(null, r), (err: unknown) => cb(this.failed('PlaceArchive', err)));
      },
      readMetadata: (call, cb) => {
        if (this.refuse(call, (e) => cb(e))) return;
        Promise.resolve().then(() => readMetadataBytes(resolveArchiveRef(this.ctx, call.request))).then((t) => cb(null, t), (err: unknown) => cb(this.failed('ReadMetadata', err)));
      },
      placeMetadata: (call, cb) => {
        if (this.refuse(call, (e) => cb(e))) return;
        Promise.resolve().then(() => {
          const r = call.request;
          if (!r.lfn.startsWith('/') || r.lfn.includes('\0') || r.lfn.split('/').some((x) => x === '..' || x === '.')) throw new EcguardError('BAD_PLACE_STREAM', `malformed LFN ${JSON.stringify(r.lfn.slice(0, 200))}`);
          const placed = placeMetadataCopy(this.ctx, {
            taskId: r.taskId, slot: r.slot, diskId: r.diskId, lfn: r.lfn, bytes: Buffer.from(r.data), lostOnDisk: r.lostOnDisk,
            version: { strpverText: r.strpverText, filesizeText: r.filesizeText },
          });
          const disk = this.ctx.disk(r.diskId);
          return { slot: r.slot, serverId: this.ctx.serverId, diskId: r.diskId, dataPath: disk && placed.path.startsWith(`${disk.path}/`) ? placed.path.slice(disk.path.length + 1) : placed.path, size: r.data.length, linked: placed.linked };
        }).then((t) => cb(null, t), (err: unknown) => cb(this.failed('PlaceMetadata', err)));
      },
      placementProgress: (call, cb) => {
        if (this.refuse(call, (e) => cb(e))) return;
        Promise.resolve().then(() => keptToWire(localPlacementProgress(this.ctx, headerFromWire(call.request)))).then((r) => cb(null, r), (err: unknown) => cb(this.failed('PlacementProgress', err)));
      },
    };
  }

  // Another agent only: an admin (or any other) certificate gets PERMISSION_DENIED.
  private refuse(call: AnyCall, send: (e: ReturnType<typeof toServiceError>) => void): boolean {
    if (this.o.insecure) return false;
    const peer = peerIdentity(call);
    if (peer?.kind === 'server') return false;
    this.counts.refused++;
    const who = peer ? `${peer.kind} ${peer.id || peer.subject}` : 'no certificate';
    log.warn(`Stripes call refused: the caller presented ${who}, not a server certificate`);
    send(toServiceError(new EcguardError('PERMISSION', `the Stripes service serves other ecguard agents only (server certificates); the caller presented ${who}`)));
    return true;
  }

  private failed(what: string, err: unknown): ReturnType<typeof toServiceError> {
    this.counts.failed++;
    const e = toServiceError(err);
    if (e.code === grpc.status.CANCELLED) log.info(`${what} cancelled by the caller: ${e.details}`);
    else log.warn(`${what} failed: ${e.details}`);
    return e;
  }

  private async serveEntries(call: grpc.ServerWritableStream<ReadEntriesRequest, EntryData>, signal: AbortSignal): Promise<void> {
    const names = call.request.names;
    resolveArchiveRef(this.ctx, call.request.archive); // a bad ref fails before waiting for a slot
    if (names.length === 0) return;
    await this.withStream(signal, async () => {
      const o = await openEntries(this.ctx, call.request.archive, names, this.maxMessage);
      try {
        for (const e of o.wanted) {
          if (signal.aborted) return;
          const data = await readEntry(o.fh, o.dir, e);
          this.counts.bytesServed += data.length;
          await writeEntry(call, e, data, signal);
        }
      } finally {
        await o.fh.close().catch(() => undefined);
      }
    });
  }

  private async serveEntryStream(call: grpc.ServerDuplexStream<EntryCredit, EntryData>, signal: AbortSignal): Promise<void> {
    const feed = creditFeed(call, signal);
    const req = (await feed.first).request as ReadEntriesRequest;
    resolveArchiveRef(this.ctx, req.archive);
    if (req.names.length === 0) return;
    let opened: Promise<OpenedEntries> | undefined;
    try {
      await sendWithCredit(call, feed, signal, {
        total: req.names.length,
        slot: () => this.slot(signal),
        open: () => (opened ??= openEntries(this.ctx, req.archive, req.names, this.maxMessage)),
        sent: (n) => (this.counts.bytesServed += n),
      });
    } finally {
      await opened?.then((o) => o.fh.close()).catch(() => undefined);
    }
  }

  private async slot(signal: AbortSignal): Promise<() => void> {
    const release = await this.streams.acquire(signal);
    this.counts.peakReads = Math.max(this.counts.peakReads, this.streams.active);
    return release;
  }

  /** Holds one of the `maxStreams` read slots while `fn` runs (waits for one first). */
  private async withStream(signal: AbortSignal, fn: () => Promise<void>): Promise<void> {
    const release = await this.slot(signal);
    try {
      await fn();
    } finally {
      release();
    }
  }

  private async place(call: grpc.ServerReadableStream<PlaceChunk, PlaceReply>): Promise<PlaceReply> {
    const ac = new AbortController();
    call.on('cancelled', () => ac.abort());
    let sink: PlacementSink | undefined;
    // A stream that breaks (the sender died, was cancelled, lost its network) keeps the partial
    // archive for a retry to resume; an explicit abort or a bad stream drops it.
    let keep = false;
    let dropped = false;
    try {
      for await (const chunk of untilAborted(call as AsyncIterable<PlaceChunk>, ac.signal)) {
        const m = chunk.msg;
        if (sink === undefined) {
          if (m?.$case !== 'header') throw new EcguardError('BAD_PLACE_STREAM', 'the first message of PlaceArchive must be the header');
          sink = localPlacementSink(this.ctx, headerFromWire(m.value));
          const before = sink.alreadyPlaced;
          if (before) {
            // Answer now: the sender stops streaming; whatever it still sends is dropped unread.
            this.counts.alreadyPlaced++;
            return { placed: placedToWire(before), alreadyPlaced: true };
          }
        } else if (m?.$case === 'entry') {
          const time = dosStampFromWire(m.value.dosStamp);
          await sink.append({ name: m.value.name, data: m.value.data, crc: m.value.crc, ...(time ? { time } : {}) });
        } else if (m?.$case === 'abort') {
          dropped = true;
          throw new EcguardError('CANCELLED', 'the sender aborted the placement: temp file removed');
        } else if (m?.$case === 'commit') {
          const p = await sink.commit();
          this.counts.placements++;
          log.info(`placed ${p.dataPath} on ${p.diskId} (slot ${p.slot}, ${p.size} bytes${p.linked ? '' : ', NOT linked'})`);
          return { placed: placedToWire(p), alreadyPlaced: false };
        } else {
          throw new EcguardError('BAD_PLACE_STREAM', m?.$case === 'header' ? 'a second header' : 'an empty message');
        }
      }
      // A cancel shows up as the end of the stream a few ms before 'cancelled': tell them apart.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ac.signal.aborted ? 0 : 100);
        ac.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      keep = true;
      throw new EcguardError(ac.signal.aborted ? 'CANCELLED' : 'BAD_PLACE_STREAM', 'the stream ended without commit: nothing placed (what arrived is kept for a retry)');
    } catch (err) {
      if (ac.signal.aborted && !dropped) keep = true;
      throw err;
    } finally {
      if (keep) sink?.suspend();
      else sink?.abort(); // removes the temp file unless published
    }
  }
}

/** Iterates a call's messages; a cancelled call (which never ends) throws CANCELLED instead of hanging. */
async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new EcguardError('CANCELLED', 'the caller cancelled the stream'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    while (true) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await it.return?.().catch(() => undefined);
  }
}
