// The xrootd config reader against the shared site examples and hand-written configs for each
// language feature: what applies to which host/program/instance, and that every problem or
// unevaluable condition comes back as a diagnostic with file and line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chkmountMarker, parseXrootdConfig, type XrootdSiteConfig } from '../../../agent/config/xrootd-config.js';
import { EcguardError } from '../../../shared/errors.js';
import { sharedConfigs, TempTree } from './config-paths.js';

const HOST = 'srv07.example.org';

const spacesOf = (c: XrootdSiteConfig) => c.spaces.map((s) => ({ name: s.name, path: s.path, ...(s.chkmount ? { chkmount: s.chkmount } : {}) }));
const lines = (c: XrootdSiteConfig) => c.directives.map((d) => [d.component, d.directive, ...d.args].join(' ').replace(/^(\w+) /, '$1.'));
const diags = (c: XrootdSiteConfig, severity?: 'error' | 'warning') =>
  c.diagnostics.filter((d) => severity === undefined || d.severity === severity);

function findDiag(c: XrootdSiteConfig, re: RegExp) {
  const d = c.diagnostics.find((x) => re.test(x.message));
  assert.ok(d, `no diagnostic matching ${re}; got ${JSON.stringify(c.diagnostics, null, 1)}`);
  return d;
}

describe('xrootd config: shared site examples', () => {
  const dataServer = join(sharedConfigs, 'ec-data-server.cfg');
  const seed = join(sharedConfigs, 'seed-example.cfg');
  const dataServerSpaces = [
    { name: 'public', path: '/disk/sda' },
    { name: 'public', path: '/disk/sdb' },
    { name: 'public', path: '/disk/sdc', chkmount: { id: 'xrdmnt', nofail: true } },
    { name: 'scratch', path: '/disk/sdd' },
  ];

  it('seed-example.cfg: one export, two disks in public, no localroot', () => {
    for (const host of [HOST, 'other.example.com', 'localhost']) {
      const c = parseXrootdConfig(seed, { host });
      assert.deepEqual(c.exports.map((e) => [e.path, e.options]), [['/data', []]]);
      assert.equal(c.localroot, undefined);
      assert.equal(c.sitename, undefined);
      assert.deepEqual(spacesOf(c), [
        { name: 'public', path: '/disk/sda' },
        { name: 'public', path: '/disk/sdb' },
      ]);
      assert.deepEqual(c.diagnostics, []);
      assert.deepEqual(c.files, [seed]);
    }
  });

  it('ec-data-server.cfg, unnamed xrootd: four disks, localroot, variables, the else branch', () => {
    const c = parseXrootdConfig(dataServer, { host: HOST });
    assert.deepEqual(c.diagnostics, []);
    assert.deepEqual(c.exports.map((e) => [e.path, e.options, e.line]), [['/data', [], 8]]);
    assert.equal(c.localroot, '/xrootd/ns');
    assert.equal(c.sitename, 'EC-SITE');
    assert.deepEqual(spacesOf(c), dataServerSpaces);
    assert.deepEqual(c.spaces.map((s) => s.line), [16, 17, 18, 19]);
    assert.deepEqual(c.variables, { redirector: 'ec-redir.example.org', diskroot: '/disk' });
    const l = lines(c);
    assert.ok(l.includes('all.manager ec-redir.example.org:1213'));
    assert.ok(l.includes('xrd.report monitor.example.org:9931 every 60s all'), 'else branch of "if named ecgw" applies');
    assert.ok(!l.includes('all.role manager'));
    assert.ok(!l.some((x) => x.startsWith('cms.space')), '"if exec cmsd" does not apply to xrootd');
    assert.equal(l.length, 16);
  });

  it('ec-data-server.cfg, instance ecgw: the named block applies, disks unchanged', () => {
    const c = parseXrootdConfig(dataServer, { host: HOST, instance: 'ecgw' });
    assert.deepEqual(c.diagnostics, []);
    assert.deepEqual(spacesOf(c), dataServerSpaces);
    assert.equal(c.localroot, '/xrootd/ns');
    const l = lines(c);
    assert.ok(l.includes('all.role manager'));
    assert.ok(!l.some((x) => x.startsWith('xrd.report')));
  });

  it('ec-data-server.cfg, other instance and cmsd: the else branch, and cms.space only for cmsd', () => {
    const other = parseXrootdConfig(dataServer, { host: 'x.example.org', instance: 'other' });
    assert.ok(lines(other).some((x) => x.startsWith('xrd.report')));
    const cmsd = parseXrootdConfig(dataServer, { host: HOST, program: 'cmsd' });
    assert.ok(lines(cmsd).includes('cms.space min 2g 5g'));
    assert.deepEqual(spacesOf(cmsd), dataServerSpaces);
  });

  it('chkmountMarker: PATH/ID.<basename(PATH)>, none without chkmount', () => {
    const c = parseXrootdConfig(dataServer, { host: HOST });
    assert.deepEqual(c.spaces.map((s) => chkmountMarker(s)), [undefined, undefined, '/disk/sdc/xrdmnt.sdc', undefined]);
    assert.equal(chkmountMarker({ configuredPath: '/data/disk07/', chkmount: { id: 'mnt', nofail: false } }), '/data/disk07/mnt.disk07');
  });

  it('an unreadable main file throws CONFIG_UNREADABLE naming it', () => {
    const missing = join(sharedConfigs, 'no-such.cfg');
    assert.throws(
      () => parseXrootdConfig(missing, { host: HOST }),
      (e: unknown) => e instanceof EcguardError && e.code === 'CONFIG_UNREADABLE' && e.message.includes(missing),
    );
  });
});

describe('xrootd config: language', () => {
  let t: TempTree;
  beforeEach(() => {
    t = new TempTree();
  });
  afterEach(() => t.remove());
  const parse = (text: string, opts: Partial<Parameters<typeof parseXrootdConfig>[1]> = {}) =>
    parseXrootdConfig(t.write('xrootd.cfg', text), { host: HOST, ...opts });

  it('continuation lines join across comments; the directive keeps its first line', () => {
    const c = parse(['all.export /data \\', '   r/o', 'oss.space public \\', '  /disk/sde chkmount m \\', '# a comment inside', '  nofail', 'oss.space public /disk/sdf'].join('\n'));
    assert.deepEqual(c.exports.map((e) => [e.path, e.options, e.line]), [['/data', ['r/o'], 1]]);
    assert.deepEqual(spacesOf(c), [
      { name: 'public', path: '/disk/sde', chkmount: { id: 'm', nofail: true } },
      { name: 'public', path: '/disk/sdf' },
    ]);
    assert.deepEqual(c.spaces.map((s) => s.line), [3, 7]);
    assert.deepEqual(c.diagnostics, []);
  });

  it('a problem on a continued line names that line, not the directive\'s first', () => {
    const c = parse(['all.export /data', 'oss.space public \\', '  /disk/sde \\', '# a comment', '  chkmount', 'oss.space public \\', '  /disk/sdf bogus', 'oss.space \\', '  public relative/path', 'oss.localroot \\', '  $(undefinedvar)/ns', 'all.export /d \\', '  r/o # passed on'].join('\n'));
    assert.deepEqual(c.diagnostics.map((d) => [d.line, d.message.replace(/ \(.*$/, '')]).sort((a, b) => (a[0] as number) - (b[0] as number)), [
      [5, 'oss.space public /disk/sde: chkmount without an id'],
      [7, "oss.space public /disk/sdf: 'bogus' is not an option"],
      [9, 'oss.space public relative/path: invalid space path'],
      [11, "variable 'undefinedvar' is undefined"],
      [13, "'#' after a directive is not a comment in XRootD: '# passed on' is passed to all.export"],
    ]);
    assert.deepEqual(c.directives.find((d) => d.directive === 'space')?.argLines, [2, 3, 5]);
  });

  it('a continuation across a blank line is joined as XRootD does, with a warning', () => {
    const c = parse('all.export /data \\\n\noss.space public /disk/sda\n');
    assert.deepEqual(c.exports[0]?.options, ['oss.space', 'public', '/disk/sda']);
    assert.deepEqual(c.spaces, []);
    assert.equal(findDiag(c, /across blank line 2/).line, 1);
  });

  it('comments: whole lines only; a # after a directive is passed on, with a warning', () => {
    const c = parse('# header\n   # indented comment\n\t\n\tall.export /data # not a comment\n');
    assert.deepEqual(c.exports.map((e) => [e.path, e.options]), [['/data', ['#', 'not', 'a', 'comment']]]);
    const d = findDiag(c, /not a comment/);
    assert.deepEqual([d.severity, d.line], ['warning', 4]);
  });

  it('variables: set NAME = VALUE and NAME=VALUE, $NAME, $(NAME), ${NAME}, $[NAME], \\$', () => {
    const c = parse(
      [
        'set disks = /disk',
        'set pub=public',
        'set extra = /mnt extra words',
        'oss.space $pub $disks/sda',
        'oss.space $(pub) $(disks)/sdb',
        'oss.space ${pub} ${disks}/sdc$[nothing]',
        'oss.space $pub $extra/sdd',
        'all.export /\\$literal',
      ].join('\n'),
    );
    assert.deepEqual(spacesOf(c), [
      { name: 'public', path: '/disk/sda' },
      { name: 'public', path: '/disk/sdb' },
      { name: 'public', path: '/disk/sdc' },
      { name: 'public', path: '/mnt/sdd' },
    ]);
    assert.deepEqual(c.exports.map((e) => e.path), ['/$literal']);
    assert.deepEqual(c.variables, { disks: '/disk', pub: 'public', extra: '/mnt' });
    const w = findDiag(c, /one word as the value/);
    assert.deepEqual([w.severity, w.line], ['warning', 3]);
    assert.equal(diags(c, 'error').length, 0);
  });

  it('an undefined variable is an error with file and line; the word becomes empty', () => {
    const c = parse('oss.space public /disk/sda\noss.space public $(nodisk)/sdb\n');
    const d = findDiag(c, /variable 'nodisk' is undefined/);
    assert.deepEqual([d.severity, d.file, d.line], ['error', t.path('xrootd.cfg'), 2]);
    assert.deepEqual(spacesOf(c), [
      { name: 'public', path: '/disk/sda' },
      { name: 'public', path: '/sdb' },
    ]);
  });

  it('set X = $ENV reads xrootd\'s environment: known names work, unknown ones are reported', () => {
    const c = parse('set me = $XRDHOST\nset home = $HOME\nall.sitename $me\n');
    assert.equal(c.sitename, HOST);
    assert.equal(c.variables.home, undefined);
    assert.equal(findDiag(c, /takes HOME from xrootd's environment, which ecguard cannot see/).line, 2);
    const known = parse('set home = $HOME\nall.export $home\n', { env: { HOME: '/home/xrootd' } });
    assert.deepEqual(known.exports.map((e) => e.path), ['/home/xrootd']);
    assert.deepEqual(known.diagnostics, []);
  });

  it('set reads only its first physical line (XRootD 5.5.3: `set x = \\` then `b` leaves x empty)', () => {
    const c = parse('set x = \\\n  b\nset y = 1 \\\n  2\n');
    assert.deepEqual(c.variables, { x: '', y: '1' });
    assert.deepEqual(c.diagnostics.map((d) => [d.line, d.severity]), [[1, 'warning'], [3, 'warning']]);
  });

  it('set/setenv mistakes are reported; setenv X = $V copies a set variable', () => {
    const c = parse(['set -v', 'set bad', 'setenv XRDFOO = 1', 'set my_var = x', 'set d = /disk', 'setenv DISKS = $d', 'setenv NONE = $nothing', 'set ok.name = 1'].join('\n'));
    assert.deepEqual(c.environment, { DISKS: '/disk' });
    assert.deepEqual(c.variables, { my_var: 'x', d: '/disk' });
    assert.deepEqual(
      c.diagnostics.map((d) => [d.line, d.severity, d.message.split(':')[0]]),
      [
        [2, 'error', 'set'],
        [3, 'error', 'setenv'],
        [4, 'warning', 'set my_var'],
        [7, 'error', 'setenv'],
        [8, 'error', 'set'],
      ],
    );
  });

  it('setenv sets an environment variable that "if defined ?~VAR" sees; ?VAR tests set variables', () => {
    const c = parse(
      [
        'setenv MYDISKS = /disk',
        'set local = yes',
        'if defined ?~MYDISKS',
        '  oss.space public /disk/sda',
        'fi',
        'if defined ?local',
        '  oss.space public /disk/sdb',
        'fi',
        'if defined ?missing',
        '  oss.space public /disk/bad',
        'else',
        '  oss.space public /disk/sdc',
        'fi',
      ].join('\n'),
    );
    assert.deepEqual(c.environment, { MYDISKS: '/disk' });
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/sda', '/disk/sdb', '/disk/sdc']);
    assert.deepEqual(c.diagnostics, []);
  });

  it('if defined ?~VAR of an environment ecguard cannot see is reported, and its whole block is left out', () => {
    const c = parse(['oss.space public /disk/sda', 'if defined ?~SITE_DISKS', '  oss.space public /disk/sdb', 'else', '  oss.space public /disk/sdc', 'fi', 'oss.space public /disk/sdd'].join('\n'));
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/sda', '/disk/sdd']);
    const d = findDiag(c, /cannot evaluate 'if defined \?~SITE_DISKS'/);
    assert.deepEqual([d.severity, d.file, d.line], ['error', t.path('xrootd.cfg'), 2]);
    const known = parse('if defined ?~SITE_DISKS\noss.space public /disk/sdb\nfi\n', { env: {} });
    assert.deepEqual([known.spaces.length, known.diagnostics.length], [0, 0]);
  });

  it('host patterns: exact, one *, lists; DNS patterns (name+) cannot be evaluated', () => {
    const text = [
      'if srv*.example.org',
      '  oss.space public /disk/a',
      'fi',
      'if other.example.org srv07.example.org',
      '  oss.space public /disk/b',
      'fi',
      'if *.example.com',
      '  oss.space public /disk/c',
      'fi',
      'if srv07.example.org exec xrootd',
      '  oss.space public /disk/d',
      'fi',
      'if disks.example.org+',
      '  oss.space public /disk/e',
      'fi',
    ].join('\n');
    const c = parse(text);
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/a', '/disk/b', '/disk/d']);
    assert.equal(findDiag(c, /DNS lookup of 'disks.example.org'/).line, 13);
    assert.deepEqual(parse(text, { host: 'srv08.example.net' }).spaces.map((s) => s.path), []);
    const short = parse(text, { host: 'srv07' });
    assert.equal(findDiag(short, /has no domain/).severity, 'warning');
  });

  it('exec and named: && joins them; no instance means "anon"; "exec PGM named X" is XRootD\'s program list', () => {
    const text = [
      'if exec xrootd && named ecgw',
      '  oss.space public /disk/a',
      'fi',
      'if named anon',
      '  oss.space public /disk/b',
      'fi',
      'if exec cmsd xrootd',
      '  oss.space public /disk/c',
      'fi',
      'if exec xrootd named other',
      '  oss.space public /disk/d',
      'fi',
    ].join('\n');
    const unnamed = parse(text);
    assert.deepEqual(unnamed.spaces.map((s) => s.path), ['/disk/b', '/disk/c', '/disk/d']);
    assert.equal(findDiag(unnamed, /'named' here is not an instance test/).line, 10);
    assert.deepEqual(parse(text, { instance: 'ecgw' }).spaces.map((s) => s.path), ['/disk/a', '/disk/c', '/disk/d']);
    assert.deepEqual(parse(text, { program: 'cmsd' }).spaces.map((s) => s.path), ['/disk/b', '/disk/c']);
  });

  it('else if chains: the first true branch only', () => {
    const text = [
      'if named one',
      '  oss.space public /disk/one',
      'else if named two',
      '  oss.space public /disk/two',
      'else if exec xrootd',
      '  oss.space public /disk/xrootd',
      'else',
      '  oss.space public /disk/else',
      'fi',
    ].join('\n');
    const paths = (o: Partial<Parameters<typeof parseXrootdConfig>[1]>) => parse(text, o).spaces.map((s) => s.path);
    assert.deepEqual(paths({ instance: 'one' }), ['/disk/one']);
    assert.deepEqual(paths({ instance: 'two' }), ['/disk/two']);
    assert.deepEqual(paths({ instance: 'three' }), ['/disk/xrootd']);
    assert.deepEqual(paths({ instance: 'three', program: 'cmsd' }), ['/disk/else']);
    assert.deepEqual(parse(text).diagnostics, []);
  });

  it('nested if is evaluated as nested but reported as an error (XRootD does not nest)', () => {
    const text = ['if exec xrootd', '  if named ecgw', '    oss.space public /disk/gw', '  else', '    oss.space public /disk/plain', '  fi', '  oss.space public /disk/x', 'fi'].join('\n');
    const c = parse(text);
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/plain', '/disk/x']);
    const d = findDiag(c, /nested 'if'/);
    assert.deepEqual([d.severity, d.line], ['error', 2]);
    assert.deepEqual(parse(text, { instance: 'ecgw' }).spaces.map((s) => s.path), ['/disk/gw', '/disk/x']);
    assert.deepEqual(parse(text, { program: 'cmsd' }).spaces.map((s) => s.path), []);
  });

  it('if/fi mistakes are errors with their line', () => {
    const c = parse('fi\nelse\nif exec xrootd\noss.space public /disk/a\nelse named x\n');
    assert.equal(findDiag(c, /'fi' without 'if'/).line, 1);
    assert.equal(findDiag(c, /'else' without 'if'/).line, 2);
    assert.equal(findDiag(c, /'else named' is invalid/).line, 5);
    assert.equal(findDiag(c, /'if' without 'fi'/).line, 3);
    assert.equal(findDiag(parse('if\nfi\n'), /nothing after 'if'/).line, 1);
  });

  // The continue semantics below were checked against XRootD 5.5.3's own config reader.
  it('continue FILE reads it; lines after continue are not applied (xrootd never comes back)', () => {
    const extra = t.write('extra.cfg', 'oss.space public /disk/sdb\nall.sitename EXTRA\n');
    const c = parse(`oss.space public /disk/sda\ncontinue ${extra}\noss.space public /disk/after\n`);
    assert.deepEqual(c.spaces.map((s) => [s.path, s.file, s.line]), [
      ['/disk/sda', t.path('xrootd.cfg'), 1],
      ['/disk/sdb', extra, 1],
    ]);
    assert.equal(c.sitename, 'EXTRA');
    assert.deepEqual(c.files, [t.path('xrootd.cfg'), extra]);
    const d = findDiag(c, /after 'continue' \(line 2\) are not applied/);
    assert.deepEqual([d.severity, d.line], ['warning', 3]);
  });

  it('continue DIR/ reads its files in byte order, skipping hidden files, package leftovers and directories', () => {
    t.write('config.d/20-b.cfg', 'oss.space public /disk/b\n');
    t.write('config.d/10-a.cfg', 'set d = /disk\noss.space public $d/a\n');
    t.write('config.d/B-upper.cfg', 'oss.space public /disk/B\n');
    t.write('config.d/50-e.bak', 'oss.space public /disk/bak\n');
    for (const skipped of ['.hidden.cfg', '30-c.cfg~', '40.cfg.rpmsave', '41.cfg.rpmnew', '42.cfg.dpkg-old', '43.cfg.dpkg-dist', '44.cfg.cfsaved', 'sub/60.cfg']) {
      t.write(`config.d/${skipped}`, 'oss.space public /disk/skipped\n');
    }
    const c = parse(`set dir = ${t.path('config.d')}\ncontinue $(dir)/\n`);
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/a', '/disk/b', '/disk/bak', '/disk/B']);
    assert.deepEqual(c.files.slice(1), ['10-a.cfg', '20-b.cfg', '50-e.bak', 'B-upper.cfg'].map((n) => t.path(`config.d/${n}`)));
    assert.deepEqual(c.diagnostics, []);
  });

  it('continue DIR *SUFFIX keeps matching files; an empty result still leaves the file', () => {
    t.write('d/a.cfg', 'oss.space public /disk/a\n');
    t.write('d/b.txt', 'oss.space public /disk/b\n');
    t.write('d/c.conf', 'oss.space public /disk/c\n');
    t.mkdir('empty');
    const paths = (line: string) => parse(`${line}\noss.space public /disk/after\n`).spaces.map((s) => s.path);
    assert.deepEqual(paths(`continue ${t.path('d')} *.cfg *.txt`), ['/disk/a', '/disk/b']);
    assert.deepEqual(paths(`continue ${t.path('d/c.conf')} *.cfg`), ['/disk/c'], 'suffixes do not filter a plain file');
    assert.deepEqual(paths(`continue ${t.path('d')} *.nothing`), []);
    assert.deepEqual(paths(`continue ${t.path('empty')}/`), []);
    const bad = parse(`continue ${t.path('d')} .cfg\noss.space public /disk/after\n`);
    assert.equal(findDiag(bad, /expected '\*SUFFIX' or 'if' after the path, got '.cfg'/).line, 1);
  });

  it('continue PATH if CONDITION: followed only when the condition holds', () => {
    const extra = t.write('extra.cfg', 'oss.space public /disk/extra\n');
    const paths = (cond: string, o = {}) => parse(`continue ${extra} if ${cond}\noss.space public /disk/after\n`, o).spaces.map((s) => s.path);
    assert.deepEqual(paths('exec xrootd'), ['/disk/extra']);
    assert.deepEqual(paths('exec cmsd'), ['/disk/after']);
    assert.deepEqual(paths('named ecgw', { instance: 'ecgw' }), ['/disk/extra']);
    const unknown = parse(`continue ${extra} if defined ?~SITE\noss.space public /disk/after\n`);
    assert.deepEqual(unknown.spaces, []);
    assert.equal(findDiag(unknown, /cannot evaluate 'continue .* if defined \?~SITE'/).line, 1);
    assert.equal(findDiag(unknown, /apply only if the continue's condition is false/).line, 2);
  });

  it('continue ?PATH and a bare continue are no-ops; continue PATH of a missing file is an error', () => {
    const ok = parse(`continue ?${t.path('nope.cfg')}\ncontinue\noss.space public /disk/after\n`);
    assert.deepEqual([ok.diagnostics, ok.spaces.map((s) => s.path)], [[], ['/disk/after']]);
    const d = findDiag(parse(`continue ${t.path('nope.cfg')}\n`), /continue .*nope\.cfg: .*ENOENT/);
    assert.deepEqual([d.severity, d.line], ['error', 1]);
    assert.match(findDiag(parse('continue config.d/\n'), /relative path/).severity, /error/);
  });

  it('continue in a continued file is refused (XRootD allows one level); a loop is reported and does not hang', () => {
    const a = t.path('a.cfg');
    const b = t.write('b.cfg', `oss.space public /disk/b\ncontinue ${a}\noss.space public /disk/b2\n`);
    t.write('a.cfg', `oss.space public /disk/a\ncontinue ${b}\n`);
    const c = parseXrootdConfig(a, { host: HOST });
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/a', '/disk/b', '/disk/b2']);
    const d = findDiag(c, /'continue' in a continuation is not allowed/);
    assert.deepEqual([d.severity, d.file, d.line], ['error', b, 2]);
    const self = parse(`continue ${t.path('xrootd.cfg')}\n`);
    assert.equal(findDiag(self, /continue loop/).line, 1);
    const viaDir = parse(`continue ${t.root}\n`);
    assert.equal(findDiag(viaDir, /continue loop/).line, 1);
  });

  it('continue inside an applying if/fi is refused; in a branch that does not apply it is passed over', () => {
    const extra = t.write('extra.cfg', 'oss.space public /disk/b\n');
    const c = parse(`if exec xrootd\ncontinue ${extra}\nfi\noss.space public /disk/after\n`);
    assert.deepEqual(c.spaces.map((s) => s.path), ['/disk/after']);
    assert.equal(findDiag(c, /'continue' inside if\/fi/).line, 2);
    const skipped = parse(`if exec cmsd\ncontinue ${extra}\nfi\noss.space public /disk/after\n`);
    assert.deepEqual([skipped.diagnostics, skipped.spaces.map((s) => s.path)], [[], ['/disk/after']]);
  });

  it('oss.space PATH* names every matching directory; other space problems are diagnosed', () => {
    t.mkdir('disks/sd1');
    t.mkdir('disks/sd2');
    t.mkdir('disks/other');
    t.write('disks/sd3', 'a file, not a disk');
    const c = parse(
      [
        `oss.space public ${t.path('disks')}/sd*`,
        `oss.space scratch ${t.path('disks')}/none* chkmount m`,
        'oss.space public',
        'oss.space public relative/path',
        'oss.space public /disk/x chkmount',
        'oss.space public /disk/y bogus',
        'oss.space public /disk/y/',
        'oss.space scratch /disk/y',
      ].join('\n'),
    );
    assert.deepEqual(spacesOf(c), [
      { name: 'public', path: t.path('disks/sd1') },
      { name: 'public', path: t.path('disks/sd2') },
      { name: 'public', path: '/disk/y' },
      { name: 'scratch', path: '/disk/y' },
    ]);
    assert.deepEqual(c.spaces.slice(0, 2).map((s) => s.pattern), [`${t.path('disks')}/sd*`, `${t.path('disks')}/sd*`]);
    assert.deepEqual(
      c.diagnostics.map((d) => [d.line, d.severity]),
      [
        [2, 'warning'],
        [3, 'error'],
        [4, 'error'],
        [5, 'error'],
        [6, 'warning'],
        [7, 'warning'],
      ],
    );
  });

  it('oss.space PATH ending in /NAME is the space directory itself: the disk is its parent (as xrootd does)', () => {
    const c = parse('oss.space other /disk/other chkmount mnt\noss.space public /disk/other/\noss.space other /disk\n');
    assert.deepEqual(
      c.spaces.map((s) => [s.name, s.path, s.configuredPath, chkmountMarker(s)]),
      [
        ['other', '/disk', '/disk/other', '/disk/other/mnt.other'],
        ['public', '/disk/other', '/disk/other', undefined],
      ],
    );
    assert.equal(findDiag(c, /same space directory as .*:1/).line, 3);
  });

  it('other directives stay available generically; words without a component are reported', () => {
    const c = parse('xrd.port 1094\nofs.xattr maxnsz 64\nbogus word\noss.localroot /ns/\n');
    assert.deepEqual(
      c.directives.map((d) => [d.component, d.directive, d.args, d.line]),
      [
        ['xrd', 'port', ['1094'], 1],
        ['ofs', 'xattr', ['maxnsz', '64'], 2],
        ['oss', 'localroot', ['/ns/'], 4],
      ],
    );
    assert.equal(c.localroot, '/ns');
    assert.equal(findDiag(c, /'bogus' is not a component.directive/).line, 3);
  });
});
