// Row builders for the catalog tests: every field set ("full") or only the required ones.
import type { ArchiveRecord } from '../../../shared/domain/archive-record.js';
import type { DiskRow, FileRow, ServerRow } from '../../../coordinator/catalog/catalog-types.js';

export const server = (serverId: string, o: Partial<ServerRow> = {}): ServerRow => ({
  serverId,
  state: 'up',
  since: 1_000,
  lastSeen: 2_000,
  appliedSeq: 0,
  instanceId: `inst-${serverId}`,
  inventoried: false,
  ...o,
});

export const disk = (serverId: string, n: number, o: Partial<DiskRow> = {}): DiskRow => ({
  diskId: diskId(serverId, n),
  serverId,
  path: `/data/disk${n}`,
  space: 'public',
  state: 'online',
  since: 3_000,
  evidence: [],
  ...o,
});

export const diskId = (serverId: string, n: number): string => `${serverId}:/data/disk${n}`;

/** An archive with only the required fields (no LFN unless given in `o`). */
export function bareArchive(serverId: string, n: number, dataPath: string, o: Partial<ArchiveRecord> = {}): ArchiveRecord {
  return { serverId, diskId: diskId(serverId, n), space: 'public', dataPath, size: 4096, mtimeMs: 1_700_000_000_123.5, inode: 77, nblocks: 2, nentries: 2, regular: true, parseStatus: 'ok', ...o };
}

/** A regular, healthy archive of `lfn`. */
export function archive(serverId: string, n: number, lfn: string, o: Partial<ArchiveRecord> = {}): ArchiveRecord {
  const name = lfn.replace(/[^A-Za-z0-9]/g, '_');
  return bareArchive(serverId, n, `public/0A/${name}%`, {
    nsPath: `/xrd/ns${lfn}`,
    pfn: lfn,
    lfn,
    strpver: 1_700_000_000,
    filesize: 8 * 4096,
    xattrNamespace: 'user.U.',
    crcKind: 'crc32c',
    cdDigest: `d1g3st${serverId}${n}`, // distinct archives have distinct central directories
    ...o,
  });
}

/** Every optional field present, irregular (two stripes in block 0, none in block 1). */
export function fullArchive(serverId: string, n: number, lfn: string): ArchiveRecord {
  return archive(serverId, n, lfn, { regular: false, stripeMap: { 0: [1, 2], 1: [] }, parseStatus: 'truncated', parseError: 'EIO: short read', xattrNamespace: 'user.', crcKind: 'crc32' });
}

export const file = (lfn: string, o: Partial<FileRow> = {}): FileRow => ({
  lfn,
  state: 'healthy',
  redundancy: 2,
  latestStrpver: 1_700_000_000,
  filesize: 32_768,
  available: 10,
  unavailable: 0,
  reason: 'all 10 archives',
  firstSeen: 5_000,
  createdAt: 6_000,
  stateSince: 6_000,
  bytes: 32_768,
  ...o,
});

/** A FileRow with only the required fields. */
export const bareFile = (lfn: string, o: Partial<FileRow> = {}): FileRow => ({
  lfn,
  state: 'pending',
  redundancy: -1,
  available: 0,
  unavailable: 0,
  reason: 'waiting',
  firstSeen: 5_000,
  stateSince: 5_000,
  bytes: 0,
  ...o,
});

export const sorted = (xs: readonly string[]): string[] => [...xs].sort();
