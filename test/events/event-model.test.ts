// The event model: every type has a valid example (here and in docs/events.md), bad events are
// refused with messages that name the field, ids sort by time, subjects are NATS-safe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_SEVERITY,
  EVENT_TYPES,
  EventIdGenerator,
  REQUIRED_SUBJECT,
  clusterToken,
  eventIdTimeMs,
  eventSubject,
  makeEvent,
  parseEvent,
  validateEvent,
  type EventData,
  type EventSubjectIds,
  type EventType,
} from '../../shared/domain/event.js';
import { EcguardError } from '../../shared/errors.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const profile = { nbData: 4, nbParity: 2, chunkSize: 1048576 };
const srv = { serverId: 'srv07', diskId: 'srv07:/disk/sdb' };
const lfn = { lfn: '/data/run3/f001.root' };
const change = { redundancy: 1, available: 5, unavailable: 0, profile, strpver: 3, filesize: 7340032 };

/** One example per type: subject ids and data. */
const EXAMPLES: { [T in EventType]: { subject: EventSubjectIds; data: EventData<T> } } = {
  'file.created': { subject: lfn, data: { strpver: 1, filesize: 7340032, profile, servers: ['srv01', 'srv02', 'srv03', 'srv04', 'srv05', 'srv06'] } },
  'file.deleted': { subject: lfn, data: { strpver: 3, filesize: 7340032, serversAway: ['srv07'] } },
  'file.degraded': { subject: lfn, data: { ...change, previousState: 'healthy', state: 'degraded' } },
  'file.critical': { subject: lfn, data: { ...change, redundancy: 0, available: 4, previousState: 'degraded', state: 'critical' } },
  'file.lost': { subject: lfn, data: { ...change, redundancy: -1, available: 3, previousState: 'critical', state: 'lost' } },
  'file.repaired': { subject: lfn, data: { ...change, redundancy: 2, available: 6, previousState: 'degraded', state: 'healthy', taskId: 't-42', rebuilt: [{ stripe: 4, ...srv }] } },
  'debris.found': { subject: { ...srv, ...lfn }, data: { dataPath: 'public/3A/f001.root%', kind: 'superseded', size: 1835008, strpver: 2, latestStrpver: 3 } },
  'debris.quarantined': { subject: srv, data: { dataPath: 'public/3A/f001.root%', quarantinePath: '.ecguard-quarantine/public/3A/f001.root%', size: 1835008, purgeAfter: '2025-06-08T10:00:00.000Z' } },
  'disk.failed': { subject: srv, data: { path: '/disk/sdb', previousState: 'online', error: 'EIO reading /disk/sdb/public/3A', archives: 51234 } },
  'disk.downgraded': { subject: srv, data: { path: '/disk/sdb', previousState: 'online', corruptStripes: 3, by: 'corruption' } },
  'disk.replaced': { subject: srv, data: { path: '/disk/sdb', oldUuid: '0f1c6c1e-5b1f-4c55-9d87-0e3a3c1d2b11', newUuid: '7b0d4a35-8a6e-4b0e-a2c4-3f39e8b9d0c2', archivesLost: 51234 } },
  'server.down': { subject: { serverId: 'srv07' }, data: { lastSeen: '2025-06-01T10:00:00.000Z', lostAt: '2025-06-01T11:00:30.000Z', archives: 204811 } },
  'server.up': { subject: { serverId: 'srv07' }, data: { downSince: '2025-06-01T10:00:30.000Z', previousState: 'down' } },
  'server.lost': { subject: { serverId: 'srv07' }, data: { lastSeen: '2025-06-01T10:00:00.000Z', by: 'timeout', archives: 204811 } },
  'repair.failed': { subject: lfn, data: { taskId: 't-42', attempt: 3, parked: false, error: 'source srv02 closed the stream', executor: 'srv05', retryAt: '2025-06-01T10:05:00.000Z' } },
  'corruption.found': { subject: { ...srv, ...lfn }, data: { dataPath: 'public/3A/f001.root%', detectedBy: 'scrub', entries: [{ block: 2, stripe: 1, expectedCrc: '8d3f2a10', actualCrc: '00000000' }] } },
  'health.changed': { subject: { indicator: 'disk-failing' }, data: { active: true, since: '2025-06-01T10:00:00.000Z', count: 1, details: 'corrupt stripes found on srv07:/disk/sdb' } },
  'drain.started': { subject: srv, data: { kind: 'disk', reason: 'SMART: 24 pending sectors', disks: 1 } },
  'drain.stopped': { subject: { serverId: 'srv07' }, data: { kind: 'server', since: '2025-06-01T10:00:00.000Z', remaining: 1200 } },
  'drain.completed': { subject: srv, data: { kind: 'disk', since: '2025-06-01T10:00:00.000Z', disks: 1 } },
  'server.forgotten': { subject: { serverId: 'srv07' }, data: { archives: 204811, files: 198004 } },
  'disk.forgotten': { subject: srv, data: { archives: 51234, files: 51234 } },
  'census.completed': { subject: {}, data: { startedAt: '2025-06-01T09:58:00.000Z', files: 1204311, bytes: 3301992177664, notAnnounced: 1204305 } },
};

function example<T extends EventType>(type: T) {
  const ex = EXAMPLES[type];
  return makeEvent('prod', type, ex.subject, `example ${type}`, ex.data);
}

describe('event model', () => {
  it('every type has an example that validates, with the default severity', () => {
    for (const type of EVENT_TYPES) {
      const e = example(type);
      assert.equal(e.specversion, 1);
      assert.equal(e.severity, DEFAULT_SEVERITY[type]);
      const v = validateEvent(JSON.parse(JSON.stringify(e)));
      assert.ok(v.ok, `${type}: ${v.ok ? '' : v.error}`);
      assert.deepEqual(v.event, e);
    }
  });

  it('every JSON example in docs/events.md validates, and every type has one', () => {
    const md = readFileSync(resolve(repoRoot, 'docs', 'events.md'), 'utf8');
    const blocks = [...md.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? '') as Record<string, unknown>);
    const seen = new Set<string>();
    for (const b of blocks) {
      if (b.specversion === undefined) continue;
      const v = validateEvent(b);
      assert.ok(v.ok, v.ok ? '' : v.error);
      seen.add(v.event.type);
    }
    assert.deepEqual([...seen].sort(), [...EVENT_TYPES].sort());
  });

  it('a severity can be raised per event', () => {
    const e = makeEvent('prod', 'repair.failed', EXAMPLES['repair.failed'].subject, 'parked', { ...EXAMPLES['repair.failed'].data, parked: true }, 'critical');
    assert.equal(e.severity, 'critical');
  });

  it('names every problem of a bad event, with its path', () => {
    const good = JSON.parse(JSON.stringify(example('file.lost'))) as Record<string, unknown>;
    const bad = { ...good, subject: {}, data: { ...(good.data as object), redundancy: 'none', state: 'healthy', extra: 1 } };
    const v = validateEvent(bad);
    assert.equal(v.ok, false);
    const error = v.ok ? '' : v.error;
    assert.match(error, /^invalid file\.lost event [0-9a-z]{26}: /);
    assert.match(error, /subject\.lfn: required for file\.lost events/);
    assert.match(error, /data\.redundancy: .*expected number, received string/);
    assert.match(error, /data\.state: /);
    assert.match(error, /data: .*"extra"/);
  });

  it('refuses a bad envelope before looking at data', () => {
    const good = JSON.parse(JSON.stringify(example('server.up'))) as Record<string, unknown>;
    for (const [patch, want] of [
      [{ specversion: 2 }, /specversion/],
      [{ type: 'file.vanished' }, /type: /],
      [{ severity: 'panic' }, /severity: /],
      [{ id: 'not-an-id' }, /id: expected a 26-character/],
      [{ time: 'yesterday' }, /time: /],
      [{ reason: '' }, /reason: /],
      [{ subject: { host: 'x' } }, /subject: .*"host"/],
    ] as const) {
      const v = validateEvent({ ...good, ...patch });
      assert.equal(v.ok, false, JSON.stringify(patch));
      assert.match(v.ok ? '' : v.error, /^invalid ecguard event: /);
      assert.match(v.ok ? '' : v.error, want);
    }
    assert.equal(validateEvent('{}').ok, false);
    assert.equal(validateEvent(null).ok, false);
  });

  it('makeEvent and parseEvent throw EcguardError BAD_EVENT', () => {
    const data = { ...EXAMPLES['disk.failed'].data, archives: -1 };
    assert.throws(
      () => makeEvent('prod', 'disk.failed', { serverId: 'srv07' }, 'disk gone', data),
      (e: unknown) => e instanceof EcguardError && e.code === 'BAD_EVENT' && /subject\.diskId/.test(e.message) && /data\.archives/.test(e.message),
    );
    assert.throws(() => parseEvent({}), (e: unknown) => e instanceof EcguardError && e.code === 'BAD_EVENT');
    assert.throws(() => makeEvent('', 'server.up', { serverId: 's' }, 'up', EXAMPLES['server.up'].data), /cluster name is empty/);
  });

  it('a reason over 2000 characters is cut, the event still made (it quotes LFNs of up to 4096)', () => {
    const e = makeEvent('prod', 'file.lost', { lfn: `/data/${'x'.repeat(3000)}` }, `lost: /data/${'x'.repeat(3000)}`, EXAMPLES['file.lost'].data);
    assert.equal(e.reason.length, 2000);
    assert.ok(e.reason.endsWith('…'));
  });

  it('ids sort after an observed one, even one from a clock ahead of ours', () => {
    const gen = new EventIdGenerator();
    const ahead = new EventIdGenerator().next(Date.now() + 3_600_000);
    gen.observe(ahead);
    const next = gen.next();
    assert.ok(next > ahead);
    gen.observe('not-an-id');
    assert.ok(gen.next() > next);
  });

  it('every type requires its subject ids', () => {
    for (const type of EVENT_TYPES) {
      const e = JSON.parse(JSON.stringify(example(type))) as { subject: Record<string, unknown> };
      for (const k of REQUIRED_SUBJECT[type]) {
        const subject = { ...e.subject };
        delete subject[k];
        const v = validateEvent({ ...e, subject });
        assert.match(v.ok ? '' : v.error, new RegExp(`subject\\.${k}: required`), `${type} without ${k}`);
      }
    }
  });

  it('ids are unique and sort in creation order, even within one millisecond', () => {
    const gen = new EventIdGenerator();
    const ids = Array.from({ length: 5000 }, () => gen.next(1_700_000_000_000));
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    const later = gen.next(1_700_000_000_001);
    assert.ok(later > ids[ids.length - 1]!);
    assert.equal(eventIdTimeMs(later), 1_700_000_000_001);
    const stepBack = gen.next(1_600_000_000_000); // clock stepped back: order still kept
    assert.ok(stepBack > later);
    const now = Date.now();
    const e = example('server.up');
    assert.ok(Math.abs(eventIdTimeMs(e.id) - now) < 5000);
  });

  it('subjects are ecguard.<cluster token>.<type>, with the cluster made NATS-safe', () => {
    assert.equal(eventSubject('prod', 'file.lost'), 'ecguard.prod.file.lost');
    assert.equal(clusterToken('cern.ch eos*>'), 'cern_ch_eos__');
    assert.equal(eventSubject('T2_DE-1', 'disk.failed'), 'ecguard.T2_DE-1.disk.failed');
    assert.throws(() => clusterToken(''), /cluster name is empty/);
    const e = makeEvent('cern.ch', 'server.up', { serverId: 's1' }, 'back', EXAMPLES['server.up'].data);
    assert.equal(e.cluster, 'cern.ch');
  });
});
