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

/** The SELECT list rowToArchive reads, as raw arrays (better-sqlite3 .raw(): half the cost of row objects). */
export const ARCHIVE_SELECT = ARCHIVE_COLUMNS.join(', ');

export type ArchiveCells = (string | number | null)[];

/** A raw row of ARCHIVE_SELECT; `lfn` replaces the row's own LFN column when given. */
export function rowToArchive(d: Readonly<ArchiveCells>, lfn: string | null = d[6] as string | null): ArchiveRow {
  // Optional fields are added only when present: deepEqual with the sent record must hold.
  const r: { -readonly [K in keyof ArchiveRow]: ArchiveRow[K] } = {
    serverId: d[0] as string,
    diskId: d[1] as string,
    dataPath: d[2] as string,
    space: d[3] as string,
    size: d[7] as number,
    mtimeMs: d[8] as number,
    inode: d[9] as number,
    nblocks: d[13] as number,
    nentries: d[14] as number,
    regular: d[16] === 1,
    parseStatus: d[18] as ParseStatus,
  };
  if (d[4] !== null) r.nsPath = d[4] as string;
  if (d[5] !== null) r.pfn = d[5] as string;
  if (lfn !== null) r.lfn = lfn;
  if (d[10] !== null) r.strpver = d[10] as number;
  if (d[11] !== null) r.filesize = d[11] as number;
  if (d[12] !== null) r.xattrNamespace = d[12] as XattrNamespace;
  if (d[15] !== null) r.crcKind = d[15] as CrcKind;
  if (d[17] !== null) r.stripeMap = JSON.parse(d[17] as string) as Record<number, number[]>;
  if (d[19] !== null) r.parseError = d[19] as string;
  if (d[20] !== null) r.cdDigest = d[20] as string;
  return r;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Archive key order (server, disk, data path), in JS: an ORDER BY made the planner scan the key index. */
export const byArchiveKey = (a: ArchiveRow, b: ArchiveRow): number => cmp(a.serverId, b.serverId) || cmp(a.diskId, b.diskId) || cmp(a.dataPath, b.dataPath);
