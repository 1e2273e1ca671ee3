// openCatalogStore: which catalog locations open SQLite or PostgreSQL, and the errors for the others.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogStore, sqlitePathOf } from '../../../coordinator/catalog/open-store.js';
import { PgCatalogStore } from '../../../coordinator/catalog/pg-store.js';
import { SqliteCatalogStore } from '../../../coordinator/catalog/sqlite-store.js';
import type { EcguardError } from '../../../shared/errors.js';

const code = (expected: string, text?: RegExp) => (err: unknown) => (err as EcguardError).code === expected && (text === undefined || text.test((err as Error).message));

describe('openCatalogStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-open-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('maps catalog URLs to SQLite paths', () => {
    assert.equal(sqlitePathOf('sqlite:/var/lib/ecguard/c.db'), '/var/lib/ecguard/c.db');
    assert.equal(sqlitePathOf('sqlite:///var/lib/ecguard/c.db'), '/var/lib/ecguard/c.db');
    assert.equal(sqlitePathOf('sqlite:rel/c.db'), 'rel/c.db');
    assert.equal(sqlitePathOf('sqlite::memory:'), ':memory:');
    assert.equal(sqlitePathOf(':memory:'), ':memory:');
    assert.equal(sqlitePathOf('/abs/c.db'), '/abs/c.db');
    assert.equal(sqlitePathOf('c.db'), 'c.db');
    assert.equal(sqlitePathOf('mysql://h/db'), undefined);
  });

  it('opens SQLite for sqlite: URLs and bare paths', async () => {
    for (const [url, file] of [[`sqlite:${join(dir, 'a.db')}`, 'a.db'], [`sqlite://${join(dir, 'b.db')}`, 'b.db'], [join(dir, 'c.db'), 'c.db']] as const) {
      const s = openCatalogStore(url);
      assert.ok(s instanceof SqliteCatalogStore);
      await s.setMeta('k', 'v');
      await s.close();
      assert.ok(existsSync(join(dir, file)), url);
    }
    const m = openCatalogStore('sqlite::memory:');
    assert.equal(await m.archiveCount(), 0);
    await m.close();
  });

  it('PostgreSQL URLs give the PostgreSQL store, which connects on first use; other schemes and empty paths are usage errors', async () => {
    for (const url of ['postgres://u@db.invalid/ecguard', 'postgresql://db.invalid/ecguard', 'POSTGRES://u:pw@db.invalid:5433/ecguard']) {
      const s = openCatalogStore(url); // no server needed yet (pg-store.test.ts connects to a real one)
      assert.ok(s instanceof PgCatalogStore, url);
      await s.close();
    }
    assert.throws(() => openCatalogStore('mysql://db/ecguard'), code('USAGE', /sqlite:.*postgres:\/\//));
    assert.throws(() => openCatalogStore('sqlite:'), code('USAGE'));
    assert.throws(() => openCatalogStore(''), code('USAGE'));
  });
});
