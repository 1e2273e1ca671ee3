// The catalog on PostgreSQL (the scale-out store) beside the embedded SQLite default, in one run on
// the same synthetic inventories: ingest + correlate through each store, and a raw PostgreSQL
// insert of the same rows (key + the two lookups the catalog needs, 10k rows per statement via
// unnest) as its ceiling. The server is a throw-away cluster on loopback with fsync off, like the
// SQLite catalog in /dev/shm: both measure the stores, not a disk.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PgCatalogStore } from '../coordinator/catalog/pg-store.js';
import { openSqliteCatalog } from '../coordinator/catalog/sqlite-store.js';
import type { ArchiveRecord } from '../shared/domain/archive-record.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { ingestAndCorrelate, records } from './coordinator-bench.js';
import type { CoordinatorBenchRow } from './coordinator-bench-row.js';

const SERVERS = 12;
const now = (): number => Number(process.hrtime.bigint()) / 1e9;

export async function runPgBench(opts: { files?: number; log?: (s: string) => void } = {}): Promise<CoordinatorBenchRow[]> {
  const files = opts.files ?? 20_000;
  const log = opts.log ?? (() => undefined);
  const rows: CoordinatorBenchRow[] = [];
  const server = await startPostgres();
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ecguard-pgbench-'));
  try {
    const rawUrl = await server.createDatabase('raw');
    const raw = new pg.Pool({ connectionString: rawUrl, max: 1 });
    try {
      await raw.query('CREATE TABLE a (server TEXT, disk TEXT, path TEXT, lfn TEXT, size BIGINT, strpver BIGINT, filesize BIGINT, nblocks INT, status TEXT, PRIMARY KEY (server, disk, path))');
      await raw.query('CREATE INDEX a_lfn ON a (lfn); CREATE INDEX a_disk ON a (disk, lfn)');
      const flush = async (b: ArchiveRecord[]): Promise<void> => {
        const col = <T>(f: (r: ArchiveRecord) => T): T[] => b.map(f);
        await raw.query('INSERT INTO a SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[], $9::text[])', [
          col((r) => r.serverId), col((r) => r.diskId), col((r) => r.dataPath), col((r) => r.lfn), col((r) => r.size), col((r) => r.strpver), col((r) => r.filesize), col((r) => r.nblocks), col((r) => r.parseStatus),
        ]);
      };
      let count = 0;
      const t0 = now();
      for (let s = 0; s < SERVERS; s++) {
        let batch: ArchiveRecord[] = [];
        for (const r of records(files, s)) {
          batch.push(r);
          if (batch.length === 10_000) {
            await flush(batch);
            count += batch.length;
            batch = [];
          }
        }
        if (batch.length) await flush(batch);
        count += batch.length;
      }
      const seconds = now() - t0;
      rows.push({ name: 'baseline: raw PostgreSQL insert of the same rows (key + 2 indexes)', records: count, seconds, perSecond: count / seconds, note: 'pg, INSERT … SELECT unnest, 10k rows per statement, 9 columns' });
    } finally {
      await raw.end();
    }
    log('raw PostgreSQL insert done');

    const lite = openSqliteCatalog(join(dir, 'catalog.db'));
    const a = await ingestAndCorrelate(lite, files);
    await lite.close();
    rows.push({ name: 'SQLite catalog: ingest + correlate', records: a.ingested, seconds: a.tAll, perSecond: a.ingested / a.tAll, note: `ingest alone ${Math.round(a.ingested / a.tIngest)}/s; ${a.healthy} files healthy` });
    log('SQLite ingest + correlate done');

    const store = new PgCatalogStore(await server.createDatabase('catalog'));
    try {
      const b = await ingestAndCorrelate(store, files);
      rows.push({ name: 'PostgreSQL catalog: ingest + correlate', records: b.ingested, seconds: b.tAll, perSecond: b.ingested / b.tAll, note: `ingest alone ${Math.round(b.ingested / b.tIngest)}/s (${(b.ingested / b.tIngest / (rows[0]?.perSecond ?? NaN)).toFixed(2)}× the raw insert); ${(b.ingested / b.tAll / (a.ingested / a.tAll)).toFixed(2)}× SQLite; ${b.healthy} files healthy` });
    } finally {
      await store.close();
    }
    log('PostgreSQL ingest + correlate done');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
  return rows;
}
