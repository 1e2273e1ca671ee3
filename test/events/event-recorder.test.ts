// What the recorder states: a down server's lostAt follows server.lostAfter (it was always now +
// 1 h), and a raised indicator is critical only when files are one loss away or unreadable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../coordinator/events/event-log.js';
import { EventRecorder } from '../../coordinator/events/event-recorder.js';
import { baselineAnnounced } from '../../coordinator/events/announced-baseline.js';
import { openSqliteCatalog } from '../../coordinator/catalog/sqlite-store.js';
import { file } from '../coordinator/catalog/catalog-fixtures.js';
import type { FileRow } from '../../coordinator/catalog/catalog-types.js';
import type { FileChange } from '../../coordinator/health/reclassifier.js';

describe('EventRecorder', () => {
  let dir: string;
  let log: EventLog;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-evrec-'));
    log = new EventLog(join(dir, 'c.db'));
  });
  afterEach(() => {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('server.down says when its archives stop counting, from server.lostAfter', () => {
    const r = new EventRecorder('t', log, () => undefined, () => false, () => undefined, 10 * 60_000);
    const t0 = Date.now();
    r.server('srv1', 'server.down', { lastSeen: t0 - 30_000, archives: 5 });
    const [e] = log.query({ limit: 10 }).map((x) => x.event);
    const lostAt = Date.parse((e?.data as { lostAt: string }).lostAt);
    assert.ok(lostAt >= t0 + 600_000 && lostAt < t0 + 610_000, `lostAt ${new Date(lostAt).toISOString()}`);
  });

  it('file changes held in safe mode survive a restart; the net change is recorded when safe mode ends', async () => {
    const P = { nbData: 4, nbParity: 2, chunkSize: 4096 };
    let safe = true;
    const r = new EventRecorder('t', log, () => P, () => safe, () => undefined);
    const healthy = file('/d/a', { state: 'healthy' });
    const change = (lfn: string, prev: FileRow, next: FileRow): FileChange => ({ lfn, prev, next, anomalies: [] });
    r.fileChanges([change('/d/a', healthy, file('/d/a', { state: 'critical', reason: 'r1' })), change('/d/b', file('/d/b'), file('/d/b', { state: 'degraded', reason: 'r2' }))]);
    r.fileChanges([change('/d/a', file('/d/a', { state: 'critical' }), file('/d/a', { state: 'degraded', reason: 'r3' })), change('/d/b', file('/d/b', { state: 'degraded' }), file('/d/b'))]);
    assert.equal(log.query({ limit: 10 }).length, 0, 'nothing recorded in safe mode');
    log.close();
    // the coordinator restarts, still in safe mode, then leaves it
    log = new EventLog(join(dir, 'c.db'));
    const again = new EventRecorder('t', log, () => P, () => safe, () => undefined);
    safe = false;
    await again.releaseHeld();
    // /d/a: healthy -> degraded (its critical moment is not replayed); /d/b: back to healthy, nothing
    assert.deepEqual(log.query({ limit: 10 }).map((x) => `${x.event.type} ${x.event.subject.lfn} ${x.event.reason}`), ['file.degraded /d/a r3']);
    assert.equal(log.held.count(), 0);
    await again.releaseHeld();
    assert.equal(log.query({ limit: 10 }).length, 1, 'released once');
  });

  it('after a catalog rebuild only real differences are events: files are not announced as created again', async () => {
    const P = { nbData: 4, nbParity: 2, chunkSize: 4096 };
    const r = new EventRecorder('t', log, () => P, () => true, () => undefined);
    const rows = Array.from({ length: 5 }, (_, i) => file(`/d/f${i}`, { state: 'healthy', createdAt: 1, latestStrpver: 7 }));
    r.baseline(rows);
    // the rebuild dropped every file row: the inventories bring them back as new
    r.fileChanges(rows.map((f, i) => ({ lfn: f.lfn, next: i === 3 ? { ...f, state: 'degraded' as const, reason: 'one archive lost meanwhile' } : f, anomalies: [] })));
    await new EventRecorder('t', log, () => P, () => false, () => undefined).releaseHeld();
    assert.deepEqual(log.query({ limit: 100 }).map((x) => `${x.event.type} ${x.event.subject.lfn}`), ['file.degraded /d/f3']);
  });

  it('ecguard coordinator --rebuild-catalog: every file row of the store (pages of 5000) becomes the baseline, so nothing is announced as created again', async () => {
    const P = { nbData: 4, nbParity: 2, chunkSize: 4096 };
    const store = openSqliteCatalog(join(dir, 'store.db'));
    try {
      const rows = Array.from({ length: 5003 }, (_, i) => file(`/d/f${String(i).padStart(5, '0')}`, { state: 'healthy', createdAt: 1, latestStrpver: 7 }));
      await store.putFiles(rows);
      assert.equal(await baselineAnnounced(store, (page) => log.held.baseline(page)), rows.length);
      // the rebuild's inventories bring every file back as new
      const r = new EventRecorder('t', log, () => P, () => true, () => undefined);
      r.fileChanges(rows.map((f) => ({ lfn: f.lfn, next: f, anomalies: [] })));
      await new EventRecorder('t', log, () => P, () => false, () => undefined).releaseHeld();
      assert.deepEqual(log.query({ limit: 10 }).map((x) => x.event.type), []);
    } finally {
      await store.close();
    }
  });

  it('a disk first reported missing (never seen usable) is announced, without a previous state; failed -> missing is not a second one', () => {
    const r = new EventRecorder('t', log, () => undefined, () => false, () => undefined);
    const d = { diskId: 's1:/d0', serverId: 's1', path: '/d0', space: 'public', since: 1, evidence: ['not a mount point and holds no public directory: not mounted? mount it'] };
    r.disk(undefined, { ...d, state: 'missing' }, undefined, 0);
    r.disk({ ...d, state: 'failed' }, { ...d, state: 'missing' }, undefined, 3);
    r.disk(undefined, { ...d, state: 'online' }, undefined, 0);
    const got = log.query({ limit: 10 }).map((x) => x.event);
    assert.deepEqual(got.map((e) => e.type), ['disk.failed']);
    assert.equal((got[0]?.data as { previousState?: string }).previousState, undefined);
    assert.match(got[0]?.reason ?? '', /missing since its agent first reported it: not a mount point/);
  });

  it('debris.found once per archive, though its role flaps while a server of its file is away', () => {
    const r = new EventRecorder('t', log, () => undefined, () => false, () => undefined);
    const d = { lfn: '/d/f', serverId: 's1', diskId: 's1:/d0', dataPath: 'public/0A/x%', size: 9, kind: 'superseded' as const, reason: 'older', strpver: 1, latestStrpver: 2 };
    r.debrisFound([d]);
    r.debrisFound([d, { ...d, dataPath: 'public/0B/y%' }]);
    assert.deepEqual(log.query({ limit: 10 }).map((x) => (x.event.data as { dataPath: string }).dataPath), ['public/0A/x%', 'public/0B/y%']);
  });

  it('indicators: low-durability and last-copy-offline are critical, the others warnings, a clear is info', () => {
    const r = new EventRecorder('t', log, () => undefined, () => false, () => undefined);
    for (const indicator of ['low-durability', 'last-copy-offline', 'insufficient-storage', 'disk-failing'] as const) {
      r.indicator({ indicator, active: true, since: Date.now(), details: 'x' });
    }
    r.indicator({ indicator: 'disk-failing', active: false, since: Date.now(), details: 'x' });
    const got = log.query({ limit: 10 }).map((x) => `${x.event.subject.indicator} ${x.event.severity}`);
    assert.deepEqual(got, ['low-durability critical', 'last-copy-offline critical', 'insufficient-storage warning', 'disk-failing warning', 'disk-failing info']);
  });
});
