// A new catalog's first census (coordinator/events/census.ts): files it finds that were written
// before it are counted in one census.completed, not announced one by one; files written during
// it, and every alert, still are; a restart mid-census goes on with the tally; once it ended,
// new files are announced again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../coordinator/events/event-log.js';
import { CLOCK_MARGIN_MS } from '../../coordinator/events/census.js';
import { EventRecorder } from '../../coordinator/events/event-recorder.js';
import type { FileRow } from '../../coordinator/catalog/catalog-types.js';
import type { FileChange } from '../../coordinator/health/reclassifier.js';
import { file } from '../coordinator/catalog/catalog-fixtures.js';

const P = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const OLD = 1_700_000_000; // strpver: written in 2023
const first = (f: FileRow): FileChange => ({ lfn: f.lfn, next: f, anomalies: [], servers: ['s1', 's2'] });
const done = (f: string): FileRow => file(f, { state: 'healthy', createdAt: Date.now(), latestStrpver: OLD, filesize: 1000, bytes: 1000 });

describe('first census of a new catalog', () => {
  let dir: string;
  let log: EventLog;
  let safe: boolean;
  const recorder = (): EventRecorder => new EventRecorder('t', log, () => P, () => safe, () => undefined);
  const types = (): string[] => log.query({ limit: 1000 }).map((x) => `${x.event.type} ${x.event.subject.lfn ?? ''}`.trim());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-census-'));
    log = new EventLog(join(dir, 'c.db'));
    safe = true;
  });
  afterEach(() => {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts old files instead of announcing them; announces files written meanwhile and every alert; then announces new files again', async () => {
    const r = recorder();
    const start = Date.now();
    r.beginCensus();
    assert.equal(r.censusPending, true);
    const fresh = file('/d/new', { state: 'healthy', createdAt: Date.now(), latestStrpver: Math.floor(start / 1000), filesize: 10, bytes: 10 });
    // a client whose clock is 5 minutes behind: within the margin, still announced
    const skewed = file('/d/skewed', { state: 'healthy', createdAt: Date.now(), latestStrpver: Math.floor((start - 5 * 60_000) / 1000), filesize: 20, bytes: 20 });
    // written 15 minutes before the census: an old file
    const older = file('/d/older', { state: 'healthy', createdAt: Date.now(), latestStrpver: Math.floor((start - CLOCK_MARGIN_MS - 5 * 60_000) / 1000), filesize: 40, bytes: 40 });
    const sick = file('/d/sick', { state: 'degraded', reason: 'one archive missing', createdAt: Date.now(), latestStrpver: OLD, filesize: 500, bytes: 500 });
    r.fileChanges([first(done('/d/a')), first(done('/d/b')), first(fresh), first(skewed), first(older), first(sick)]);
    assert.deepEqual(types(), [], 'held in safe mode');
    safe = false;
    await r.releaseHeld();
    assert.deepEqual(types().sort(), ['census.completed', 'file.created /d/new', 'file.created /d/skewed', 'file.degraded /d/sick']);
    const c = log.query({ types: ['census.completed'], limit: 1 })[0]?.event;
    assert.deepEqual(c?.data, { startedAt: new Date((c?.data as { startedAt: string }).startedAt).toISOString(), files: 6, bytes: 2570, notAnnounced: 4 });
    assert.ok(Date.parse((c?.data as { startedAt: string }).startedAt) >= start - 5);
    assert.deepEqual(c?.subject, {});
    assert.equal(r.censusPending, false);
    // over: a file first seen now is new, whatever its strpver
    r.fileChanges([first(done('/d/later'))]);
    assert.ok(types().includes('file.created /d/later'));
    await r.releaseHeld();
    assert.equal(log.query({ types: ['census.completed'], limit: 10 }).length, 1, 'one census');
  });

  it('a restart during the census goes on with its tally; a census with nothing held still ends when safe mode does', async () => {
    recorder().beginCensus();
    recorder().fileChanges([first(done('/d/a'))]);
    log.close();
    log = new EventLog(join(dir, 'c.db'));
    const again = recorder();
    assert.equal(again.censusPending, true, 'still pending after the restart');
    again.beginCensus(); // the coordinator's start finds the catalog knows servers by now, or not: no reset either way
    again.fileChanges([first(done('/d/b'))]);
    safe = false;
    assert.equal(again.hasHeld, true);
    await again.releaseHeld();
    assert.deepEqual(types(), ['census.completed']);
    assert.equal((log.query({ limit: 1 })[0]?.event.data as { files: number }).files, 2);

    // an empty site: nothing held, the census still ends (and says so) when safe mode is over
    log.close();
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'ecguard-census-'));
    log = new EventLog(join(dir, 'c.db'));
    const empty = recorder();
    empty.beginCensus();
    assert.equal(empty.hasHeld, true);
    await empty.releaseHeld();
    assert.deepEqual(log.query({ limit: 5 }).map((x) => [x.event.type, (x.event.data as { files: number }).files]), [['census.completed', 0]]);
    assert.equal(empty.hasHeld, false);
  });

  it('safe mode left early (an operator): the census goes on, counting live changes across a restart, until every known server has reported', async () => {
    safe = false;
    let everyoneReported = false;
    const r = recorder();
    r.setCensusGate(() => everyoneReported);
    r.beginCensus();
    await r.releaseHeld();
    assert.equal(r.censusPending, true, 'not over while servers are still to report');
    r.fileChanges([first(done('/d/a')), first(done('/d/b'))]);
    assert.deepEqual(types(), [], 'no file.created for files written before the census');
    log.close();
    log = new EventLog(join(dir, 'c.db'));
    const again = recorder();
    again.setCensusGate(() => everyoneReported);
    again.fileChanges([first(done('/d/c'))]);
    await again.releaseHeld();
    assert.equal(again.censusPending, true);
    everyoneReported = true;
    assert.equal(again.hasHeld, true, 'the coordinator keeps calling releaseHeld while it is pending');
    await again.releaseHeld();
    const data = log.query({ types: ['census.completed'], limit: 1 })[0]?.event.data as { files: number; notAnnounced: number };
    assert.deepEqual([data.files, data.notAnnounced], [3, 3], 'the live counts survived the restart');
    assert.deepEqual(types(), ['census.completed']);
  });

  it('a release page whose transaction fails is counted once when it is released again', async () => {
    const r = recorder();
    r.beginCensus();
    r.fileChanges([first(done('/d/a')), first(done('/d/b'))]);
    safe = false;
    const held = log.held;
    const releasePage = held.releasePage.bind(held);
    // the page's events are made (and the files counted), then its transaction fails
    held.releasePage = (eventsOf) => {
      eventsOf({ lfn: '/d/a', next: done('/d/a') });
      eventsOf({ lfn: '/d/b', next: done('/d/b') });
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    await assert.rejects(r.releaseHeld(), /SQLITE_FULL/);
    assert.equal(r.censusTally?.files, 0, 'the failed page left the tally as it was');
    held.releasePage = releasePage;
    await r.releaseHeld();
    const data = log.query({ types: ['census.completed'], limit: 1 })[0]?.event.data as { files: number; notAnnounced: number };
    assert.deepEqual([data.files, data.notAnnounced], [2, 2]);
  });

  it('a damaged census row refuses to start the recorder, naming the row; the row is left as it was', () => {
    log.setMeta('census', '{"startedAt": "yesterday"}');
    assert.throws(() => recorder(), (e: Error & { code?: string }) => e.code === 'EVENT_LOG_CORRUPT' && /events_meta row "census".*delete that row/.test(e.message));
    assert.equal(log.meta('census'), '{"startedAt": "yesterday"}');
  });

  it('without a census (a catalog that knew its servers) a file first seen is announced, old strpver or not', async () => {
    safe = false;
    const r = recorder();
    r.fileChanges([first(done('/d/a'))]);
    assert.deepEqual(types(), ['file.created /d/a']);
  });
});
