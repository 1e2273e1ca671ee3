// The data-safety event (DESIGN.md §4 Events, §6 Event): written to the catalog's events table
// first (the audit log), then published from that outbox to NATS JetStream. One envelope for
// every type; `data` has one schema per type, versioned by the envelope's `specversion`: a
// change that is not purely additive-and-optional bumps it. docs/events.md documents each type.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { EcguardError } from '../errors.js';
import { FILE_STATES } from './file-health.js';

export const EVENT_SPECVERSION = 1;

export const EVENT_TYPES = [
  'file.created',
  'file.deleted',
  'file.degraded',
  'file.critical',
  'file.lost',
  'file.repaired',
  'debris.found',
  'debris.quarantined',
  'disk.failed',
  'disk.downgraded',
  'disk.replaced',
  'server.down',
  'server.up',
  'server.lost',
  'repair.failed',
  'corruption.found',
  'health.changed',
  'drain.started',
  'drain.stopped',
  'drain.completed',
  'server.forgotten',
  'disk.forgotten',
  'census.completed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

/** The "when to panic" indicators (seeds/dmedia-road-to-production.txt), named in health.changed. */
export const HEALTH_INDICATORS = ['insufficient-storage', 'last-copy-offline', 'disk-failing', 'low-durability'] as const;
export type HealthIndicator = (typeof HEALTH_INDICATORS)[number];

/** Severity when the producer gives none. A failing disk is never below warning (dmedia: always tell). */
export const DEFAULT_SEVERITY: Readonly<Record<EventType, EventSeverity>> = {
  'file.created': 'info',
  'file.deleted': 'info',
  'file.degraded': 'warning',
  'file.critical': 'critical',
  'file.lost': 'critical',
  'file.repaired': 'info',
  'debris.found': 'info',
  'debris.quarantined': 'info',
  'disk.failed': 'critical',
  'disk.downgraded': 'warning',
  'disk.replaced': 'warning',
  'server.down': 'warning',
  'server.up': 'info',
  'server.lost': 'warning',
  'repair.failed': 'warning',
  'corruption.found': 'warning',
  'health.changed': 'warning',
  'drain.started': 'info',
  'drain.stopped': 'info',
  'drain.completed': 'info',
  'server.forgotten': 'warning',
  'disk.forgotten': 'warning',
  'census.completed': 'info',
};

const subjectSchema = z.strictObject({
  lfn: z.string().min(1).max(4096).optional(),
  serverId: z.string().min(1).max(256).optional(),
  diskId: z.string().min(1).max(256).optional(),
  indicator: z.enum(HEALTH_INDICATORS).optional(),
});
export type EventSubjectIds = z.infer<typeof subjectSchema>;
type SubjectKey = keyof EventSubjectIds;

/** Subject ids each type must name, so consumers can filter without reading `data`. */
export const REQUIRED_SUBJECT: Readonly<Record<EventType, readonly SubjectKey[]>> = {
  'file.created': ['lfn'],
  'file.deleted': ['lfn'],
  'file.degraded': ['lfn'],
  'file.critical': ['lfn'],
  'file.lost': ['lfn'],
  'file.repaired': ['lfn'],
  'debris.found': ['serverId', 'diskId'],
  'debris.quarantined': ['serverId', 'diskId'],
  'disk.failed': ['serverId', 'diskId'],
  'disk.downgraded': ['serverId', 'diskId'],
  'disk.replaced': ['serverId', 'diskId'],
  'server.down': ['serverId'],
  'server.up': ['serverId'],
  'server.lost': ['serverId'],
  'repair.failed': ['lfn'],
  'corruption.found': ['serverId', 'diskId'],
  'health.changed': ['indicator'],
  'drain.started': ['serverId'],
  'drain.stopped': ['serverId'],
  'drain.completed': ['serverId'],
  'server.forgotten': ['serverId'],
  'disk.forgotten': ['serverId', 'diskId'],
  'census.completed': [],
};

// ---- data schemas, specversion 1 ----
const count = z.int().min(0);
const name = z.string().min(1).max(256);
const MAX_TEXT = 2000;
const text = z.string().min(1).max(MAX_TEXT);
const isoTime = z.iso.datetime();
const relPath = z.string().min(1).max(4096);
const profile = z.strictObject({ nbData: z.int().min(1), nbParity: z.int().min(0), chunkSize: z.int().min(1) });
const diskState = z.enum(['online', 'missing', 'failed', 'downgraded']);
const drainKind = z.enum(['server', 'disk']);
const fileState = z.enum(FILE_STATES);
// A state change of one file; redundancy = min stripe coverage − n, negative once lost.
const fileStateChange = {
  previousState: fileState.optional(),
  redundancy: z.int(),
  available: count,
  unavailable: count,
  profile,
  strpver: count.optional(),
  filesize: count.optional(),
};

const DATA_V1 = {
  'file.created': z.strictObject({ strpver: count.optional(), filesize: count, profile, servers: z.array(name) }),
  'file.deleted': z.strictObject({ strpver: count.optional(), filesize: count.optional(), serversAway: z.array(name) }),
  'file.degraded': z.strictObject({ ...fileStateChange, state: z.literal('degraded') }),
  'file.critical': z.strictObject({ ...fileStateChange, state: z.literal('critical') }),
  'file.lost': z.strictObject({ ...fileStateChange, state: z.literal('lost') }),
  'file.repaired': z.strictObject({
    ...fileStateChange,
    state: z.enum(['healthy', 'degraded', 'critical']),
    taskId: name.optional(),
    rebuilt: z.array(z.strictObject({ stripe: count, serverId: name, diskId: name })).min(1),
    /** Of those, archives moved off a drained disk or server (`ecguard drain`), not lost ones. */
    moved: count.optional(),
  }),
  'debris.found': z.strictObject({ dataPath: relPath, kind: z.enum(['superseded', 'deleted', 'damaged']), size: count, strpver: count.optional(), latestStrpver: count.optional() }),
  'debris.quarantined': z.strictObject({ dataPath: relPath, quarantinePath: relPath, size: count, purgeAfter: isoTime, linkRemoved: relPath.optional() }),
  'disk.failed': z.strictObject({ path: relPath, previousState: diskState.optional(), error: text, archives: count }),
  'disk.downgraded': z.strictObject({ path: relPath, previousState: diskState, corruptStripes: count, by: z.enum(['corruption', 'operator']) }),
  'disk.replaced': z.strictObject({ path: relPath, oldUuid: name.optional(), newUuid: name.optional(), archivesLost: count }),
  'server.down': z.strictObject({ lastSeen: isoTime, lostAt: isoTime, archives: count }),
  'server.up': z.strictObject({ downSince: isoTime, previousState: z.enum(['down', 'lost']) }),
  'server.lost': z.strictObject({ lastSeen: isoTime.optional(), by: z.enum(['timeout', 'operator']), archives: count }),
  'repair.failed': z.strictObject({ taskId: name, attempt: z.int().min(1), parked: z.boolean(), error: text, executor: name.optional(), retryAt: isoTime.optional() }),
  'corruption.found': z.strictObject({
    dataPath: relPath,
    detectedBy: z.enum(['scrub', 'repair', 'read']),
    entries: z
      .array(z.strictObject({ block: count, stripe: count, expectedCrc: z.string().regex(/^[0-9a-f]{8}$/).optional(), actualCrc: z.string().regex(/^[0-9a-f]{8}$/).optional() }))
      .min(1),
  }),
  'health.changed': z.strictObject({ active: z.boolean(), since: isoTime, count: count.optional(), details: text }),
  'drain.started': z.strictObject({ kind: drainKind, reason: z.string().max(500), disks: count }),
  'drain.stopped': z.strictObject({ kind: drainKind, since: isoTime, remaining: count }),
  'drain.completed': z.strictObject({ kind: drainKind, since: isoTime, disks: count }),
  'server.forgotten': z.strictObject({ archives: count, files: count }),
  'disk.forgotten': z.strictObject({ archives: count, files: count }),
  // a new catalog's first census (coordinator/events/census.ts)
  'census.completed': z.strictObject({ startedAt: isoTime, files: count, bytes: count, notAnnounced: count }),
} satisfies Record<EventType, z.ZodType>;

/** Data schemas by envelope specversion; validators pick the set the event says it follows. */
export const EVENT_DATA_SCHEMAS: Readonly<Record<number, Readonly<Record<EventType, z.ZodType>>>> = { 1: DATA_V1 };

export type EventData<T extends EventType> = z.infer<(typeof DATA_V1)[T]>;

export interface EcguardEvent<T extends EventType = EventType> {
  readonly specversion: 1;
  /** Time-ordered and unique: also the JetStream Nats-Msg-Id (dedupe). */
  readonly id: string;
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly cluster: string;
  readonly type: T;
  readonly severity: EventSeverity;
  readonly subject: EventSubjectIds;
  /** One sentence for people. */
  readonly reason: string;
  readonly data: EventData<T>;
}

// ---- ids: 13 Crockford base32 chars of ms time + 13 of a per-process monotonic random ----
const B32 = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_RE = /^[0-9a-hjkmnp-tv-z]{26}$/;

function b32(v: bigint, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = B32[Number(v & 31n)] + s;
    v >>= 5n;
  }
  return s;
}

/** Ids from one generator sort in creation order, even within one millisecond. */
export class EventIdGenerator {
  private lastMs = -1;
  private lastRand = 0n;

  next(nowMs = Date.now()): string {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
      this.lastRand = randomBytes(8).readBigUInt64BE() >> 1n; // headroom: increments never overflow 13 chars
    } else {
      this.lastRand += 1n; // same ms, or the clock stepped back: keep order
    }
    return b32(BigInt(this.lastMs), 13) + b32(this.lastRand, 13);
  }

  /** Later ids sort after `id` (one read back from a log): seeds the clock and counter. */
  observe(id: string): void {
    if (!ID_RE.test(id)) return;
    const ms = eventIdTimeMs(id);
    let rand = 0n;
    for (const c of id.slice(13)) rand = rand * 32n + BigInt(B32.indexOf(c));
    if (ms > this.lastMs || (ms === this.lastMs && rand > this.lastRand)) {
      this.lastMs = ms;
      this.lastRand = rand;
    }
  }
}

const ids = new EventIdGenerator();

/** New ids of the process-wide generator sort after `id`. */
export function observeEventId(id: string): void {
  ids.observe(id);
}

/** A new event id from the process-wide generator. */
export function newEventId(nowMs = Date.now()): string {
  return ids.next(nowMs);
}

/** Milliseconds since the epoch encoded in an event id. */
export function eventIdTimeMs(id: string): number {
  let v = 0;
  for (const c of id.slice(0, 13)) v = v * 32 + B32.indexOf(c);
  return v;
}

// ---- subjects ----
/**
 * The cluster name as one NATS subject token: every character other than A-Z a-z 0-9 `_` `-`
 * (dots, spaces, `*`, `>` would split or wildcard the subject) becomes `_`. `cern.ch` and
 * `cern_ch` therefore share subjects; the envelope's `cluster` keeps the exact name.
 */
export function clusterToken(cluster: string): string {
  if (cluster.length === 0) throw new EcguardError('BAD_EVENT', 'the cluster name is empty: set one in the coordinator config');
  return cluster.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** `ecguard.<cluster token>.<type>`, e.g. `ecguard.prod.file.lost`. */
export function eventSubject(cluster: string, type: EventType): string {
  return `ecguard.${clusterToken(cluster)}.${type}`;
}

// ---- construction and validation ----
const envelopeSchema = z.strictObject({
  specversion: z.literal(EVENT_SPECVERSION),
  id: z.string().regex(ID_RE, { error: 'expected a 26-character lowercase Crockford base32 event id' }),
  time: isoTime,
  cluster: z.string().min(1).max(256),
  type: z.enum(EVENT_TYPES),
  severity: z.enum(EVENT_SEVERITIES),
  subject: subjectSchema,
  reason: text,
  data: z.unknown(),
});

function issueText(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.map((i) => `${[...prefix, ...i.path].map(String).join('.') || '(event)'}: ${i.message}`);
}

export type EventValidation = { ok: true; event: EcguardEvent } | { ok: false; error: string };

/** Checks envelope, required subject ids and the type's data; names every problem at once. */
export function validateEvent(input: unknown): EventValidation {
  const env = envelopeSchema.safeParse(input);
  if (!env.success) return { ok: false, error: `invalid ecguard event: ${issueText(env.error.issues).join('; ')}` };
  const e = env.data;
  const problems: string[] = [];
  for (const k of REQUIRED_SUBJECT[e.type]) {
    if (e.subject[k] === undefined) problems.push(`subject.${k}: required for ${e.type} events`);
  }
  const schema = EVENT_DATA_SCHEMAS[e.specversion]?.[e.type];
  const data = schema?.safeParse(e.data);
  if (data && !data.success) problems.push(...issueText(data.error.issues, ['data']));
  if (problems.length > 0) return { ok: false, error: `invalid ${e.type} event ${e.id}: ${problems.join('; ')}` };
  return { ok: true, event: { ...e, data: data?.data } as EcguardEvent };
}

/** validateEvent, throwing EcguardError('BAD_EVENT') instead. */
export function parseEvent(input: unknown): EcguardEvent {
  const v = validateEvent(input);
  if (!v.ok) throw new EcguardError('BAD_EVENT', v.error);
  return v.event;
}

/** A new, validated event stamped now; throws EcguardError('BAD_EVENT') on bad input. */
export function makeEvent<T extends EventType>(
  cluster: string,
  type: T,
  subject: EventSubjectIds,
  reason: string,
  data: EventData<T>,
  severity: EventSeverity = DEFAULT_SEVERITY[type],
): EcguardEvent<T> {
  clusterToken(cluster);
  const now = Date.now();
  // Reasons quote LFNs (up to 4096 bytes), evidence and errors: a long one is cut, never a
  // reason to lose the event.
  const said = reason.length > MAX_TEXT ? `${reason.slice(0, MAX_TEXT - 1)}…` : reason;
  const event = { specversion: EVENT_SPECVERSION, id: newEventId(now), time: new Date(now).toISOString(), cluster, type, severity, subject, reason: said, data };
  return parseEvent(event) as EcguardEvent<T>;
}
