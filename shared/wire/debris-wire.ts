// Debris quarantine orders and results: wire (ts-proto) ↔ domain, in one place.
import type { QuarantineOrder as WireOrder, QuarantineResult as WireResult } from '../../proto/gen/ecguard/v1/debris.js';
import type { QuarantineOrder, QuarantineResult } from '../domain/debris-order.js';
import { EcguardError } from '../errors.js';
import { quarantineOutcomeWire } from './enums.js';

export function quarantineOrderToWire(o: QuarantineOrder): WireOrder {
  return {
    orderId: o.orderId, lfn: o.lfn, archive: { diskId: o.diskId, dataPath: o.dataPath }, inode: o.inode, size: o.size, mtimeMs: o.mtimeMs, reason: o.reason,
    ...(o.strpver !== undefined ? { strpver: o.strpver } : {}), ...(o.pfn !== undefined ? { pfn: o.pfn } : {}), ...(o.nsPath !== undefined ? { nsPath: o.nsPath } : {}),
  };
}

export function quarantineOrderFromWire(w: WireOrder): QuarantineOrder {
  if (!w.archive || w.orderId === '' || w.archive.diskId === '' || w.archive.dataPath === '') {
    throw new EcguardError('BAD_ORDER', `quarantine order ${JSON.stringify(w.orderId)} names no archive (disk id and data path are required)`);
  }
  return {
    orderId: w.orderId, lfn: w.lfn, diskId: w.archive.diskId, dataPath: w.archive.dataPath, inode: w.inode, size: w.size, mtimeMs: w.mtimeMs, reason: w.reason,
    ...(w.strpver !== undefined ? { strpver: w.strpver } : {}), ...(w.pfn !== undefined ? { pfn: w.pfn } : {}), ...(w.nsPath !== undefined ? { nsPath: w.nsPath } : {}),
  };
}

export function quarantineResultToWire(r: QuarantineResult): WireResult {
  return {
    orderId: r.orderId, outcome: quarantineOutcomeWire.toWire(r.outcome), code: r.code ?? '', message: r.message,
    quarantinePath: r.quarantinePath ?? '', linkRemoved: r.linkRemoved ?? '', purgeAfterMs: r.purgeAfterMs ?? 0,
  };
}

export function quarantineResultFromWire(w: WireResult): QuarantineResult {
  const outcome = quarantineOutcomeWire.fromWire(w.outcome);
  if (outcome === undefined) throw new EcguardError('BAD_MESSAGE', `quarantine result for ${JSON.stringify(w.orderId)} has an unknown outcome ${w.outcome}`);
  return {
    orderId: w.orderId, outcome, message: w.message,
    ...(w.code ? { code: w.code } : {}), ...(w.quarantinePath ? { quarantinePath: w.quarantinePath } : {}), ...(w.linkRemoved ? { linkRemoved: w.linkRemoved } : {}), ...(w.purgeAfterMs ? { purgeAfterMs: w.purgeAfterMs } : {}),
  };
}
