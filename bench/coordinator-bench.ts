// Coordinator bench: ingest + correlate (full inventories of synthetic agents through the
// catalog store, then every file classified by the health engine) in records/s, beside a raw
// SQLite insert of the same rows in the same run; and the time from a disk-missing event to the
// complete damaged-file list for one disk holding every file's archive; and a digest resync of
// one server beside its full inventory; and the same inventories through a real coordinator
// process from synthetic agents over gRPC (ecguard simulate).
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogStore } from '../coordinator/catalog/catalog-store.js';
import { openSqliteCatalog } from '../coordinator/catalog/sqlite-store.js';
import { ClusterState } from '../coordinator/cluster-state.js';
import { Reclassifier } from '../coordinator/health/reclassifier.js';
import type { ArchiveRecord } from '../shared/domain/archive-record.js';
import { runDiskMissingBench } from './coordinator-bench-disk.js';
import { runResyncBench } from './coordinator-bench-resync.js';
import { runSimulateBench } from './coordinator-bench-sim.js';
import { ingestInventories, type CoordinatorBenchRow } from './coordinator-bench-row.js';

export type { CoordinatorBenchRow } from './coordinator-bench-row.js';

const P82 = { nbData: 8, nbParity: 2, chunkSize: 1048576 };
const SERVERS = 12;
const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const srv = (s: number): string => `srv${String(s).padStart(2, '0')}`;

/** Archive i of file f: on server (f + i) % 12, disk 0 for i = 0 (the big disk), else (f + i) % 2. */
export function* records(files: number, server: number): Generator<ArchiveRecord> {
  for (let f = 0; f < files; f++) {
    const i = (server - (f % SERVERS) + SERVERS) % SERVERS;
    if (i >= 10) continue; // 10 archives per file on 10 of the 12 servers
    const disk = i === 0 ? 0 : (f + i) % 2;
    yield {
      serverId: srv(server), diskId: `${srv(server)}:/disk${disk}`, space: 'public', dataPath: `public/${(f & 0xff).toString(16).padStart(2, '0').toUpperCase()}/f${f}%`,
      lfn: `/store/run${f % 1000}/file${f}.root`, size: 3_000_000, mtimeMs: 1, inode: f, strpver: 1_700_000_000, filesize: 20_000_000, xattrNamespace: 'user.U.',
      nblocks: 3, nentries: 3, crcKind: 'crc32c', regular: true, parseStatus: 'ok', cdDigest: (f * 16 + i).toString(16).padStart(16, '0'), // distinct, as real directories are
    };
  }
}

export async function runCoordinatorBench(opts: { files?: number; diskFiles?: number; log?: (s: string) => void } = {}): Promise<CoordinatorBenchRow[]> {
  const files = opts.files ?? 100_000;
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ecguard-cbench-'));
  const rows: CoordinatorBenchRow[] = [];
  try {
    // Baselines: the same rows into a plain table, one prepared INSERT, 10k per transaction;
    // with the key and the two lookups the catalog needs, and with no index at all (the ceiling).
    const baseline = (indexed: boolean): number => {
      const raw = new Database(join(dir, `raw-${indexed}.db`));
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      raw.exec(`CREATE TABLE a (server TEXT, disk TEXT, path TEXT, lfn TEXT, size INT, strpver INT, filesize INT, nblocks INT, status TEXT${indexed ? ', PRIMARY KEY (server, disk, path)' : ''})`);
      if (indexed) raw.exec('CREATE INDEX a_lfn ON a (lfn); CREATE INDEX a_disk ON a (disk, lfn)');
      const ins = raw.prepare('INSERT INTO a VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      const flush = raw.transaction((b: ArchiveRecord[]) => {
        for (const r of b) ins.run(r.serverId, r.diskId, r.dataPath, r.lfn, r.size, r.strpver, r.filesize, r.nblocks, r.parseStatus);
      });
      let count = 0;
      const start = now();
      for (let s = 0; s < SERVERS; s++) {
        let batch: ArchiveRecord[] = [];
        for (const r of records(files, s)) {
          batch.push(r);
          if (batch.length === 10_000) {
            flush(batch);
            count += batch.length;
            batch = [];
          }
        }
        flush(batch);
        count += batch.length;
      }
      const seconds = now() - start;
      raw.close();
      rows.push({ name: `baseline: raw SQLite insert of the same rows (${indexed ? 'key + 2 indexes' : 'no index'})`, records: count, seconds, perSecond: count / seconds, note: 'better-sqlite3, prepared INSERT, 10k rows per transaction, 9 columns' });
      return count;
    };
    const n = baseline(true);
    baseline(false);
    log(`baseline ${n} rows`);

    const store = openSqliteCatalog(join(dir, 'catalog.db'));
    const r = await ingestAndCorrelate(store, files);
    const base = rows[0]?.perSecond ?? NaN;
    const vs = (perSecond: number): string => `${(perSecond / base).toFixed(2)}× the indexed baseline`;
    rows.push({ name: 'ingest only (full inventories via the store)', records: r.ingested, seconds: r.tIngest, perSecond: r.ingested / r.tIngest, note: `${vs(r.ingested / r.tIngest)}; ${SERVERS} servers, ${files} files × 10 archives` });
    rows.push({ name: 'ingest + correlate (every file classified)', records: r.ingested, seconds: r.tAll, perSecond: r.ingested / r.tAll, note: `${vs(r.ingested / r.tAll)}; target ≥ 500,000 records/s; ${r.healthy} files healthy` });
    log('ingest + correlate done');
    rows.push(...(await runResyncBench(store, srv(0), [`${srv(0)}:/disk0`, `${srv(0)}:/disk1`], () => records(files, 0))));
    log('resync done');

    await store.close();
    rows.push(...(await runSimulateBench({ files, baselinePerSecond: base, log })));
    log('simulate done');
    rows.push(...(await runDiskMissingBench(join(dir, 'disk.db'), opts.diskFiles ?? 1_000_000, log)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Full inventories of every server into `store`, then every file classified; timed. */
export async function ingestAndCorrelate(store: CatalogStore, files: number): Promise<{ ingested: number; tIngest: number; tAll: number; healthy: number }> {
  for (let s = 0; s < SERVERS; s++) {
    await store.putServer({ serverId: srv(s), state: 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'b', inventoried: false });
    for (const d of [0, 1]) await store.putDisk({ diskId: `${srv(s)}:/disk${d}`, serverId: srv(s), path: `/disk${d}`, space: 'public', state: 'online', since: 0, evidence: [] });
  }
  const cluster = new ClusterState(store);
  await cluster.load();
  const recl = new Reclassifier(store, cluster, () => P82, { flushMs: 1e9 });
  const t0 = now();
  const ingested = await ingestInventories(store, (l) => recl.mark(l), Array.from({ length: SERVERS }, (_, s) => ({ id: srv(s), disks: [`${srv(s)}:/disk0`, `${srv(s)}:/disk1`], records: records(files, s) })));
  const tIngest = now() - t0;
  await recl.flush();
  const tAll = now() - t0;
  return { ingested, tIngest, tAll, healthy: (await store.fileCounts()).healthy.count };
}
