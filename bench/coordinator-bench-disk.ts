// Coordinator bench, part 2: one disk holding a million archives goes missing. Its own data set:
// 1,000,000 files of a 2+1 profile (3M archives; 8+2 would need 10M archives and minutes just to
// fill), archive 0 of every file on srv00:/disk0. The site is filled through the store's
// inventory path and classified once by the real Reclassifier (setup, not timed). Timed from the
// disk-missing event: (1) the damaged-file list answered from the disk index
// (lfnsCountedOnDisk: files whose archive there counted toward their state), and (2) every file on
// the disk reclassified by the health engine, i.e. the file states following.
import { openSqliteCatalog } from '../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../coordinator/cluster-state.js';
import { Reclassifier } from '../coordinator/health/reclassifier.js';
import type { ArchiveRecord } from '../shared/domain/archive-record.js';
import { ingestInventories, type CoordinatorBenchRow } from './coordinator-bench-row.js';

const P21 = { nbData: 2, nbParity: 1, chunkSize: 1048576 };
const SERVERS = 12;
const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const srv = (s: number): string => `srv${String(s).padStart(2, '0')}`;
const BIG_DISK = `${srv(0)}:/disk0`;

/** Server of archive i of file f: archive 0 on srv00 (the big disk), the others on srv01..srv11. */
const serverOf = (f: number, i: number): number => (i === 0 ? 0 : 1 + ((f + i) % (SERVERS - 1)));

/** Distinct per archive, as real directories are (copies of one directory count once). */
const digestOf = (f: number, i: number): string => (f * 16 + i).toString(16).padStart(16, '0');

function* records(files: number, server: number): Generator<ArchiveRecord> {
  for (let f = 0; f < files; f++) {
    for (let i = 0; i < 3; i++) {
      if (serverOf(f, i) !== server) continue;
      const disk = i === 0 ? 0 : 1 + (f % 2);
      yield {
        serverId: srv(server), diskId: `${srv(server)}:/disk${disk}`, space: 'public', dataPath: `public/${(f & 0xff).toString(16).padStart(2, '0').toUpperCase()}/f${f}%`,
        lfn: `/store/big${f % 1000}/file${f}.root`, size: 1_000_000, mtimeMs: 1, inode: f, strpver: 1_700_000_000, filesize: 2_000_000, xattrNamespace: 'user.U.',
        nblocks: 1, nentries: 1, crcKind: 'crc32c', regular: true, parseStatus: 'ok', cdDigest: digestOf(f, i),
      };
    }
  }
}

export async function runDiskMissingBench(path: string, files: number, log: (s: string) => void): Promise<CoordinatorBenchRow[]> {
  const store = openSqliteCatalog(path);
  const rows: CoordinatorBenchRow[] = [];
  try {
    for (let s = 0; s < SERVERS; s++) {
      await store.putServer({ serverId: srv(s), state: 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'b', inventoried: false });
      for (const d of [0, 1, 2]) await store.putDisk({ diskId: `${srv(s)}:/disk${d}`, serverId: srv(s), path: `/disk${d}`, space: 'public', state: 'online', since: 0, evidence: [] });
    }
    const cluster = new ClusterState(store);
    await cluster.load();
    const recl = new Reclassifier(store, cluster, () => P21, { flushMs: 1e9 });
    let t0 = now();

    const n = await ingestInventories(store, (l) => recl.mark(l), Array.from({ length: SERVERS }, (_, s) => ({ id: srv(s), disks: [0, 1, 2].map((d) => `${srv(s)}:/disk${d}`), records: records(files, s) })));
    await recl.flush();
    const healthy = (await store.fileCounts()).healthy.count;
    log(`disk bench set-up: ${n} archives ingested and ${healthy} files classified healthy in ${(now() - t0).toFixed(1)} s`);

    t0 = now();
    await cluster.putDisk({ diskId: BIG_DISK, serverId: srv(0), path: '/disk0', space: 'public', state: 'missing', since: Date.now(), evidence: ['bench'] });
    const damaged = await store.lfnsCountedOnDisk(BIG_DISK);
    const tList = now() - t0;
    rows.push({ name: 'disk missing → complete damaged-file list (disk index, lfnsCountedOnDisk)', records: damaged.length, seconds: tList, perSecond: damaged.length / tList, note: `target < 2 s; ${damaged.length} files damaged of ${files} with an archive on the disk (2+1 files, 3M archives in the site)` });
    // what the coordinator does on a disk event: every LFN on the disk reclassified
    recl.mark(await store.lfnsOnDisk(BIG_DISK));
    await recl.flush();
    const counts = await store.fileCounts();
    const tAll = now() - t0;
    rows.push({ name: '  … and every file on the disk reclassified (states follow)', records: damaged.length, seconds: tAll, perSecond: damaged.length / tAll, note: `from the same event; ${counts.critical.count} critical, ${counts.healthy.count} healthy after` });
  } finally {
    await store.close();
  }
  return rows;
}
