// After a task on a .mt object published its archives: the target servers whose own `.mt` copy
// died with the disk get it back (metadata-copy.ts on the holder; PlaceMetadata for a peer).
// The archives are safe by then, so a copy that cannot be restored is reported with the task,
// not a reason to fail it: the other servers' copies still describe every archive.
import * as grpc from '@grpc/grpc-js';
import { errorText } from '../../shared/errors.js';
import type { RepairOrder } from '../../shared/wire/repair-wire.js';
import type { PeerPool } from '../stripes/peer-pool.js';
import { peerError } from '../stripes/peer-pool.js';
import type { StripesContext } from '../stripes/stripes-context.js';
import { placeMetadataCopy } from './metadata-copy.js';

export interface RestoreDeps {
  readonly ctx: StripesContext;
  readonly pool: PeerPool;
}

export async function restoreMetadataCopies(order: RepairOrder, bytes: Buffer, version: { readonly strpverText: string; readonly filesizeText: string }, d: RestoreDeps, problems: string[]): Promise<void> {
  for (const t of order.plan.targets) {
    if (t.metadataLostOnDisk === undefined) continue;
    const req = { taskId: order.taskId, slot: t.slot, diskId: t.diskId, lfn: order.plan.lfn, lostOnDisk: t.metadataLostOnDisk };
    try {
      if (t.serverId === d.ctx.serverId) {
        placeMetadataCopy(d.ctx, { ...req, bytes, version });
      } else {
        const client = d.pool.client(t.serverId, order.addresses.get(t.serverId) ?? '');
        await new Promise<void>((resolve, reject) => {
          client.placeMetadata({ ...req, data: bytes, strpverText: version.strpverText, filesizeText: version.filesizeText }, new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err) => {
            if (err) reject(peerError(err, t.serverId, `PlaceMetadata ${order.plan.lfn}.mt`));
            else resolve();
          });
        });
      }
    } catch (err) {
      problems.push(`${t.serverId}: its copy of ${order.plan.lfn}.mt was not restored: ${errorText(err)}`);
    }
  }
}
