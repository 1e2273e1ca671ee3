// What the recorder states: a down server's lostAt follows server.lostAfter (it was always now +
// 1 h), and a raised indicator is critical only when files are one loss away or unreadable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../coordinator/events/event-log.js';
import { EventRecorder } from '../../coordinator/events/event-recorder.js';

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
