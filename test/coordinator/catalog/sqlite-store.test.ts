// SqliteCatalogStore: the store contract on a file (reopened too) and in memory, plus what is
// SQLite's own: pragmas, schema version, the indexes the hot queries rely on.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteCatalog } from '../../../coordinator/catalog/sqlite-store.js';
import { prefixUpperBound } from '../../../coordinator/catalog/sqlite-file-query.js';
import type { EcguardError } from '../../../shared/errors.js';
import { storeContract } from './store-contract.js';
import { archive, disk, file, server } from './catalog-fixtures.js';

const code = (expected: string) => (err: unknown) => (err as EcguardError).code === expected;

describe('SqliteCatalogStore', () => {
  describe('in a file', () =>
    storeContract(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ecguard-catalog-'));
      const path = join(dir, 'sub', 'catalog.db'); // parent directories are created
      let store = openSqliteCatalog(path);
      return {
        store,
        reopen: async () => {
          await store.close();
          return (store = openSqliteCatalog(path));
        },
        cleanup: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }));

  describe('in memory', () =>
    storeContract(async () => {
      const store = openSqliteCatalog(':memory:');
      return { store, cleanup: () => store.close() };
    }, { persistent: false }));

  describe('SQLite specifics', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-catalog-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('uses WAL, and the hot queries use their indexes', async () => {
      const path = join(dir, 'c.db');
      await openSqliteCatalog(path).close();
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
        assert.match(plan("SELECT DISTINCT lfn FROM archives WHERE disk_id = 'd' AND lfn IS NOT NULL ORDER BY lfn"), /COVERING INDEX archives_disk\b/);
        assert.match(plan("SELECT * FROM archives WHERE lfn = 'x'"), /INDEX archives_lfn/);
        assert.match(plan("SELECT lfn FROM files WHERE state IN ('lost') ORDER BY lfn"), /INDEX files_state/);
        assert.match(plan("SELECT lfn FROM archives WHERE role IN ('debris') AND role <> 'current' ORDER BY role, lfn"), /INDEX archives_role/);
      } finally {
        db.close();
      }
    });

    it('a catalog from before the reclassify markers gains their columns and keeps its rows', async () => {
      const path = join(dir, 'c.db');
      const first = openSqliteCatalog(path);
      await first.putServer(server('srv01', { state: 'down' }));
      await first.putDisk(disk('srv01', 0, { state: 'failed' }));
      await first.close();
      const db = new Database(path);
      db.exec('ALTER TABLE servers DROP COLUMN reclassify_pending; ALTER TABLE disks DROP COLUMN reclassify_pending;');
      db.close();
      const store = openSqliteCatalog(path);
      try {
        assert.equal((await store.getServer('srv01'))?.state, 'down');
        await store.putDisk(disk('srv01', 0, { state: 'failed', reclassifyPending: 7 }));
        assert.equal((await store.getDisk(disk('srv01', 0).diskId))?.reclassifyPending, 7);
      } finally {
        await store.close();
      }
    });

    it('a catalog from before the archive counts is counted once when opened, then kept by the writes', async () => {
      const path = join(dir, 'c.db');
      const first = openSqliteCatalog(path);
      await first.putServer(server('srv01'));
      await first.putFiles([file('/a', { bytes: 9 })]);
      await first.applyArchiveChanges('srv01', [archive('srv01', 0, '/a'), archive('srv01', 0, '/b', { dataPath: 'public/0B/b%' }), archive('srv01', 1, '/c')], []);
      await first.close();
      const db = new Database(path);
      db.exec("DROP TABLE disk_archive_counts; DROP TABLE file_state_counts; UPDATE meta SET value = '1' WHERE key = 'catalog.schemaVersion'");
      db.close();
      const store = openSqliteCatalog(path);
      try {
        assert.deepEqual(Object.fromEntries(await store.archiveCountsByDisk()), { [disk('srv01', 0).diskId]: 2, [disk('srv01', 1).diskId]: 1 });
        await store.applyArchiveChanges('srv01', [archive('srv01', 1, '/d', { dataPath: 'public/0D/d%' })], []);
        assert.equal(await store.archiveCount(), 4);
        assert.deepEqual((await store.fileCounts()).healthy, { count: 1, bytes: 9 }, 'file counts too');
        assert.equal(await store.getMeta('catalog.schemaVersion'), '2', 'an older ecguard, which would not keep the counts, now refuses it');
      } finally {
        await store.close();
      }
    });

    it('refuses a catalog written by a newer schema, and a file that is no database', async () => {
      const path = join(dir, 'c.db');
      await openSqliteCatalog(path).close();
      const db = new Database(path);
      db.prepare("UPDATE meta SET value = '999' WHERE key = 'catalog.schemaVersion'").run();
      db.close();
      assert.throws(() => openSqliteCatalog(path), code('STORE_SCHEMA'));
      const junk = join(dir, 'junk.db');
      writeFileSync(junk, 'this is not an SQLite file, not even close'.repeat(100));
      assert.throws(() => openSqliteCatalog(junk), code('STORE_OPEN'));
    });

    it('prefixUpperBound is the next string after every extension of the prefix', () => {
      assert.equal(prefixUpperBound('/a/b'), '/a/c');
      assert.equal(prefixUpperBound('/a/\uD7FF'), '/a/\uE000');
      assert.equal(prefixUpperBound('/a\u{10FFFF}'), '/b');
      assert.equal(prefixUpperBound('\u{10FFFF}'), undefined);
      assert.equal(prefixUpperBound('/é'), '/ê');
    });
  });
});
