// deploy/prometheus-alerts.yaml stays true to the code: it is valid rule YAML in Prometheus'
// shape, every metric an expression names is one the registries export (or a recording rule of
// the file, or Prometheus' own `up`), every label matcher selects series that exist, and the
// alerts the operations guide asks for are there. promtool runs too when it is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { AGENT_METRIC_NAMES, agentMetrics } from '../../agent/metrics/agent-metrics.js';
import { COORDINATOR_METRIC_NAMES, coordinatorMetrics } from '../../coordinator/metrics/coordinator-metrics.js';

const RULES_PATH = fileURLToPath(new URL('../../../deploy/prometheus-alerts.yaml', import.meta.url));

interface Rule {
  alert?: string;
  record?: string;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'by', 'without', 'bool', 'offset', 'inf', 'nan']);

/** Metric selectors of a PromQL expression: name and label matchers (enough for these rules). */
function selectors(expr: string): { name: string; matchers: [string, string, string][] }[] {
  const out: { name: string; matchers: [string, string, string][] }[] = [];
  // Label lists of on()/by()… name labels, not metrics.
  const s = expr.replace(/\b(on|ignoring|by|without|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const re = /(?<![\w.:"])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g;
  for (const m of s.matchAll(re)) {
    // Skip identifiers inside string literals (label values) by counting quotes before them.
    const inString = (s.slice(0, m.index).match(/"/g) ?? []).length % 2 === 1;
    const [, name, braces, call] = m as unknown as [string, string, string | undefined, string | undefined];
    // A duration inside [..] (10m) never matches: it starts with a digit.
    if (inString || call || KEYWORDS.has(name.toLowerCase())) continue;
    const matchers: [string, string, string][] = [];
    for (const mm of (braces ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"([^"]*)"/g)) matchers.push([mm[1] as string, mm[2] as string, mm[3] as string]);
    out.push({ name, matchers });
  }
  return out;
}

async function exportedSeries(): Promise<Map<string, Record<string, string | number>[]>> {
  const zero = async (): Promise<number> => 0;
  const none = async (): Promise<Record<string, never>> => ({});
  const regs = [
    coordinatorMetrics({ fileCounts: none, archivesByDiskState: none, serversByState: none, agentSessions: zero, rejectedRecords: async () => ({ srv01: 1 }), outboxBacklog: zero, safeMode: async () => false, healthIndicators: none,
      repair: { taskCounts: async () => ({ queued: 0, assigned: 0, running: 0, verifying: 0, done: 0, failed: 0, parked: 0, cancelled: 0 }), bytesRebuilt: zero, bytesPerSecond: zero, waitingFiles: zero, throttles: async () => ({ perAgentTasks: 2, perSourceStreams: 4, perAgentMBps: 100, clusterTasks: 64 }), paused: async () => false, drains: async () => [] } }),
    agentMetrics({ inventorySize: zero, disksByState: none, journal: async () => ({ pending: 0, lastSeq: 0, ackedSeq: 0 }), lastFullScan: async () => undefined, lastScanFindings: none, coordinatorLink: async () => undefined }),
  ];
  const series = new Map<string, Record<string, string | number>[]>();
  for (const r of regs) for (const m of await r.getMetricsAsJSON()) series.set(m.name, m.values.map((v) => v.labels as Record<string, string | number>));
  return series;
}

describe('deploy/prometheus-alerts.yaml', () => {
  const doc = parse(readFileSync(RULES_PATH, 'utf8')) as { groups?: { name?: unknown; rules?: Rule[] }[] };
  const rules = (doc.groups ?? []).flatMap((g) => g.rules ?? []);
  const alerts = rules.filter((r) => r.alert !== undefined);
  const records = new Set(rules.filter((r) => r.record !== undefined).map((r) => r.record as string));

  it('has the shape of a Prometheus rule file', () => {
    assert.ok(Array.isArray(doc.groups) && doc.groups.length > 0);
    const groupNames = doc.groups.map((g) => g.name);
    assert.equal(new Set(groupNames).size, groupNames.length, 'group names unique');
    for (const g of doc.groups) {
      assert.equal(typeof g.name, 'string');
      assert.ok(Array.isArray(g.rules) && g.rules.length > 0, `rules of ${String(g.name)}`);
      for (const r of g.rules) {
        const what = r.alert ?? r.record ?? JSON.stringify(r);
        assert.ok((r.alert === undefined) !== (r.record === undefined), `${what}: exactly one of alert, record`);
        assert.equal(typeof r.expr, 'string', `${what}: expr`);
        assert.ok((r.expr as string).trim().length > 0);
        const allowed = r.alert !== undefined ? ['alert', 'expr', 'for', 'labels', 'annotations', 'keep_firing_for'] : ['record', 'expr', 'labels'];
        for (const k of Object.keys(r)) assert.ok(allowed.includes(k), `${what}: unknown key ${k}`);
        if (r.for !== undefined) assert.match(String(r.for), /^(\d+(ms|s|m|h|d|w|y))+$/, `${what}: for`);
        if (r.record !== undefined) assert.match(r.record, /^[a-zA-Z_][a-zA-Z0-9_]*(:[a-zA-Z0-9_]+)+$/, `${what}: level:metric:operation`);
        let depth = 0;
        for (const c of r.expr as string) {
          depth += c === '(' ? 1 : c === ')' ? -1 : 0;
          assert.ok(depth >= 0, `${what}: parentheses`);
        }
        assert.equal(depth, 0, `${what}: parentheses`);
      }
    }
    const alertNames = alerts.map((a) => a.alert);
    assert.equal(new Set(alertNames).size, alertNames.length, 'alert names unique');
    for (const a of alerts) {
      assert.ok(['warning', 'critical'].includes(String(a.labels?.severity)), `${a.alert}: severity`);
      assert.ok(typeof a.annotations?.summary === 'string' && a.annotations.summary.length > 0, `${a.alert}: summary`);
      assert.ok(typeof a.annotations?.description === 'string', `${a.alert}: description`);
    }
  });

  it('names only metrics the registries export, with label matchers that select real series', async () => {
    const known = new Set<string>([...COORDINATOR_METRIC_NAMES, ...AGENT_METRIC_NAMES]);
    const series = await exportedSeries();
    assert.deepEqual([...series.keys()].sort(), [...known].sort(), 'name lists match the registries');
    for (const r of rules) {
      const sel = selectors(r.expr as string);
      assert.ok(sel.length > 0, `${r.alert ?? r.record}: no metric found in ${String(r.expr)}`);
      for (const { name, matchers } of sel) {
        if (name === 'up' || records.has(name)) continue;
        assert.ok(known.has(name), `${r.alert ?? r.record}: ${name} is not an ecguard metric`);
        for (const [label, op, value] of matchers) {
          assert.equal(op, '=', `${name}: example rules use exact matchers`);
          const values = (series.get(name) ?? []).map((l) => l[label]);
          assert.ok(values.includes(value), `${r.alert ?? r.record}: ${name}{${label}="${value}"} is never exported (have ${values.join(', ')})`);
        }
      }
    }
  });

  it('has the alerts of the operations guide', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    const want: [string, RegExp, string, string | undefined][] = [
      ['EcguardFilesLost', /ecguard_files\{state="lost"\} > 0/, 'critical', undefined],
      ['EcguardFilesCritical', /ecguard_files\{state="critical"\} > 0/, 'critical', undefined],
      ['EcguardFilesDegraded', /ecguard_files\{state="degraded"\} > 0/, 'warning', '1h'],
      ['EcguardBytesAtRisk', /ecguard_bytes_at_risk/, 'warning', '15m'],
      ['EcguardHealthIndicator', /ecguard_health_indicator == 1/, 'warning', undefined],
      ['EcguardSafeModeStuck', /ecguard_safe_mode == 1/, 'warning', '30m'],
      ['EcguardEventOutboxGrowing', /ecguard_event_outbox_backlog/, 'warning', '5m'],
      ['EcguardAgentSessionsMissing', /ecguard_agent_sessions < on\(\) ecguard:agent_targets:count/, 'warning', '5m'],
      ['EcguardAgentJournalOverflow', /ecguard_agent_journal_overflow == 1/, 'warning', '5m'],
      ['EcguardRepairParked', /ecguard_repair_tasks\{state="parked"\} > 0/, 'critical', '5m'],
      ['EcguardScrubFoundCorruption', /increase\(ecguard_agent_scrub_corrupt_archives_total\[1h\]\) > 0/, 'warning', undefined],
    ];
    for (const [name, expr, severity, forDuration] of want) {
      const a = byName.get(name);
      assert.ok(a, `alert ${name}`);
      assert.match(a.expr as string, expr, name);
      assert.equal(a.labels?.severity, severity, name);
      assert.equal(a.for, forDuration, `${name}: for`);
    }
    assert.ok(records.has('ecguard:agent_targets:count'));
    assert.match(String(rules.find((r) => r.record === 'ecguard:agent_targets:count')?.expr), /count\(up\{job="ecguard-agent"\}\)/);
  });

  // promtool is not a Debian package here: the test exists only where it is installed.
  if (spawnSync('promtool', ['--version']).error === undefined) it('passes promtool check rules', function () {
    const r = spawnSync('promtool', ['check', 'rules', RULES_PATH], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });
});
