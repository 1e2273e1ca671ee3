// Before a retried task streams a target archive, it asks the target's holder what the
// interrupted attempt left there: the good entries of the (task, slot)'s partial archive
// (partial-archive.ts). The task compares their names with what it would send and resumes after
// the last block every target already holds.
import * as grpc from '@grpc/grpc-js';
import type { PlacementKept, StripesClient } from '../../proto/gen/ecguard/v1/stripes.js';
import { atPartial, scanPartial, type PartialScan } from '../repair/partial-archive.js';
import { checkTaskSlot, findPlaced } from '../repair/placement-ledger.js';
import { usableDisk } from './archive-ref.js';
import { peerError } from './peer-pool.js';
import type { PlacementHeader } from './placement-sink.js';
import { headerToWire } from './placement-wire.js';
import type { StripesContext } from './stripes-context.js';

/** Bounds the reply (names of ~12 bytes: ~2.5 MB); a longer partial resumes from there. */
export const MAX_KEPT = 200_000;

export interface KeptProgress {
  readonly entries: readonly { readonly name: string; readonly size: number }[];
  /** Already placed: PlaceArchive will report it, nothing to resume. */
  readonly alreadyPlaced: boolean;
}

export function localPlacementProgress(ctx: StripesContext, h: PlacementHeader): KeptProgress {
  checkTaskSlot(h.taskId, h.slot);
  const disk = usableDisk(ctx, h.diskId, false);
  if (findPlaced(disk.path, h.taskId, h.slot)) return { entries: [], alreadyPlaced: true };
  const none: PartialScan = { entries: [], offsets: [], end: 0 };
  const scan = atPartial(disk.path, disk.space, h.taskId, h.slot, none, (p) => scanPartial(p, h.crcKind, ctx.codec, MAX_KEPT));
  return { entries: scan.entries.map((e) => ({ name: e.name, size: e.size })), alreadyPlaced: false };
}

export function keptToWire(k: KeptProgress): PlacementKept {
  return { entries: k.entries.map((e) => ({ name: e.name, size: e.size })), alreadyPlaced: k.alreadyPlaced };
}

export function remotePlacementProgress(client: StripesClient, serverId: string, h: PlacementHeader, deadlineMs = 30_000): Promise<KeptProgress> {
  return new Promise((resolve, reject) => {
    client.placementProgress(headerToWire(h), new grpc.Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
      if (err) return reject(peerError(err, serverId, `PlacementProgress task ${h.taskId} slot ${h.slot}`));
      if (res.entries.length > MAX_KEPT) return reject(peerError(new Error(`${res.entries.length} kept entries, more than ${MAX_KEPT}`), serverId, 'PlacementProgress'));
      resolve({ entries: res.entries.map((e) => ({ name: e.name, size: Number(e.size) })), alreadyPlaced: res.alreadyPlaced });
    });
  });
}
