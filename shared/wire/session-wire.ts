// Deltas, disks and profiles ↔ wire, for the agent session. Incoming values are validated.
import type { Delta } from '../domain/delta.js';
import type { EcProfile } from '../xrdec/profile.js';
import { validateProfile } from '../xrdec/profile.js';
import type { Delta as WireDelta } from '../../proto/gen/ecguard/v1/agent.js';
import type { Disk as WireDisk, EcProfile as WireProfile } from '../../proto/gen/ecguard/v1/types.js';
import { archiveRecordFromWire, archiveRecordToWire, type FromWire } from './archive-record-wire.js';
import { diskStateWire, removeCauseWire, type DiskStateName } from './enums.js';

export interface DiskInfo {
  readonly diskId: string;
  readonly path: string;
  readonly space: string;
  readonly state: DiskStateName;
  readonly uuid?: string;
  readonly evidence: readonly string[];
  /** A downgraded disk: by its scrub's findings or by an operator. */
  readonly downgradedBy?: 'corruption' | 'operator';
  /** Hello only: never read whole by this agent state (agent/state/read-disks.ts). */
  readonly unread?: boolean;
}

export function deltaToWire(d: Delta): WireDelta {
  return d.kind === 'upsert'
    ? { seq: d.seq, atMs: d.at, change: { $case: 'upsert', value: archiveRecordToWire(d.record) } }
    : { seq: d.seq, atMs: d.at, change: { $case: 'remove', value: { diskId: d.diskId, dataPath: d.dataPath, cause: removeCauseWire.toWire(d.cause) } } };
}

export function deltaFromWire(w: WireDelta, serverId: string, profile?: EcProfile): FromWire<Delta> {
  if (!Number.isSafeInteger(w.seq) || w.seq < 1) return { ok: false, reason: `delta with impossible sequence number ${w.seq}` };
  const at = Number.isFinite(w.atMs) ? w.atMs : 0;
  const c = w.change;
  if (!c) return { ok: false, reason: `delta ${w.seq} carries no change` };
  if (c.$case === 'upsert') {
    const r = archiveRecordFromWire(c.value, serverId, profile);
    return r.ok ? { ok: true, value: { seq: w.seq, at, kind: 'upsert', record: r.value } } : { ok: false, reason: `delta ${w.seq}: ${r.reason}` };
  }
  const cause = removeCauseWire.fromWire(c.value.cause);
  if (!cause) return { ok: false, reason: `delta ${w.seq}: unknown removal cause ${c.value.cause}` };
  if (!c.value.diskId || !/^[^/\0]{1,255}\/[0-9A-F]{2}\/[^/\0]{1,255}$/.test(c.value.dataPath)) return { ok: false, reason: `delta ${w.seq}: malformed removal` };
  return { ok: true, value: { seq: w.seq, at, kind: 'remove', diskId: c.value.diskId, dataPath: c.value.dataPath, cause } };
}

export function diskToWire(d: DiskInfo): WireDisk {
  return { diskId: d.diskId, path: d.path, space: d.space, state: diskStateWire.toWire(d.state), ...(d.uuid ? { uuid: d.uuid } : {}), evidence: [...d.evidence], ...(d.downgradedBy ? { downgradedBy: d.downgradedBy } : {}), ...(d.unread ? { unread: true } : {}) };
}

export function diskFromWire(w: WireDisk | undefined): FromWire<DiskInfo> {
  if (!w) return { ok: false, reason: 'missing disk' };
  const state = diskStateWire.fromWire(w.state);
  if (!state) return { ok: false, reason: `disk ${w.diskId}: unknown state ${w.state}` };
  if (!w.diskId || w.diskId.length > 1024 || !w.path.startsWith('/') || w.path.length > 4096) return { ok: false, reason: `malformed disk ${JSON.stringify(w.diskId.slice(0, 100))}` };
  const by = w.downgradedBy;
  if (by !== undefined && by !== 'corruption' && by !== 'operator') return { ok: false, reason: `disk ${w.diskId}: downgradedBy ${JSON.stringify(by.slice(0, 40))} is neither corruption nor operator` };
  return { ok: true, value: { diskId: w.diskId, path: w.path, space: w.space, state, ...(w.uuid ? { uuid: w.uuid } : {}), evidence: w.evidence.slice(0, 20).map((e) => e.slice(0, 1000)), ...(by !== undefined && state === 'downgraded' ? { downgradedBy: by } : {}), ...(w.unread ? { unread: true } : {}) } };
}

export function profileToWire(p: EcProfile): WireProfile {
  return { nbData: p.nbData, nbParity: p.nbParity, chunkSize: p.chunkSize };
}

export function profileFromWire(w: WireProfile | undefined): FromWire<EcProfile> {
  if (!w) return { ok: false, reason: 'no EC profile' };
  try {
    return { ok: true, value: validateProfile({ nbData: w.nbData, nbParity: w.nbParity, chunkSize: w.chunkSize }) };
  } catch (err) {
    return { ok: false, reason: `bad EC profile: ${(err as Error).message}` };
  }
}
