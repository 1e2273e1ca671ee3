// ArchiveRecord ↔ wire. Incoming records are validated here — the coordinator's first line of
// defence against a buggy or hostile agent (DESIGN.md §8.6): impossible fields are rejected
// with a reason and never reach the catalog.
import type { ArchiveRecord } from '../domain/archive-record.js';
import type { EcProfile } from '../xrdec/profile.js';
import { blockCount } from '../xrdec/profile.js';
import type { ArchiveRecord as WireArchiveRecord } from '../../proto/gen/ecguard/v1/types.js';
import { crcKindWire, parseStatusWire, xattrNamespaceWire } from './enums.js';

export function archiveRecordToWire(r: ArchiveRecord): WireArchiveRecord {
  return {
    diskId: r.diskId,
    space: r.space,
    dataPath: r.dataPath,
    ...(r.nsPath !== undefined ? { nsPath: r.nsPath } : {}),
    ...(r.pfn !== undefined ? { pfn: r.pfn } : {}),
    ...(r.lfn !== undefined ? { lfn: r.lfn } : {}),
    size: r.size,
    mtimeMs: r.mtimeMs,
    inode: r.inode,
    ...(r.strpver !== undefined ? { strpver: r.strpver } : {}),
    ...(r.filesize !== undefined ? { filesize: r.filesize } : {}),
    xattrNamespace: r.xattrNamespace ? xattrNamespaceWire.toWire(r.xattrNamespace) : 0,
    nblocks: r.nblocks,
    nentries: r.nentries,
    crcKind: r.crcKind ? crcKindWire.toWire(r.crcKind) : 0,
    regular: r.regular,
    stripeMap: r.stripeMap ? Object.entries(r.stripeMap).map(([b, s]) => ({ block: Number(b), stripes: [...s] })) : [],
    parseStatus: parseStatusWire.toWire(r.parseStatus),
    ...(r.parseError !== undefined ? { parseError: r.parseError } : {}),
    ...(r.cdDigest !== undefined ? { cdDigest: r.cdDigest } : {}),
  };
}

export type FromWire<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_PATH = 4096;
const DATA_PATH = /^[^/\0]{1,255}\/[0-9A-F]{2}\/[^/\0]{1,255}$/;

function badPath(p: string): boolean {
  return p.length === 0 || p.length > MAX_PATH || !p.startsWith('/') || p.includes('\0') || p.split('/').some((s) => s === '..' || s === '.');
}

/** Validates and converts; `serverId` names the sender in reasons; `profile` enables geometry checks. */
export function archiveRecordFromWire(w: WireArchiveRecord, serverId: string, profile?: EcProfile): FromWire<ArchiveRecord> {
  const fail = (why: string): FromWire<ArchiveRecord> => ({ ok: false, reason: `record ${JSON.stringify(w.dataPath?.slice(0, 200))} on ${JSON.stringify(w.diskId?.slice(0, 200))}: ${why}` });
  if (!w.diskId || w.diskId.length > 1024) return fail('missing or oversized disk id');
  if (!DATA_PATH.test(w.dataPath)) return fail('data path is not <space>/<XX>/<name>');
  if (w.space.length === 0 || !w.dataPath.startsWith(w.space + '/')) return fail('space does not match the data path');
  for (const [name, v] of [['nsPath', w.nsPath], ['pfn', w.pfn], ['lfn', w.lfn]] as const) {
    if (v !== undefined && badPath(v)) return fail(`${name} is not a clean absolute path`);
  }
  if (!Number.isFinite(w.mtimeMs) || w.mtimeMs < 0) return fail(`impossible mtime ${w.mtimeMs}`);
  const parseStatus = parseStatusWire.fromWire(w.parseStatus);
  if (!parseStatus) return fail(`unknown parse status ${w.parseStatus}`);
  const crcKind = w.crcKind === 0 ? undefined : crcKindWire.fromWire(w.crcKind);
  if (w.crcKind !== 0 && !crcKind) return fail(`unknown CRC kind ${w.crcKind}`);
  const ns = w.xattrNamespace === 0 ? undefined : xattrNamespaceWire.fromWire(w.xattrNamespace);
  if (w.xattrNamespace !== 0 && !ns) return fail(`unknown xattr namespace ${w.xattrNamespace}`);
  if (w.regular && w.stripeMap.length > 0) return fail('a regular archive carries a stripe map');
  if (parseStatus === 'ok' && w.regular && w.nentries !== w.nblocks) return fail(`regular archive with ${w.nentries} entries for ${w.nblocks} blocks`);
  if (w.nentries > 0 && parseStatus !== 'ok') return fail(`entries reported for an archive whose parse status is ${parseStatus}`);
  // Entries sit in 30+46+7 bytes of headers each at least: more entries than that cannot fit.
  if (w.nentries * 83 > w.size) return fail(`${w.nentries} entries cannot fit in ${w.size} bytes`);
  let stripeMap: Record<number, number[]> | undefined;
  if (!w.regular && w.stripeMap.length > 0) {
    stripeMap = {};
    for (const b of w.stripeMap) {
      if (b.block >= w.nblocks) return fail(`stripe map names block ${b.block} of ${w.nblocks}`);
      if (b.stripes.some((s) => s > 254)) return fail(`stripe map of block ${b.block} has a stripe above 254`);
      stripeMap[b.block] = [...b.stripes];
    }
  }
  if (profile && w.filesize !== undefined && parseStatus === 'ok') {
    const blocks = blockCount(profile, w.filesize);
    if (w.nblocks > blocks) return fail(`${w.nblocks} blocks but xrdec.filesize ${w.filesize} makes ${blocks} with ${profile.nbData}+${profile.nbParity}×${profile.chunkSize}`);
    if (w.regular && w.nblocks !== blocks) return fail(`regular archive with ${w.nblocks} blocks, xrdec.filesize ${w.filesize} makes ${blocks}`);
  }
  return {
    ok: true,
    value: {
      serverId,
      diskId: w.diskId,
      space: w.space,
      dataPath: w.dataPath,
      ...(w.nsPath !== undefined ? { nsPath: w.nsPath } : {}),
      ...(w.pfn !== undefined ? { pfn: w.pfn } : {}),
      ...(w.lfn !== undefined ? { lfn: w.lfn } : {}),
      size: w.size,
      mtimeMs: w.mtimeMs,
      inode: w.inode,
      ...(w.strpver !== undefined ? { strpver: w.strpver } : {}),
      ...(w.filesize !== undefined ? { filesize: w.filesize } : {}),
      ...(ns ? { xattrNamespace: ns } : {}),
      nblocks: w.nblocks,
      nentries: w.nentries,
      ...(crcKind ? { crcKind } : {}),
      regular: w.regular,
      ...(stripeMap ? { stripeMap } : {}),
      parseStatus,
      ...(w.parseError !== undefined ? { parseError: w.parseError.slice(0, 1000) } : {}),
      ...(w.cdDigest !== undefined ? { cdDigest: w.cdDigest.slice(0, 64) } : {}),
    },
  };
}
