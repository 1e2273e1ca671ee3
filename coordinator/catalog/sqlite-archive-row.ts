// ArchiveRecord ⇄ archives table row. Parameters are positional (binding a plain argument list is
// the cheapest form in better-sqlite3); absent optional fields are NULL and NULL reads back as an
// absent field, so records round-trip exactly.
import type { CrcKind } from '../../shared/codec/codec.js';
import type { ArchiveRecord, ParseStatus } from '../../shared/domain/archive-record.js';
import type { XattrNamespace } from '../../shared/xrdec/xattrs.js';
import type { ArchiveRow } from './catalog-types.js';

/** Every ArchiveRecord column in parameter order; archiveParams adds inv_gen last. */
export const ARCHIVE_COLUMNS = [
  'server_id',
  'disk_id',
  'data_path',
  'space',
  'ns_path',
  'pfn',
  'lfn',
  'size',
  'mtime_ms',
  'inode',
  'strpver',
  'filesize',
  'xattr_ns',
  'nblocks',
  'nentries',
  'crc_kind',
  'regular',
  'stripe_map',
  'parse_status',
  'parse_error',
  'cd_digest',
] as const;

/** server_id, disk_id, data_path: the key. */
export const ARCHIVE_KEY_LENGTH = 3;

/** Columns that may change for one key (everything after the key). */
export const ARCHIVE_VALUE_COLUMNS = ARCHIVE_COLUMNS.slice(ARCHIVE_KEY_LENGTH);

export type ArchiveParams = (string | number | null)[];

/** Statement parameters (ARCHIVE_COLUMNS, then inv_gen) for one record stored under `serverId` with inventory generation `gen`. */
export function archiveParams(serverId: string, r: ArchiveRecord, gen: number): ArchiveParams {
  return [
    serverId,
    r.diskId,
    r.dataPath,
    r.space,
    r.nsPath ?? null,
    r.pfn ?? null,
    r.lfn ?? null,
    r.size,
    r.mtimeMs,
    r.inode,
    r.strpver ?? null,
    r.filesize ?? null,
    r.xattrNamespace ?? null,
    r.nblocks,
    r.nentries,
    r.crcKind ?? null,
    r.regular ? 1 : 0,
    r.stripeMap === undefined ? null : JSON.stringify(r.stripeMap),
    r.parseStatus,
    r.parseError ?? null,
    r.cdDigest ?? null,
    gen,
  ];
}

/** The SELECT list that `rowToArchive` reads. */
export const ARCHIVE_SELECT = ARCHIVE_COLUMNS.join(', ');

export interface ArchiveDbRow {
  server_id: string;
  disk_id: string;
  data_path: string;
  space: string;
  ns_path: string | null;
  pfn: string | null;
  lfn: string | null;
  size: number;
  mtime_ms: number;
  inode: number;
  strpver: number | null;
  filesize: number | null;
  xattr_ns: string | null;
  nblocks: number;
  nentries: number;
  crc_kind: string | null;
  regular: number;
  stripe_map: string | null;
  parse_status: string;
  parse_error: string | null;
  cd_digest: string | null;
}

export function rowToArchive(d: ArchiveDbRow): ArchiveRow {
  // Optional fields are added only when present: deepEqual with the sent record must hold.
  const r: { -readonly [K in keyof ArchiveRow]: ArchiveRow[K] } = {
    serverId: d.server_id,
    diskId: d.disk_id,
    space: d.space,
    dataPath: d.data_path,
    size: d.size,
    mtimeMs: d.mtime_ms,
    inode: d.inode,
    nblocks: d.nblocks,
    nentries: d.nentries,
    regular: d.regular === 1,
    parseStatus: d.parse_status as ParseStatus,
  };
  if (d.ns_path !== null) r.nsPath = d.ns_path;
  if (d.pfn !== null) r.pfn = d.pfn;
  if (d.lfn !== null) r.lfn = d.lfn;
  if (d.strpver !== null) r.strpver = d.strpver;
  if (d.filesize !== null) r.filesize = d.filesize;
  if (d.xattr_ns !== null) r.xattrNamespace = d.xattr_ns as XattrNamespace;
  if (d.crc_kind !== null) r.crcKind = d.crc_kind as CrcKind;
  if (d.stripe_map !== null) r.stripeMap = JSON.parse(d.stripe_map) as Record<number, number[]>;
  if (d.parse_error !== null) r.parseError = d.parse_error;
  if (d.cd_digest !== null) r.cdDigest = d.cd_digest;
  return r;
}
