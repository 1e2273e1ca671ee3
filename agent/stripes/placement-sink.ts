// Where a repair writes one rebuilt archive: on this server (localPlacementSink, also what the
// PlaceArchive handler runs) or on a peer (remotePlacementSink, the PlaceArchive client stream).
// Either way the holder verifies the sealed archive before publishing it, and a (task, slot)
// placed before is reported instead of written twice.
import { readlinkSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { PlaceChunk, PlaceReply, StripesClient } from '../../proto/gen/ecguard/v1/stripes.js';
import type { PlacedInfo, PlacementHeader } from './placement-types.js';
import { dosStampToWire, headerToWire } from './placement-wire.js';
import type { DosTime } from '../../shared/xrdec/zip-layout.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { parseEntryName } from '../../shared/xrdec/entry-name.js';
import { AlreadyPlaced, ArchivePlacement, replaceIntoNow, type PlaceTarget } from '../repair/archive-placer.js';
import { createNamespaceLink } from '../repair/namespace-link.js';
import { findPlaced, type PlacedRecord } from '../repair/placement-ledger.js';
import { verifyArchive } from '../repair/verify-archive.js';
import { usableDisk } from './archive-ref.js';
import { linkTakeover } from './link-takeover.js';
import { PeerError, peerError } from './peer-pool.js';
import type { StripesContext, StripesDisk } from './stripes-context.js';

export type { PlacedInfo, PlacementHeader } from './placement-types.js';

export interface PlacementSink {
  append(e: { readonly name: string; readonly data: Buffer; readonly crc: number; readonly time?: DosTime | undefined }): Promise<void>;
  /** Verifies, publishes and links; the sink is finished afterwards (also when it throws). */
  commit(): Promise<PlacedInfo>;
  /** Drops whatever was written (nothing stays); harmless after commit. */
  abort(): void;
  /** Stops but keeps what was written, for a retry of the task to resume; harmless after commit. */
  suspend(): void;
  /** Set as soon as the holder reports an earlier placement: append does nothing, commit returns it. */
  readonly alreadyPlaced: PlacedInfo | undefined;
}

const log = getLogger('stripes');
const closed = (): EcguardError => new EcguardError('PLACEMENT_CLOSED', 'the placement was committed or aborted');

/** Writes on one of this server's disks (must be online). Throws before writing anything when the header is unusable. */
export function localPlacementSink(ctx: StripesContext, h: PlacementHeader): PlacementSink {
  if (!Number.isSafeInteger(h.expectedEntries) || h.expectedEntries < 0) throw new EcguardError('BAD_PLACE_STREAM', `expected entries must be a count, got ${h.expectedEntries}`);
  const resume = h.resumeEntries ?? 0;
  if (!Number.isSafeInteger(resume) || resume < 0 || resume > h.expectedEntries) throw new EcguardError('BAD_PLACE_STREAM', `resume entries must be a count up to ${h.expectedEntries}, got ${resume}`);
  const disk = usableDisk(ctx, h.diskId, false);
  const ns = ctx.linkFor(h.lfn);
  const target: PlaceTarget = {
    diskPath: disk.path, space: disk.space, linkPath: ns.linkPath, namespaceRoot: ns.namespaceRoot, taskId: h.taskId, slot: h.slot,
    version: { strpverText: h.strpverText, filesizeText: h.filesizeText }, xattrNamespace: h.xattrNamespace,
    ...(ctx.xrootdServer ? { server: ctx.xrootdServer } : {}),
    ...linkTakeover(ctx, h, ns.linkPath),
    ...(h.directoryDigest ? { directoryDigest: h.directoryDigest } : {}),
  };
  const info = (path: string, size: number, linked: boolean, alreadyPlaced: boolean): PlacedInfo =>
    ({ slot: h.slot, serverId: ctx.serverId, diskId: disk.diskId, dataPath: relative(disk.path, path), size, linked, alreadyPlaced });
  const placedSink = (rec: PlacedRecord): PlacementSink => {
    const b = placedBefore(target, rec, disk);
    const i = info(b.path, b.size, b.linked, true);
    return { alreadyPlaced: i, append: async () => undefined, commit: async () => i, abort: () => undefined, suspend: () => undefined };
  };
  // A retry finds its archive even when the disk was downgraded since; new ones need it online.
  const rec = findPlaced(disk.path, h.taskId, h.slot);
  if (rec) return placedSink(rec);
  usableDisk(ctx, h.diskId, true);
  let placement: ArchivePlacement;
  try {
    placement = ArchivePlacement.open(target, resume > 0 ? { entries: resume, codec: ctx.codec, ...(h.crcKind ? { crcKind: h.crcKind } : {}) } : undefined);
  } catch (err) {
    if (err instanceof AlreadyPlaced) return placedSink(err.placed);
    throw err;
  }
  const received: { name: string; size: number }[] = placement.resumed.map((e) => ({ name: e.name, size: e.size }));
  const names = new Set<string>(received.map((e) => e.name));
  let open = true;
  const stop = (): void => {
    open = false;
    placement.abort();
  };
  const pause = (): void => {
    if (!open) return;
    open = false;
    placement.suspend();
  };
  const fail = (code: string, msg: string): never => {
    stop();
    throw new EcguardError(code, `task ${h.taskId} slot ${h.slot}: ${msg}; nothing written`);
  };
  return {
    alreadyPlaced: undefined,
    async append(e) {
      if (!open) throw closed();
      if (parseEntryName(e.name) === undefined) fail('BAD_ENTRY', `entry name ${JSON.stringify(e.name.slice(0, 100))} is not obj.<block>.<stripe>`);
      if (names.has(e.name)) fail('BAD_ENTRY', `entry ${e.name} sent twice`);
      if (received.length >= h.expectedEntries) fail('BAD_PLACE_STREAM', `more than the ${h.expectedEntries} announced entries`);
      try {
        placement.append(e);
      } catch (err) {
        stop();
        throw err;
      }
      names.add(e.name);
      received.push({ name: e.name, size: e.data.length });
    },
    async commit() {
      if (!open) throw closed();
      open = false;
      try {
        if (received.length !== h.expectedEntries) fail('BAD_PLACE_STREAM', `${received.length} entries received, ${h.expectedEntries} announced`);
        const temp = placement.seal();
        const report = await verifyArchive(temp, { entries: received, ...(h.crcKind ? { crcKind: h.crcKind } : {}), version: target.version, xattrNamespace: h.xattrNamespace, pfn: ns.linkPath }, ctx.codec);
        if (!report.ok) fail('VERIFY_FAILED', `the sealed archive failed verification (${report.problems.join('; ')})`);
        const p = placement.publishSealed();
        if (p.linkProblem) log.warn(`task ${h.taskId} slot ${h.slot}: placed ${p.path} but not linked: ${p.linkProblem}`);
        return info(p.path, p.size, p.linked, false);
      } finally {
        placement.abort(); // no-op once published
      }
    },
    abort: stop,
    suspend: pause,
  };
}

// A retry of a (task, slot) whose archive exists: finish its link if a crash left it missing.
function placedBefore(t: PlaceTarget, rec: PlacedRecord, disk: StripesDisk): { path: string; size: number; linked: boolean } {
  const size = statSync(rec.path).size;
  let linked = false;
  try {
    linked = readlinkSync(t.linkPath) === rec.path;
  } catch {
    /* no symlink there */
  }
  if (!linked && rec.pfn === t.linkPath) {
    try {
      // Never over anything but a link into the dead disk named by the task.
      linked = createNamespaceLink(t.linkPath, rec.path, t.namespaceRoot, replaceIntoNow(t)).linked;
    } catch (err) {
      log.warn(`task ${t.taskId} slot ${t.slot}: cannot link ${t.linkPath} to ${rec.path} on ${disk.diskId}: ${errorText(err)}`);
    }
  }
  return { path: rec.path, size, linked };
}

// Re-checked here, right before placing: only a disk that is still failed or missing lends its
// links, or a readable one whose archive the link points at is one the scrub found corrupt.

/**
 * Streams the archive to `serverId`'s PlaceArchive. abort() tells the peer to drop its temp
 * file; suspend() just cancels the call, and the peer keeps what it has for a retry to resume.
 */
export function remotePlacementSink(client: StripesClient, serverId: string, h: PlacementHeader, o: { deadlineMs?: number } = {}): PlacementSink {
  const opts = o.deadlineMs !== undefined ? { deadline: new Date(Date.now() + o.deadlineMs) } : {};
  const what = `PlaceArchive task ${h.taskId} slot ${h.slot}`;
  const toInfo = (r: PlaceReply): PlacedInfo => {
    const p = r.placed;
    if (p === undefined || p.slot !== h.slot || p.diskId !== h.diskId) throw new PeerError('PEER_BAD_REPLY', `${what}: ${serverId} replied without this slot's placement`, serverId);
    return { ...p, serverId, alreadyPlaced: r.alreadyPlaced };
  };
  let settled: { info: PlacedInfo } | { err: EcguardError } | undefined;
  let call!: grpc.ClientWritableStream<PlaceChunk>;
  const reply = new Promise<PlacedInfo>((resolve, reject) => {
    call = client.placeArchive(new grpc.Metadata(), opts, (err, res) => {
      try {
        if (err) throw peerError(err, serverId, what);
        settled = { info: toInfo(res) };
        resolve(settled.info);
      } catch (e) {
        settled = { err: e as EcguardError };
        reject(e);
      }
    });
  });
  reply.catch(() => undefined); // surfaced by append/commit
  // Resolves when the stream can take more, or once the peer has answered (early or with an error).
  const writable = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        call.off('drain', done);
        resolve();
      };
      call.on('drain', done);
      reply.then(done, done);
    });
  let finished = false;
  call.write({ msg: { $case: 'header', value: headerToWire(h) } });
  return {
    get alreadyPlaced() {
      return settled && 'info' in settled && settled.info.alreadyPlaced ? settled.info : undefined;
    },
    async append(e) {
      if (finished) throw closed();
      if (settled) {
        if ('err' in settled) throw settled.err;
        if (settled.info.alreadyPlaced) return;
        throw new PeerError('PEER_BAD_REPLY', `${what}: ${serverId} answered before the archive was complete`, serverId);
      }
      if (!call.write({ msg: { $case: 'entry', value: { name: e.name, data: e.data, crc: e.crc >>> 0, dosStamp: dosStampToWire(e.time) } } })) await writable();
    },
    async commit() {
      if (finished) throw closed();
      finished = true;
      if (!settled) {
        call.write({ msg: { $case: 'commit', value: true } });
        call.end();
      }
      return reply;
    },
    abort() {
      if (!finished && !settled) {
        call.write({ msg: { $case: 'abort', value: true } });
        call.end();
      }
      finished = true;
    },
    suspend() {
      finished = true;
      if (!settled) call.cancel();
    },
  };
}

/** Where the symlink points, relative to `diskPath`, when it is a symlink into that disk. */

