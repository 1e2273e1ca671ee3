// One StreamEntries call over many entries of a peer's archive, paced by credit: the peer may send
// `window` entries beyond those asked for with next(), never more, so the bytes in flight per call
// stay bounded however long the call runs. Each entry is checked for name and length as it
// arrives. No total deadline (a throttled read of a large archive takes long): a next() that gets
// no entry for `idleMs` fails the call instead.
import * as grpc from '@grpc/grpc-js';
import type { EntryData, StripesClient } from '../../proto/gen/ecguard/v1/stripes.js';
import type { EntryStream } from '../../shared/xrdec/rebuild/stripe-source.js';
import type { ZipEntry } from '../../shared/xrdec/zip-directory.js';
import { PeerError, peerError } from './peer-pool.js';

export interface EntryStreamCall {
  readonly client: StripesClient;
  readonly archive: { readonly diskId: string; readonly dataPath: string };
  readonly serverId: string;
  /** Names the archive in errors. */
  readonly id: string;
  readonly idleMs: number;
  /** Entries granted beyond those asked for (default 4). */
  readonly window?: number;
  /** Calls running, so the source's close() can cancel them. */
  readonly running: Set<grpc.Call>;
  onBytes?(n: number): void;
}

interface Waiter {
  resolve(b: Buffer): void;
  reject(e: Error): void;
}

export function remoteEntryStream(entries: readonly ZipEntry[], o: EntryStreamCall): EntryStream {
  if (entries.length === 0) return { next: () => Promise.reject(new Error('entry stream: next() past the last entry')), close: () => undefined };
  const window = Math.max(1, o.window ?? 4);
  const bad = (msg: string): PeerError => new PeerError('PEER_BAD_REPLY', `${o.id}: ${msg}`, o.serverId);
  const call = o.client.streamEntries();
  o.running.add(call);
  const arrived: Buffer[] = [];
  const waiters: Waiter[] = [];
  let received = 0;
  let asked = 0;
  let granted = 0;
  let failure: Error | undefined;
  let idle: NodeJS.Timeout | undefined;

  const armIdle = (): void => {
    clearTimeout(idle);
    idle = waiters.length > 0 && !failure ? setTimeout(() => fail(new PeerError('PEER_UNAVAILABLE', `${o.id}: StreamEntries sent nothing for ${o.idleMs} ms`, o.serverId, grpc.status.DEADLINE_EXCEEDED)), o.idleMs) : undefined;
  };
  const finish = (): void => {
    clearTimeout(idle);
    o.running.delete(call);
  };
  const fail = (err: Error): void => {
    if (failure) return;
    failure = err;
    finish();
    call.cancel();
    for (const w of waiters.splice(0)) w.reject(err);
  };
  const grant = (): void => {
    const want = Math.min(entries.length, asked + window);
    if (want <= granted || failure) return;
    const more = want - granted;
    granted = want;
    call.write(granted === more ? { request: { archive: o.archive, names: entries.map((e) => e.name) }, entries: more } : { entries: more });
    if (granted === entries.length) call.end(); // nothing more to grant: half-close
  };

  grant(); // the request, with a window's credit: the peer starts reading before anyone waits

  call.on('data', (d: EntryData) => {
    const want = entries[received];
    if (want === undefined || received >= granted) return fail(bad(`sent more than the ${granted} entries granted`));
    if (d.name !== want.name) return fail(bad(`sent entry ${JSON.stringify(d.name.slice(0, 100))} where ${want.name} was expected`));
    if (d.data.length !== want.size) return fail(bad(`sent ${d.data.length} bytes for ${want.name}, its directory says ${want.size}`));
    received++;
    o.onBytes?.(d.data.length);
    const w = waiters.shift();
    if (w) w.resolve(d.data);
    else arrived.push(d.data);
    armIdle();
  });
  call.on('error', (err) => fail(peerError(err, o.serverId, `StreamEntries ${o.archive.diskId}/${o.archive.dataPath}`)));
  call.on('end', () => {
    if (received < entries.length) fail(bad(`sent ${received} of ${entries.length} entries`));
    else finish();
  });

  return {
    next(): Promise<Buffer> {
      if (asked >= entries.length) return Promise.reject(new Error('entry stream: next() past the last entry'));
      asked++;
      grant();
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      if (failure) return Promise.reject(failure);
      return new Promise<Buffer>((resolve, reject) => {
        waiters.push({ resolve, reject });
        armIdle();
      });
    },
    close(): void {
      if (received < entries.length) fail(new PeerError('PEER_UNAVAILABLE', `${o.id}: entry stream closed`, o.serverId, grpc.status.CANCELLED));
      arrived.length = 0;
    },
  };
}
