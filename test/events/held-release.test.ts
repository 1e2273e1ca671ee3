// Held file changes (safe mode) are released a page per transaction, each page's events written
// in the transaction that removes its rows: a failed page or a crash between pages loses and
// repeats no event, and changes arriving during a release queue behind it (a file's events
// stay in order).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../coordinator/events/event-log.js';
import { EventRecorder } from '../../coordinator/events/event-recorder.js';
import type { FileChange } from '../../coordinator/health/reclassifier.js';
import { file } from '../coordinator/catalog/catalog-fixtures.js';

const P = { nbData: 4, nbParity: 2, chunkSize: 4096 };
const lfn = (i: number): string => `/d/f${String(i).padStart(2, '0')}`;
/** healthy → degraded: one file.degraded event per file. */
const degrade = (i: number): FileChange => ({ lfn: lfn(i), prev: file(lfn(i)), next: file(lfn(i), { state: 'degraded', reason: `r${i}` }), anomalies: [] });

describe('held file changes: paged release', () => {
  let dir: string;
  let db: string;
  let log: EventLog;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-held-'));
    db = join(dir, 'c.db');
    log = new EventLog(db);
  });
  afterEach(() => {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const holdChanges = (n: number): void => new EventRecorder('t', log, () => P, () => true, () => undefined).fileChanges(Array.from({ length: n }, (_, i) => degrade(i)));
  const events = (): string[] => log.query({ limit: 1000 }).map((x) => `${x.event.type} ${x.event.subject.lfn ?? ''}`);

  it('commits a page at a time, yields between pages, and queues changes that arrive meanwhile', async () => {
    holdChanges(25);
    const heldAfterPage: number[] = [];
    const r = new EventRecorder('t', log, () => P, () => false, () => heldAfterPage.push(log.held.count()), 3_600_000, 10);
    assert.equal(r.hasHeld, true);
    const run = r.releaseHeld();
    // The first page is committed; the event loop runs before the next one.
    assert.equal(log.held.count(), 15);
    assert.equal(events().length, 10);
    r.fileChanges([
      { lfn: lfn(3), prev: file(lfn(3), { state: 'degraded' }), next: file(lfn(3), { state: 'critical', reason: 'again' }), anomalies: [] }, // released already
      { lfn: lfn(20), prev: file(lfn(20), { state: 'degraded' }), next: file(lfn(20), { state: 'lost', reason: 'gone' }), anomalies: [] }, // still held
    ]);
    assert.equal(events().length, 10, 'changes during a release are held, not written ahead of older ones');
    assert.equal(await run, 26);
    assert.deepEqual(heldAfterPage, [15, 6, 0], 'three pages (the re-held file adds a row)');
    assert.equal(r.hasHeld, false);
    const all = events();
    assert.equal(all.length, 26);
    assert.equal(new Set(all).size, 26, 'no event twice');
    assert.ok(all.indexOf(`file.degraded ${lfn(3)}`) < all.indexOf(`file.critical ${lfn(3)}`), 'a file\'s events in order');
    assert.ok(all.includes(`file.lost ${lfn(20)}`) && !all.includes(`file.degraded ${lfn(20)}`), 'the net change of a file held across the release');
    r.fileChanges([degrade(40)]);
    assert.equal(events().length, 27, 'with nothing held, changes are written at once again');
  });

  it('a page that fails keeps its rows held; released pages stay released; the next run finishes', () => {
    holdChanges(25);
    let calls = 0;
    const failing = (c: { lfn: string }): never[] => {
      if (++calls > 10) throw new Error(`injected: ${c.lfn}`);
      return [];
    };
    assert.deepEqual(log.held.releasePage(failing, 10), { rows: 10, events: 0 });
    assert.throws(() => log.held.releasePage(failing, 10), /injected/);
    assert.equal(log.held.count(), 15, 'the failed page rolled back');
    assert.deepEqual(log.held.releasePage(() => [], 100), { rows: 15, events: 0 });
    assert.equal(log.held.any(), false);
  });

  it('a crash between pages loses and repeats nothing: the restarted release finishes the rest', async () => {
    holdChanges(25);
    log.close();
    const script = `const { EventLog } = await import(process.env.LOG_MOD);
      const { EventRecorder } = await import(process.env.REC_MOD);
      const log = new EventLog(process.env.DB);
      await new EventRecorder('t', log, () => (${JSON.stringify(P)}), () => false, () => undefined, 3600000, 10).releaseHeld();
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        ...process.env, ECGUARD_FAULT_KILL_AT: 'held-release-page', DB: db,
        LOG_MOD: new URL('../../coordinator/events/event-log.js', import.meta.url).href, REC_MOD: new URL('../../coordinator/events/event-recorder.js', import.meta.url).href,
      },
    });
    assert.equal(r.signal, 'SIGKILL', `killed between pages (status ${r.status}): ${r.stderr.toString()}`);
    log = new EventLog(db);
    assert.equal(events().length, 10, 'the first page\'s events are logged');
    assert.equal(log.held.count(), 15, 'with exactly its rows gone');
    const again = new EventRecorder('t', log, () => P, () => false, () => undefined, 3_600_000, 10);
    assert.equal(again.hasHeld, true);
    await again.releaseHeld();
    assert.deepEqual(events().sort(), Array.from({ length: 25 }, (_, i) => `file.degraded ${lfn(i)}`));
    assert.equal(log.held.count(), 0);
  });

  it('stops between pages when safe mode comes back, and when stopped', async () => {
    holdChanges(25);
    let safe = false;
    const r = new EventRecorder('t', log, () => P, () => safe, () => undefined, 3_600_000, 10);
    const run = r.releaseHeld();
    safe = true;
    assert.equal(await run, 10);
    assert.equal(log.held.count(), 15);
    assert.equal(r.hasHeld, true);
    safe = false;
    const second = r.releaseHeld();
    await r.stop();
    assert.equal(await second, 10);
    assert.equal(log.held.count(), 5, 'the rest waits for the next start');
  });
});
