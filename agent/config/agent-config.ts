// The agent's own YAML config (deploy/agent.example.yaml documents every key). Validated with
// zod; every problem names the file, the line and the key path, all problems at once, so an
// operator fixes the file in one go. Unknown keys are errors: a misspelt throttle silently
// falling back to its default is worse than a refusal to start.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DURATION_HINT, parseDuration, tryParseDuration } from '../../shared/config/duration.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { isLoopbackAddress } from '../../shared/tls/tls-identity.js';
import { validateProfile, type EcProfile } from '../../shared/xrdec/profile.js';
import { loadEcProfile } from './ec-profile-config.js';
import { formatIssues, type YamlSource } from './yaml-issues.js';

export const DEFAULT_STATE_DIR = '/var/lib/ecguard';
export const DEFAULT_PLUGIN_CONFIG = '/etc/xrootd/client.plugins.d/xrdec.conf';
export const DEFAULT_FULL_SCAN_INTERVAL = '6h';
export const DEFAULT_DEBRIS_RETENTION = '7d';
export const DEFAULT_SCRUB_INTERVAL = '30d';

export interface AgentConfig {
  /** The YAML file this came from (relative paths in it are resolved against its directory). */
  readonly file: string;
  readonly serverId: string;
  readonly stateDir: string;
  readonly xrootdConfig: string;
  /** `xrootd -n NAME`; absent for an unnamed instance. */
  readonly instance?: string;
  /** Host name override; absent means this machine's fully qualified name. */
  readonly host?: string;
  readonly ecProfile: { readonly kind: 'plugin'; readonly pluginConfig: string } | { readonly kind: 'inline'; readonly profile: EcProfile };
  /** Disks to use instead of the xrootd config's oss.space lines. */
  readonly spaces?: readonly { readonly name: string; readonly path: string }[];
  readonly coordinator: {
    readonly address: string;
    readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
    readonly insecure: boolean;
  };
  readonly scan: { readonly fullScanIntervalMs: number; readonly jitter: number; readonly workers: number; readonly progress: boolean };
  readonly watch: { readonly enabled: boolean };
  /** Quarantined debris is purged this long after it was moved aside (DESIGN.md §8.1). */
  readonly debris: { readonly retentionMs: number };
  /** Background CRC check of every stripe entry (DESIGN.md §3 Scrub). */
  readonly scrub: { readonly enabled: boolean; readonly mbps: number; readonly intervalMs: number };
  readonly journal: { readonly maxEntries: number };
  readonly throttles: { readonly repairTasks: number; readonly repairMBps: number; readonly peerStreams: number };
  readonly metrics: { readonly listen?: string };
  readonly stripes: { readonly listen: string; readonly advertise?: string; readonly dataFileAddress?: { readonly ipv4: [number, number, number, number]; readonly port: number } };
}

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const HOST_PORT_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

const isHostPort = (s: string): boolean => {
  const m = HOST_PORT_RE.exec(s);
  return m !== null && Number(m[3]) >= 1 && Number(m[3]) <= 65535;
};

const nonEmpty = z.string().min(1);
const filePath = nonEmpty;
const absPath = nonEmpty.refine((p) => p.startsWith('/'), { error: 'expected an absolute path' });
const hostPort = z.string().refine(isHostPort, { error: 'expected host:port like 127.0.0.1:9464' });
const count = (dflt: number, max = Number.MAX_SAFE_INTEGER) => z.int().min(1).max(max).default(dflt);
const duration = z.string({ error: `expected ${DURATION_HINT}` }).transform((s, ctx) => {
  const ms = tryParseDuration(s);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}`, input: s });
    return z.NEVER;
  }
  return ms;
});

// oss.space PATH as xrootd reads it: trailing slashes dropped (else the disk id changes), and
// a path ending in the space name is the space directory, its parent the disk (as
// xrootd-config.ts does). `.`/`..` and `//` would give one disk two ids: refused.
const spaceSchema = z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected an oss.space name' }), path: absPath }).transform((s, ctx) => {
  const path = s.path.replace(/\/+$/, '');
  const bad = path === '' ? 'must not be the filesystem root' : path.includes('//') ? 'must not contain "//"' : path.split('/').some((c) => c === '.' || c === '..') ? 'must not contain "." or ".." components' : undefined;
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: bad, path: ['path'], input: s.path });
    return z.NEVER;
  }
  if (basename(path) !== s.name) return { name: s.name, path };
  if (dirname(path) === '/') {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s.path)} is the space directory ${s.name} itself, at the filesystem root: give the disk directory that holds it`, path: ['path'] });
    return z.NEVER;
  }
  return { name: s.name, path: dirname(path) };
});

const spacesSchema = z.array(spaceSchema).min(1).superRefine((spaces, ctx) => {
  // One disk listed twice would be scanned twice.
  spaces.forEach((s, i) => {
    const first = spaces.findIndex((o) => o.name === s.name && o.path === s.path);
    if (first < i) ctx.addIssue({ code: 'custom', message: `the same disk and space as spaces[${first}] (${s.name} on ${s.path}): list it once`, path: [i, 'path'] });
  });
});

const ecProfileSchema = z
  .strictObject({ pluginConfig: filePath.optional(), nbData: z.int().min(1).optional(), nbParity: z.int().min(1).optional(), chunkSize: z.int().min(1).optional() })
  .superRefine((p, ctx) => {
    const inline = [p.nbData, p.nbParity, p.chunkSize].filter((v) => v !== undefined).length;
    if (p.pluginConfig !== undefined && inline > 0) {
      ctx.addIssue({ code: 'custom', message: 'give either pluginConfig or nbData, nbParity and chunkSize, not both' });
    } else if (p.pluginConfig === undefined && inline < 3) {
      ctx.addIssue({ code: 'custom', message: 'give pluginConfig, or all of nbData, nbParity and chunkSize' });
    } else if (inline === 3) {
      try {
        validateProfile({ nbData: p.nbData as number, nbParity: p.nbParity as number, chunkSize: p.chunkSize as number });
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: errorText(err) });
      }
    }
  });

const coordinatorSchema = z
  .strictObject({
    address: hostPort,
    tls: z.strictObject({ ca: filePath, cert: filePath, key: filePath }).optional(),
    insecure: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.tls !== undefined && c.insecure) ctx.addIssue({ code: 'custom', message: 'give either tls or insecure: true, not both' });
    if (c.tls === undefined && !c.insecure) ctx.addIssue({ code: 'custom', message: 'give tls (ca, cert, key), or insecure: true to talk without TLS' });
  });

export const agentConfigSchema = z.strictObject({
  // Required, never the host name: a renamed host would look like a new server whose old
  // archives vanished, and the coordinator would plan repairs for nothing.
  serverId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected a stable name of letters, digits, ".", "_" or "-" (e.g. srv07)' }),
  stateDir: filePath.default(DEFAULT_STATE_DIR),
  xrootdConfig: filePath,
  instance: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected an xrootd instance name (xrootd -n NAME)' }).optional(),
  host: z.string().regex(HOST_RE, { error: 'expected a host name' }).optional(),
  ecProfile: ecProfileSchema.prefault({ pluginConfig: DEFAULT_PLUGIN_CONFIG }),
  spaces: spacesSchema.optional(),
  coordinator: coordinatorSchema,
  scan: z
    .strictObject({ fullScanInterval: duration.default(parseDuration(DEFAULT_FULL_SCAN_INTERVAL)), jitter: z.number().min(0).max(1).default(0.1), workers: count(2, 64), progress: z.boolean().default(false) })
    .prefault({}),
  watch: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  debris: z.strictObject({ retention: duration.default(parseDuration(DEFAULT_DEBRIS_RETENTION)) }).prefault({}),
  scrub: z.strictObject({ enabled: z.boolean().default(true), mbps: z.number().positive().max(100_000).default(20), interval: duration.default(parseDuration(DEFAULT_SCRUB_INTERVAL)) }).prefault({}),
  journal: z.strictObject({ maxEntries: count(1_000_000) }).prefault({}),
  throttles: z.strictObject({ repairTasks: count(2), repairMBps: z.number().positive().default(100), peerStreams: count(4) }).prefault({}),
  metrics: z.strictObject({ listen: hostPort.optional() }).prefault({}),
  // The Stripes service: peers read survivors from it and write rebuilt archives to it.
  stripes: z
    .strictObject({
      // Default: every interface with TLS; loopback only in insecure mode (plaintext never leaves the host).
      listen: z.string().refine((s) => isHostPort(s) || /:0$/.test(s), { error: 'expected host:port like 0.0.0.0:7444 (port 0: any free port)' }).optional(),
      advertise: hostPort.optional(),
      dataFileAddress: z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/, { error: 'expected the IPv4:port xrootd serves on, like 10.0.0.7:1094' }).optional(),
    })
    .prefault({}),
}).superRefine((c, ctx) => {
  // Checked here, not when the service starts: that comes after the first full scan (minutes).
  if (!c.coordinator.insecure || c.coordinator.tls !== undefined) return; // both given: reported above
  if (c.stripes.listen !== undefined && !isLoopbackAddress(c.stripes.listen)) {
    ctx.addIssue({ code: 'custom', path: ['stripes', 'listen'], message: `coordinator.insecure: true listens on loopback only, not ${c.stripes.listen} (give coordinator.tls instead, or listen on 127.0.0.1)` });
  }
  if (!isLoopbackAddress(c.coordinator.address)) {
    ctx.addIssue({ code: 'custom', path: ['coordinator', 'address'], message: `coordinator.insecure: true talks to a loopback coordinator only, not ${c.coordinator.address} (give coordinator.tls instead)` });
  }
});

/** Reads, validates and completes the agent config at `path`. */
export function loadAgentConfig(path: string): AgentConfig {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcguardError('CONFIG_UNREADABLE', `cannot read agent config ${path}: ${errorText(err)}`, { cause: err });
  }
  return parseAgentConfig(source, path);
}

/** Validates YAML text; `file` names it in messages and anchors relative paths. */
export function parseAgentConfig(source: string, file: string): AgentConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const yaml: YamlSource = { file, doc, lineCounter };
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `${file}:${lineCounter.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`);
    throw new EcguardError('CONFIG_INVALID', `invalid agent config ${file}:\n  ${problems.join('\n  ')}`);
  }
  const data: unknown = doc.contents === null ? {} : doc.toJS();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new EcguardError('CONFIG_INVALID', `invalid agent config ${file}:\n  ${file}:1: expected a mapping of settings at the top level`);
  }
  const parsed = agentConfigSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    throw new EcguardError('CONFIG_INVALID', `invalid agent config ${file}:\n  ${formatIssues(parsed.error.issues, yaml, agentConfigSchema).join('\n  ')}`);
  }
  const c = parsed.data;
  const base = dirname(file);
  const abs = (p: string): string => resolve(base, p);
  const ep = c.ecProfile;
  return {
    file,
    serverId: c.serverId,
    stateDir: abs(c.stateDir),
    xrootdConfig: abs(c.xrootdConfig),
    ...(c.instance !== undefined ? { instance: c.instance } : {}),
    ...(c.host !== undefined ? { host: c.host } : {}),
    ecProfile:
      ep.pluginConfig !== undefined
        ? { kind: 'plugin', pluginConfig: abs(ep.pluginConfig) }
        : { kind: 'inline', profile: { nbData: ep.nbData as number, nbParity: ep.nbParity as number, chunkSize: ep.chunkSize as number } },
    ...(c.spaces !== undefined ? { spaces: c.spaces } : {}),
    coordinator: {
      address: c.coordinator.address,
      ...(c.coordinator.tls ? { tls: { ca: abs(c.coordinator.tls.ca), cert: abs(c.coordinator.tls.cert), key: abs(c.coordinator.tls.key) } } : {}),
      insecure: c.coordinator.insecure,
    },
    debris: { retentionMs: c.debris.retention },
    scrub: { enabled: c.scrub.enabled, mbps: c.scrub.mbps, intervalMs: c.scrub.interval },
    scan: { fullScanIntervalMs: c.scan.fullScanInterval, jitter: c.scan.jitter, workers: c.scan.workers, progress: c.scan.progress },
    watch: c.watch,
    journal: c.journal,
    throttles: c.throttles,
    metrics: c.metrics.listen !== undefined ? { listen: c.metrics.listen } : {},
    stripes: {
      listen: c.stripes.listen ?? (c.coordinator.insecure ? '127.0.0.1:7444' : '0.0.0.0:7444'),
      ...(c.stripes.advertise !== undefined ? { advertise: c.stripes.advertise } : {}),
      ...(c.stripes.dataFileAddress !== undefined ? { dataFileAddress: ipv4Port(c.stripes.dataFileAddress) } : {}),
    },
  };
}

function ipv4Port(s: string): { ipv4: [number, number, number, number]; port: number } {
  const [ip, port] = s.split(':') as [string, string];
  const q = ip.split('.').map(Number) as [number, number, number, number];
  if (q.some((x) => x > 255) || Number(port) > 65535) throw new EcguardError('CONFIG_INVALID', `stripes.dataFileAddress ${s}: not an IPv4 address and port`);
  return { ipv4: q, port: Number(port) };
}

/** The EC profile the config names: inline, or read from the XrdEc plug-in config. */
export function resolveEcProfile(config: Pick<AgentConfig, 'ecProfile'>): EcProfile {
  const ep = config.ecProfile;
  return ep.kind === 'inline' ? ep.profile : loadEcProfile(ep.pluginConfig);
}
