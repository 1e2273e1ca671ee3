// A small site in a catalog store for health and debris tests: servers s1..sN, one disk each
// (`sN:/d`), and archives of one LFN. One place for the rows those tests all start from.
import type { CatalogStore } from '../../coordinator/catalog/catalog-store.js';
import type { DiskState } from '../../coordinator/catalog/catalog-types.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';

export const P21 = { nbData: 2, nbParity: 1, chunkSize: 1024 };
export const V1 = 1_700_000_000;
export const V0 = 1_600_000_000;
export const LFN = '/data/f';

/** Archive of LFN on server s (strpver V1, written an hour ago); `o` overrides any field. */
export function seedRecord(s: number, o: Partial<ArchiveRecord> = {}): ArchiveRecord {
  return {
    serverId: `s${s}`, diskId: `s${s}:/d`, space: 'public', dataPath: `public/00/f${s}%`, lfn: LFN, size: 5000, mtimeMs: Date.now() - 3600_000, inode: s,
    strpver: V1, filesize: 6144, xattrNamespace: 'user.U.', nblocks: 3, nentries: 3, crcKind: 'crc32c', regular: true, parseStatus: 'ok', cdDigest: `d${s}`, ...o,
  };
}

/** Puts servers (up unless in `down`), their disks (online unless `disk` says otherwise) and one archive each. */
export async function seedSite(store: CatalogStore, servers: readonly number[], o: { down?: readonly number[]; disk?: (s: number) => DiskState; record?: (s: number) => ArchiveRecord } = {}): Promise<void> {
  for (const s of servers) {
    await store.putServer({ serverId: `s${s}`, state: o.down?.includes(s) ? 'down' : 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'i', inventoried: true });
    await store.putDisk({ diskId: `s${s}:/d`, serverId: `s${s}`, path: '/d', space: 'public', state: o.disk?.(s) ?? 'online', since: 0, evidence: [] });
    await store.applyArchiveChanges(`s${s}`, [o.record?.(s) ?? seedRecord(s)], []);
  }
}
