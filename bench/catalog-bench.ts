// Catalog bench (SQLite): (a) raw better-sqlite3 inserts of the same rows into the same table
// shape, the baseline; (b) the store's ingest through applyArchiveChanges and inventoryBatch
// (fresh, and an unchanged re-send); (c) one disk holding a million archives: lfnsOnDisk and
// archivesOf for its LFNs in batches; (d) ingest against the 500k records/s target.
// Only store calls are timed; generating records is not. Files go to /dev/shm when it exists.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHIVE_COLUMNS, archiveParams } from '../coordinator/catalog/sqlite-archive-row.js';
import { applySchema } from '../coordinator/catalog/sqlite-schema.js';
import { openSqliteCatalog, type SqliteCatalogStore } from '../coordinator/catalog/sqlite-store.js';
import { bigDiskBatches, diskName, serverBatches, serverName, type SiteShape } from './catalog-bench-data.js';

export interface CatalogBenchRow {
  readonly name: string;
  /** Records (or LFNs) processed per run. */
  readonly records: number;
  /** Median seconds of the timed runs. */
  readonly seconds: number;
  readonly perSecond: number;
  readonly runs: number;
  readonly note: string;
}

export interface CatalogBenchOptions {
  /** Archives in the ingest runs (b), default 1,000,000 (12 servers × 2 disks, 10 per LFN). */
  readonly archives?: number;
  /** Archives on the one big disk (c), default 1,000,000 (so the site holds 10× that). */
  readonly diskArchives?: number;
  readonly reps?: number;
  readonly batch?: number;
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

const INGEST_TARGET = 500_000;
const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function row(name: string, records: number, times: number[], note: string): CatalogBenchRow {
  const seconds = median(times);
  return { name, records, seconds, perSecond: records / seconds, runs: times.length, note };
}

function dbPaths(dir: string, name: string): string {
  const p = join(dir, name);
  for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
  return p;
}

async function addServers(store: SqliteCatalogStore, shape: SiteShape): Promise<void> {
  for (let s = 0; s < shape.servers; s++) {
    await store.putServer({ serverId: serverName(s), state: 'up', since: 0, lastSeen: 0, appliedSeq: 0, instanceId: 'bench', inventoried: false });
    for (let d = 0; d < shape.disksPerServer; d++) await store.putDisk({ diskId: diskName(s, d), serverId: serverName(s), path: `/data/disk${d}`, space: 'public', state: 'online', since: 0, evidence: [] });
  }
}

/** (a) The same rows, one prepared INSERT, `batch` rows per transaction, into the store's schema. */
function rawInsert(path: string, shape: SiteShape, batch: number): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -262144');
  applySchema(db);
  const servers = db.prepare("INSERT INTO servers (server_id, state, since, last_seen, applied_seq, instance_id, inventoried) VALUES (?, 'up', 0, 0, 0, 'raw', 0)");
  for (let s = 0; s < shape.servers; s++) servers.run(serverName(s));
  const ins = db.prepare(`INSERT INTO archives (${ARCHIVE_COLUMNS.join(', ')}, inv_gen) VALUES (${[...ARCHIVE_COLUMNS, 'g'].map(() => '?').join(', ')})`);
  let t = 0;
  for (let s = 0; s < shape.servers; s++) {
    for (const b of serverBatches(shape, s, batch)) {
      const params = b.map((r) => archiveParams(r.serverId, r, 0));
      const t0 = now();
      db.transaction(() => {
        for (const p of params) ins.run(...p);
      })();
      t += now() - t0;
    }
  }
  db.close();
  return t;
}

/** (a0) The PERF-FACTS table (6 narrow columns, no index), to relate this machine's state to 655k/s. */
function rawNarrow(path: string, rows: number, batch: number): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (lfn TEXT, server TEXT, disk TEXT, version INTEGER, size INTEGER, status TEXT)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  const t0 = now();
  for (let b = 0; b < rows; b += batch) {
    db.transaction(() => {
      for (let i = b; i < Math.min(rows, b + batch); i++) ins.run(`/store/user/run${i % 1000}/file${Math.floor(i / 10)}.root`, serverName(i % 12), diskName(i % 12, i % 2), 1, 1_048_576 + i, 'ok');
    })();
  }
  const t = now() - t0;
  db.close();
  return t;
}

type Ingest = 'apply' | 'inventory';

/** (b) Every server's archives through the store; returns [fresh ingest s, unchanged re-send s]. */
async function storeIngest(path: string, shape: SiteShape, batch: number, how: Ingest, batches = serverBatches): Promise<[number, number]> {
  const store = openSqliteCatalog(path);
  await addServers(store, shape);
  const times: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    let t = 0;
    for (let s = 0; s < shape.servers; s++) {
      const id = serverName(s);
      const disks = Array.from({ length: shape.disksPerServer }, (_, d) => diskName(s, d));
      let t0 = now();
      if (how === 'inventory') await store.beginInventory(id, disks);
      t += now() - t0;
      for (const b of batches(shape, s, batch)) {
        t0 = now();
        if (how === 'inventory') await store.inventoryBatch(id, b);
        else await store.applyArchiveChanges(id, b, [], b.length);
        t += now() - t0;
      }
      t0 = now();
      if (how === 'inventory') await store.endInventory(id, 1);
      t += now() - t0;
    }
    times.push(t);
    if (how === 'apply' && batches !== serverBatches) break; // the big site is filled once
  }
  await store.close();
  return [times[0]!, times[1] ?? NaN];
}

export async function runCatalogBench(opts: CatalogBenchOptions = {}): Promise<CatalogBenchRow[]> {
  const archives = opts.archives ?? 1_000_000;
  const diskArchives = opts.diskArchives ?? 1_000_000;
  const reps = opts.reps ?? 3;
  const batch = opts.batch ?? 10_000;
  const say = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dir = mkdtempSync(join(opts.dir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'ecguard-catalog-bench-'));
  const shape: SiteShape = { servers: 12, disksPerServer: 2, perLfn: 10, lfns: Math.ceil(archives / 10) };
  const n = shape.lfns * shape.perLfn;
  const rows: CatalogBenchRow[] = [];
  const runs = <T>(f: (i: number) => T): T[] => Array.from({ length: reps }, (_, i) => f(i));
  try {
    say(`catalog bench: ${n} archives, ${reps} runs each, in ${dir}`);
    rows.push(row('raw insert, PERF-FACTS 6-column table', n, runs(() => rawNarrow(dbPaths(dir, 'narrow.db'), n, batch)), 'machine check: PERF-FACTS measured 655k/s'));
    rows.push(row('raw insert, store schema and indexes (a)', n, runs(() => rawInsert(dbPaths(dir, 'raw.db'), shape, batch)), 'baseline: prepared INSERT, 10k rows per transaction'));
    const apply: [number, number][] = [];
    const inv: [number, number][] = [];
    for (let i = 0; i < reps; i++) {
      apply.push(await storeIngest(dbPaths(dir, 'apply.db'), shape, batch, 'apply'));
      inv.push(await storeIngest(dbPaths(dir, 'inv.db'), shape, batch, 'inventory'));
    }
    const applyNew = row('store applyArchiveChanges, new (b)', n, apply.map((x) => x[0]), 'touched LFNs, appliedSeq per batch');
    const invNew = row('store inventory, new (b)', n, inv.map((x) => x[0]), 'begin + batches + end (sweep)');
    rows.push(applyNew, row('store applyArchiveChanges, unchanged re-send', n, apply.map((x) => x[1]), 'lookup + compare, no write'));
    rows.push(invNew, row('store inventory, unchanged re-send', n, inv.map((x) => x[1]), 'mark only; sweep finds nothing'));
    const best = Math.max(applyNew.perSecond, invNew.perSecond);
    rows.push({ name: 'ingest vs 500k/s target (d)', records: n, seconds: n / best, perSecond: best, runs: reps, note: `${((100 * best) / INGEST_TARGET).toFixed(0)}% of ${INGEST_TARGET} (ingest alone, before correlation)` });

    const big: SiteShape = { servers: 12, disksPerServer: 2, perLfn: 10, lfns: diskArchives };
    say(`catalog bench: filling a site of ${big.lfns * big.perLfn} archives (one disk of ${diskArchives})`);
    const path = dbPaths(dir, 'big.db');
    const [fill] = await storeIngest(path, big, batch, 'apply', bigDiskBatches);
    rows.push(row('store applyArchiveChanges, filling the big site', big.lfns * big.perLfn, [fill], 'ingest rate at 10x the size'));
    const store = openSqliteCatalog(path);
    try {
      let lfns: string[] = [];
      const onDisk = runs(() => 0);
      for (let i = 0; i < reps; i++) {
        const t0 = now();
        lfns = await store.lfnsOnDisk(diskName(0, 0));
        onDisk[i] = now() - t0;
      }
      rows.push(row('lfnsOnDisk, disk of 1M archives (c)', lfns.length, onDisk, 'the damaged-file list of a missing disk'));
      let found = 0;
      const of = runs(() => 0);
      for (let i = 0; i < reps; i++) {
        const t0 = now();
        found = 0;
        for (let k = 0; k < lfns.length; k += batch) for (const list of (await store.archivesOf(lfns.slice(k, k + batch))).values()) found += list.length;
        of[i] = now() - t0;
      }
      rows.push(row(`archivesOf those LFNs, ${batch} per call (c)`, lfns.length, of, `${found} archives read (input to classification)`));
      const sum = median(onDisk) + median(of);
      rows.push({ name: 'disk missing -> LFN list + their archives', records: lfns.length, seconds: sum, perSecond: lfns.length / sum, runs: reps, note: `target < 2 s: list alone ${median(onDisk).toFixed(2)} s, with archives ${sum.toFixed(2)} s` });
      const t0 = now();
      const onServer = await store.lfnsOnServer(serverName(0));
      rows.push(row('lfnsOnServer, server of 1M archives', onServer.length, [now() - t0], 'server down: its LFNs'));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function catalogTable(rows: readonly CatalogBenchRow[]): string {
  const head = ['case', 'records', 'median s', 'per s', 'runs', 'note'];
  const lines = rows.map((r) => [r.name, String(r.records), r.seconds.toFixed(3), Math.round(r.perSecond).toLocaleString('en-US'), String(r.runs), r.note]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => (i === 0 || i === 5 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ')).join('\n');
}

// `node dist/bench/catalog-bench.js [archives] [diskArchives] [reps]` runs it alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [a, d, r] = process.argv.slice(2).map(Number);
  const rows = await runCatalogBench({ ...(a ? { archives: a } : {}), ...(d ? { diskArchives: d } : {}), ...(r ? { reps: r } : {}) });
  process.stdout.write(catalogTable(rows) + '\n');
}
