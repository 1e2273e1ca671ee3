// A StripeSource over a peer's Stripes service. The peer's tail bytes go through the same
// bounded parser as a local file's, and every entry it sends is checked for name and length,
// so a broken or hostile peer yields errors, never bytes that look valid (CRCs are the
// caller's check, as for local sources).
import * as grpc from '@grpc/grpc-js';
import type { ArchiveTail, EntryData, StripesClient } from '../../proto/gen/ecguard/v1/stripes.js';
import { runOnBytes } from '../../shared/xrdec/archive-io.js';
import type { EntryStream, StripeSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { interpretEcXattrs, type EcXattrs } from '../../shared/xrdec/xattrs.js';
import { parseZipDirectory, type ZipDirectory, type ZipEntry } from '../../shared/xrdec/zip-directory.js';
import { PeerError, peerError } from './peer-pool.js';
import { remoteEntryStream } from './remote-entry-stream.js';

export interface RemoteArchive {
  readonly serverId: string;
  readonly diskId: string;
  /** Relative to the disk: <space>/<XX>/<name>%. */
  readonly dataPath: string;
}

export interface RemoteSourceOptions {
  /** Called with the size of every entry received (throughput, metrics). */
  onBytes?(n: number): void;
  /** Per call (default 60 s); for an entry stream, the longest wait for its next entry. */
  readonly deadlineMs?: number;
  /** Entries an entry stream may have in flight beyond those asked for (default 4). */
  readonly streamWindow?: number;
}

export interface RemoteArchiveSource extends StripeSource {
  /** Several entries of directory() in one call, in the given order. */
  readEntries(entries: readonly ZipEntry[]): Promise<Buffer[]>;
  openEntryStream(entries: readonly ZipEntry[]): EntryStream;
  /** Cancels calls still running and forgets the cached directory. */
  close(): Promise<void>;
}

const DEFAULT_DEADLINE_MS = 60_000;

export function remoteArchiveSource(client: StripesClient, ref: RemoteArchive, o: RemoteSourceOptions = {}): RemoteArchiveSource {
  const id = `${ref.serverId}:${ref.diskId}/${ref.dataPath}`;
  const archive = { diskId: ref.diskId, dataPath: ref.dataPath };
  const running = new Set<grpc.Call>();
  const deadline = (): Date => new Date(Date.now() + (o.deadlineMs ?? DEFAULT_DEADLINE_MS));
  const bad = (msg: string): PeerError => new PeerError('PEER_BAD_REPLY', `${id}: ${msg}`, ref.serverId);
  let reply: Promise<{ dir: ZipDirectory; xattrs: EcXattrs }> | undefined;

  const fetchTail = (): Promise<{ dir: ZipDirectory; xattrs: EcXattrs }> =>
    new Promise<ArchiveTail>((resolve, reject) => {
      const call = client.readDirectory(archive, new grpc.Metadata(), { deadline: deadline() }, (err, res) => {
        running.delete(call);
        if (err) reject(peerError(err, ref.serverId, `ReadDirectory ${ref.diskId}/${ref.dataPath}`));
        else resolve(res);
      });
      running.add(call);
    }).then((t) => {
      const { fileSize, offset, tail } = t;
      if (offset > fileSize || offset + tail.length !== fileSize) {
        throw bad(`tail of ${tail.length} bytes at ${offset} does not end at the file size ${fileSize}`);
      }
      const dir = runOnBytes(parseZipDirectory(fileSize), tail, offset);
      const xattrs = interpretEcXattrs((name) => (Object.hasOwn(t.xattrs, name) ? t.xattrs[name] : undefined));
      return { dir, xattrs };
    });

  // One ReadDirectory for both; a failure is not cached, so a later call may try again.
  const tailInfo = (): Promise<{ dir: ZipDirectory; xattrs: EcXattrs }> => {
    const p = (reply ??= fetchTail());
    p.catch(() => {
      if (reply === p) reply = undefined;
    });
    return p;
  };

  const readEntries = (entries: readonly ZipEntry[]): Promise<Buffer[]> => {
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise<Buffer[]>((resolve, reject) => {
      const out: Buffer[] = [];
      const call = client.readEntries({ archive, names: entries.map((e) => e.name) }, { deadline: deadline() });
      running.add(call);
      let failed = false;
      const fail = (err: Error): void => {
        if (failed) return;
        failed = true;
        running.delete(call);
        call.cancel();
        reject(err);
      };
      call.on('data', (d: EntryData) => {
        const want = entries[out.length];
        if (want === undefined) return fail(bad(`sent more than the ${entries.length} entries asked for`));
        if (d.name !== want.name) return fail(bad(`sent entry ${JSON.stringify(d.name.slice(0, 100))} where ${want.name} was expected`));
        if (d.data.length !== want.size) return fail(bad(`sent ${d.data.length} bytes for ${want.name}, its directory says ${want.size}`));
        out.push(d.data);
        o.onBytes?.(d.data.length);
      });
      call.on('error', (err) => fail(peerError(err, ref.serverId, `ReadEntries ${ref.diskId}/${ref.dataPath}`)));
      call.on('end', () => {
        if (failed) return;
        running.delete(call);
        if (out.length !== entries.length) fail(bad(`sent ${out.length} of ${entries.length} entries`));
        else resolve(out);
      });
    });
  };

  return {
    id,
    directory: async () => (await tailInfo()).dir,
    xattrs: async () => (await tailInfo()).xattrs,
    async readEntry(entry: ZipEntry): Promise<Buffer> {
      return (await readEntries([entry]))[0] as Buffer;
    },
    readEntries,
    openEntryStream: (entries: readonly ZipEntry[]): EntryStream =>
      remoteEntryStream(entries, {
        client, archive, serverId: ref.serverId, id, idleMs: o.deadlineMs ?? DEFAULT_DEADLINE_MS, running,
        ...(o.streamWindow !== undefined ? { window: o.streamWindow } : {}), ...(o.onBytes ? { onBytes: o.onBytes } : {}),
      }),
    async close(): Promise<void> {
      for (const c of running) c.cancel();
      running.clear();
      reply = undefined;
    },
  };
}
