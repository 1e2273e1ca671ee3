// The agent's YAML config: the shipped example validates and lists every key; defaults are
// applied; every bad value is reported with file, line and key path, all problems at once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfigSchema, loadAgentConfig, parseAgentConfig, resolveEcProfile } from '../../../agent/config/agent-config.js';
import { schemaKeyPaths } from '../../../agent/config/yaml-issues.js';
import { EcguardError } from '../../../shared/errors.js';
import { repoRoot, sharedConfigs, TempTree } from './config-paths.js';

const example = join(repoRoot, 'deploy', 'agent.example.yaml');
const MINIMAL = 'serverId: srv07\nxrootdConfig: /etc/xrootd/xrootd-clustered.cfg\ncoordinator:\n  address: 127.0.0.1:7443\n  insecure: true\n';

/** The CONFIG_INVALID problems for `yaml` as `agent.yaml:LINE: key: message` lines. */
function problems(yaml: string): string[] {
  try {
    parseAgentConfig(yaml, 'agent.yaml');
  } catch (e) {
    assert.ok(e instanceof EcguardError, String(e));
    assert.equal(e.code, 'CONFIG_INVALID');
    return e.message.split('\n').slice(1).map((l) => l.trim());
  }
  assert.fail('config was accepted');
}

describe('agent config', () => {
  it('deploy/agent.example.yaml validates', () => {
    const c = loadAgentConfig(example);
    assert.equal(c.serverId, 'srv07');
    assert.equal(c.instance, 'clustered');
    assert.deepEqual(c.ecProfile, { kind: 'plugin', pluginConfig: '/etc/xrootd/client.plugins.d/xrdec.conf' });
    assert.deepEqual(c.coordinator.tls, { ca: '/etc/ecguard/tls/ca.pem', cert: '/etc/ecguard/tls/srv07.pem', key: '/etc/ecguard/tls/srv07.key' });
    assert.equal(c.scan.fullScanIntervalMs, 6 * 3600_000);
    assert.equal(c.metrics.listen, '127.0.0.1:9464');
  });

  it('deploy/agent.example.yaml mentions every key the code accepts', () => {
    const text = readFileSync(example, 'utf8');
    const missing = schemaKeyPaths(agentConfigSchema).filter((p) => {
      const key = p.split('.').pop()?.replace(/\[\]$/, '') as string;
      return !new RegExp(`^\\s*#?\\s*(- )?${key}:`, 'm').test(text);
    });
    assert.deepEqual(missing, []);
  });

  it('a minimal config gets every default', () => {
    const c = parseAgentConfig(MINIMAL, '/etc/ecguard/agent.yaml');
    assert.deepEqual(c, {
      file: '/etc/ecguard/agent.yaml',
      serverId: 'srv07',
      stateDir: '/var/lib/ecguard',
      xrootdConfig: '/etc/xrootd/xrootd-clustered.cfg',
      ecProfile: { kind: 'plugin', pluginConfig: '/etc/xrootd/client.plugins.d/xrdec.conf' },
      coordinator: { address: '127.0.0.1:7443', insecure: true },
      scan: { fullScanIntervalMs: 21_600_000, jitter: 0.1, workers: 2, progress: false },
      watch: { enabled: true },
      debris: { retentionMs: 7 * 86_400_000 },
      scrub: { enabled: true, mbps: 20, intervalMs: 30 * 86_400_000 },
      journal: { maxEntries: 1_000_000 },
      throttles: { repairTasks: 2, repairMBps: 100, peerStreams: 4 },
      metrics: {},
      stripes: { listen: '127.0.0.1:7444' }, // insecure: loopback
    });
  });

  it('insecure mode is loopback only, refused at load (not after the first scan): Stripes listen and coordinator address', () => {
    const TLS = 'serverId: srv07\nxrootdConfig: /x\ncoordinator:\n  address: coord.example.org:7443\n  tls: { ca: a, cert: b, key: c }\n';
    assert.equal(parseAgentConfig(TLS, '/a.yaml').stripes.listen, '0.0.0.0:7444', 'with TLS the default listens everywhere');
    assert.equal(parseAgentConfig(`${MINIMAL}stripes: { listen: "[::1]:0" }\n`, '/a.yaml').stripes.listen, '[::1]:0');
    assert.equal(parseAgentConfig(MINIMAL.replace('127.0.0.1:7443', 'localhost:7443'), '/a.yaml').coordinator.address, 'localhost:7443');
    assert.deepEqual(problems(`${MINIMAL}stripes:\n  listen: 0.0.0.0:7444\n`), [
      'agent.yaml:7: stripes.listen: coordinator.insecure: true listens on loopback only, not 0.0.0.0:7444 (give coordinator.tls instead, or listen on 127.0.0.1)',
    ]);
    assert.deepEqual(problems(MINIMAL.replace('127.0.0.1:7443', 'coord.example.org:7443')), [
      'agent.yaml:4: coordinator.address: coordinator.insecure: true talks to a loopback coordinator only, not coord.example.org:7443 (give coordinator.tls instead)',
    ]);
  });

  it('given values win; durations in every unit; relative paths are taken from the config directory', () => {
    const c = parseAgentConfig(
      [
        'serverId: srv-07.a_b',
        'stateDir: state',
        'xrootdConfig: ../xrootd/xrootd.cfg',
        'instance: clustered',
        'host: srv07.example.org',
        'ecProfile: { nbData: 4, nbParity: 2, chunkSize: 65536 }',
        'spaces:',
        '  - { name: public, path: /disk/sda }',
        'coordinator:',
        '  address: "[::1]:7443"',
        '  tls: { ca: tls/ca.pem, cert: /abs/cert.pem, key: tls/key.pem }',
        'scan: { fullScanInterval: 1h30m, jitter: 0, workers: 8, progress: true }',
        'watch: { enabled: false }',
        'journal: { maxEntries: 10 }',
        'throttles: { repairTasks: 1, repairMBps: 12.5, peerStreams: 2 }',
        'metrics: { listen: "0.0.0.0:9464" }',
      ].join('\n'),
      '/etc/ecguard/agent.yaml',
    );
    assert.equal(c.stateDir, '/etc/ecguard/state');
    assert.equal(c.xrootdConfig, '/etc/xrootd/xrootd.cfg');
    assert.deepEqual(c.ecProfile, { kind: 'inline', profile: { nbData: 4, nbParity: 2, chunkSize: 65536 } });
    assert.deepEqual(resolveEcProfile(c), { nbData: 4, nbParity: 2, chunkSize: 65536 });
    assert.deepEqual(c.spaces, [{ name: 'public', path: '/disk/sda' }]);
    assert.deepEqual(c.coordinator, { address: '[::1]:7443', tls: { ca: '/etc/ecguard/tls/ca.pem', cert: '/abs/cert.pem', key: '/etc/ecguard/tls/key.pem' }, insecure: false });
    assert.deepEqual(c.scan, { fullScanIntervalMs: 5_400_000, jitter: 0, workers: 8, progress: true });
    assert.deepEqual([c.watch.enabled, c.journal.maxEntries, c.throttles.repairMBps, c.metrics.listen], [false, 10, 12.5, '0.0.0.0:9464']);
  });

  it('resolveEcProfile reads the XrdEc plug-in config it names', () => {
    const c = parseAgentConfig(`${MINIMAL}ecProfile:\n  pluginConfig: ${join(sharedConfigs, 'xrdec-client-plugin.conf')}\n`, 'agent.yaml');
    assert.deepEqual(resolveEcProfile(c), { nbData: 8, nbParity: 2, chunkSize: 1048576 });
  });

  it('bad durations name file, line and key', () => {
    const base = MINIMAL + 'scan:\n  fullScanInterval: ';
    assert.deepEqual(problems(base + 'soon\n'), ['agent.yaml:7: scan.fullScanInterval: expected a duration like 30s, 10m or 6h, got "soon"']);
    assert.deepEqual(problems(base + '6\n'), ['agent.yaml:7: scan.fullScanInterval: expected a duration like 30s, 10m or 6h, got 6']);
    assert.deepEqual(problems(base + '0s\n'), ['agent.yaml:7: scan.fullScanInterval: expected a duration like 30s, 10m or 6h, got "0s"']);
  });

  it('wrong types, ranges and formats, all reported at once in line order', () => {
    const got = problems(
      [
        'serverId: 7', // 1
        'xrootdConfig: /x.cfg',
        'coordinator:',
        '  address: coordinator', // 4
        '  insecure: "yes"', // 5
        'scan:',
        '  jitter: 1.5', // 7
        '  workers: 0', // 8
        '  progress: 1', // 9
        'throttles:',
        '  repairTasks: 2.5', // 11
        'spaces:',
        '  - { name: public, path: disk/sda }', // 13
        'metrics: { listen: "host:99999" }', // 14
      ].join('\n'),
    );
    assert.deepEqual(got, [
      'agent.yaml:1: serverId: expected a string, got 7 (quote the value to keep it as written)',
      'agent.yaml:4: coordinator.address: expected host:port like 127.0.0.1:9464, got "coordinator"',
      'agent.yaml:5: coordinator.insecure: expected true or false, got "yes"',
      'agent.yaml:7: scan.jitter: must be at most 1, got 1.5',
      'agent.yaml:8: scan.workers: must be at least 1, got 0',
      'agent.yaml:9: scan.progress: expected true or false, got 1',
      'agent.yaml:11: throttles.repairTasks: expected an integer, got 2.5',
      'agent.yaml:13: spaces[0].path: expected an absolute path, got "disk/sda"',
      'agent.yaml:14: metrics.listen: expected host:port like 127.0.0.1:9464, got "host:99999"',
    ]);
  });

  it('spaces[].path as xrootd reads oss.space: trailing slashes dropped, the space directory named means its parent', () => {
    const spaces = (body: string) => parseAgentConfig(`${MINIMAL}spaces:\n${body}`, 'agent.yaml').spaces;
    assert.deepEqual(spaces('  - { name: public, path: /disk/sda/ }\n  - { name: public, path: "/disk/sdb//" }\n'), [{ name: 'public', path: '/disk/sda' }, { name: 'public', path: '/disk/sdb' }]);
    assert.deepEqual(spaces('  - { name: public, path: /disk/sda/public }\n'), [{ name: 'public', path: '/disk/sda' }]);
    // One disk serving two spaces is allowed (xrootd keeps each under PATH/NAME/).
    assert.deepEqual(spaces('  - { name: public, path: /disk/sda }\n  - { name: other, path: /disk/sda }\n'), [{ name: 'public', path: '/disk/sda' }, { name: 'other', path: '/disk/sda' }]);
  });

  it('spaces[].path: "..", "//", the root and duplicates are refused with file, line and key', () => {
    assert.deepEqual(problems(`${MINIMAL}spaces:\n  - { name: public, path: /disk/sda }\n  - { name: public, path: /disk/sda/ }\n  - { name: public, path: /disk/sda/public }\n`), [
      'agent.yaml:8: spaces[1].path: the same disk and space as spaces[0] (public on /disk/sda): list it once',
      'agent.yaml:9: spaces[2].path: the same disk and space as spaces[0] (public on /disk/sda): list it once',
    ]);
    assert.deepEqual(problems(`${MINIMAL}spaces:\n  - { name: public, path: /disk/../sdb }\n  - { name: public, path: "/disk//sdc" }\n  - { name: public, path: / }\n  - { name: public, path: /public }\n`), [
      'agent.yaml:7: spaces[0].path: must not contain "." or ".." components, got "/disk/../sdb"',
      'agent.yaml:8: spaces[1].path: must not contain "//", got "/disk//sdc"',
      'agent.yaml:9: spaces[2].path: must not be the filesystem root, got "/"',
      'agent.yaml:10: spaces[3].path: "/public" is the space directory public itself, at the filesystem root: give the disk directory that holds it',
    ]);
  });

  it('unknown keys are refused, with a suggestion or the known keys', () => {
    assert.deepEqual(problems(`${MINIMAL}scan:\n  fullscanInterval: 1h\n  colour: red\nlogLevel: debug\n`), [
      'agent.yaml:7: scan.fullscanInterval: unknown key; did you mean fullScanInterval?',
      'agent.yaml:8: scan.colour: unknown key (known keys here: fullScanInterval, jitter, workers, progress)',
      'agent.yaml:9: logLevel: unknown key (known keys here: serverId, stateDir, xrootdConfig, instance, host, ecProfile, spaces, coordinator, scan, watch, debris, scrub, journal, throttles, metrics, stripes)',
    ]);
  });

  it('scrub settings are checked: a rate must be positive, an interval a duration', () => {
    const p = problems(`${MINIMAL}scrub:\n  mbps: 0\n  interval: monthly\n`);
    assert.equal(p.length, 2, p.join('\n'));
    assert.match(p[0] ?? '', /^agent\.yaml:7: scrub\.mbps: /);
    assert.match(p[1] ?? '', /^agent\.yaml:8: scrub\.interval: /);
  });

  it('required keys: serverId is never defaulted (a renamed host must not become a new server)', () => {
    assert.deepEqual(problems(MINIMAL.replace('serverId: srv07\n', '')), ['agent.yaml:1: serverId: required key is missing']);
    assert.deepEqual(problems(''), [
      'agent.yaml:1: serverId: required key is missing',
      'agent.yaml:1: xrootdConfig: required key is missing',
      'agent.yaml:1: coordinator: required key is missing',
    ]);
    assert.deepEqual(problems('serverId: a\nxrootdConfig: /x\ncoordinator:\n  insecure: true\n'), ['agent.yaml:3: coordinator.address: required key is missing']);
  });

  it('either-or sections: coordinator tls or insecure, ecProfile file or inline', () => {
    const coord = (body: string) => problems(`serverId: a\nxrootdConfig: /x\ncoordinator:\n  address: c:1\n${body}`);
    assert.deepEqual(coord(''), ['agent.yaml:3: coordinator: give tls (ca, cert, key), or insecure: true to talk without TLS']);
    assert.deepEqual(coord('  insecure: true\n  tls: { ca: a, cert: b, key: c }\n'), ['agent.yaml:3: coordinator: give either tls or insecure: true, not both']);
    assert.deepEqual(coord('  tls: { ca: a, cert: b }\n'), ['agent.yaml:5: coordinator.tls.key: required key is missing']);
    const ep = (body: string) => problems(`${MINIMAL}ecProfile:\n${body}`);
    assert.deepEqual(ep('  nbData: 8\n'), ['agent.yaml:6: ecProfile: give pluginConfig, or all of nbData, nbParity and chunkSize']);
    assert.deepEqual(ep('  pluginConfig: /x\n  nbData: 8\n'), ['agent.yaml:6: ecProfile: give either pluginConfig or nbData, nbParity and chunkSize, not both']);
    assert.deepEqual(ep('  nbData: 250\n  nbParity: 10\n  chunkSize: 4096\n'), ['agent.yaml:6: ecProfile: nbdata + nbparity must be at most 255, got 260']);
  });

  it('YAML syntax errors and a non-mapping document name the line', () => {
    assert.deepEqual(problems('serverId: a\n\tscan: 1\n'), ['agent.yaml:2: YAML: Tabs are not allowed as indentation']);
    assert.match(problems('serverId: a\nscan:\n  workers: 2\n   jitter: 1\n')[0] as string, /^agent\.yaml:3: YAML: /);
    assert.match(problems('a: 1\na: 2\n')[0] as string, /^agent\.yaml:2: YAML: Map keys must be unique/);
    assert.deepEqual(problems('- a\n'), ['agent.yaml:1: expected a mapping of settings at the top level']);
  });

  it('an unreadable file is CONFIG_UNREADABLE naming it', () => {
    const t = new TempTree();
    try {
      const p = t.path('agent.yaml');
      assert.throws(() => loadAgentConfig(p), (e: unknown) => e instanceof EcguardError && e.code === 'CONFIG_UNREADABLE' && e.message.includes(p));
    } finally {
      t.remove();
    }
  });
});
