// Bad input and an unreachable coordinator: exit 2 (or 1) with a message naming the flag, value
// or file; with --json the error is the only thing on stdout; nothing is created or changed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCliAsync, type CliResult } from '../helpers/cli.js';

const NOWHERE = ['--coordinator', '127.0.0.1:1', '--insecure'];

function jsonError(r: CliResult): { code: string; message: string } {
  const parsed = JSON.parse(r.stdout) as { error?: { code: string; message: string } };
  assert.ok(parsed.error, `no error object in ${r.stdout}`);
  return parsed.error;
}

describe('ecguard CLI errors', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ecguard-cli-err-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('an unknown flag or a missing argument with --json prints a JSON usage error', async () => {
    for (const args of [['status', '--bogus', '--json'], ['inspect', '--json'], ['--json', 'nosuchcommand']]) {
      const r = await runCliAsync(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(jsonError(r).code, 'USAGE');
    }
    const plain = await runCliAsync(['status', '--bogus']);
    assert.equal(plain.code, 2);
    assert.equal(plain.stdout, '');
    assert.match(plain.stderr, /unknown option '--bogus'/);
  });

  it('a command group without a known subcommand: a usage error listing them (JSON with --json)', async () => {
    const bare = await runCliAsync(['repair']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /ecguard repair needs a subcommand: status, run, pause, resume, retry, throttle/);
    const json = await runCliAsync(['namespace', '--json']);
    assert.equal(json.code, 2);
    assert.match(jsonError(json).message, /ecguard namespace needs a subcommand: check, rebuild/);
    const unknown = await runCliAsync(['disk', 'eject', '--json']);
    assert.equal(unknown.code, 2);
    assert.match(jsonError(unknown).message, /ecguard disk has no subcommand "eject"; it has accept/);
    // the subcommand's own --json still belongs to it
    const sub = await runCliAsync(['repair', 'status', '--coordinator', '127.0.0.1:1', '--insecure', '--json']);
    assert.equal(jsonError(sub).code, 'COORDINATOR_UNREACHABLE');
  });

  it('a coordinator that does not answer: the message names the address and what to do', async () => {
    for (const args of [['status'], ['files', '--state', 'lost'], ['repair', 'status'], ['events'], ['safemode', 'leave']]) {
      const r = await runCliAsync([...args, ...NOWHERE, '--json']);
      assert.equal(r.code, 1, args.join(' '));
      const e = jsonError(r);
      assert.equal(e.code, 'COORDINATOR_UNREACHABLE');
      assert.match(e.message, /cannot reach the coordinator at 127\.0\.0\.1:1/);
      assert.match(e.message, /--coordinator/);
    }
    const bad = await runCliAsync(['status', '--coordinator', 'nohost', '--insecure']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--coordinator wants HOST:PORT.*"nohost"/);
  });

  it('files and events refuse unknown states, formats and event types before connecting', async () => {
    const state = await runCliAsync(['files', '--state', 'healthy,bogus', ...NOWHERE, '--json']);
    assert.equal(state.code, 2);
    assert.match(jsonError(state).message, /--state: unknown state "bogus"/);
    const pending = await runCliAsync(['files', '--state', 'pending', ...NOWHERE]);
    assert.equal(pending.code, 2);
    assert.match(pending.stderr, /--state pending: files are shown as pending while safe mode waits/);
    const format = await runCliAsync(['files', '--format', 'csv', ...NOWHERE]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format wants table or paths, got "csv"/);
    const type = await runCliAsync(['events', '--type', 'disk.failed,disk.broken', ...NOWHERE]);
    assert.equal(type.code, 2);
    assert.match(type.stderr, /--type: unknown event type "disk\.broken"/);
    const mbps = await runCliAsync(['repair', 'throttle', '--mbps', 'Infinity', ...NOWHERE]);
    assert.equal(mbps.code, 2);
    assert.match(mbps.stderr, /--mbps wants a positive number/);
  });

  it('coordinator: a bad duration or address names the flag, and the catalog is not created', async () => {
    const db = join(root, 'cat', 'catalog.db');
    for (const [flags, want] of [
      [['--heartbeat', '5'], /--heartbeat wants a duration like 30s.*"5"/],
      [['--repair-lease', 'soon'], /--repair-lease wants a duration/],
      [['--listen', 'bogus'], /--listen wants HOST:PORT.*"bogus"/],
      [['--metrics', '127.0.0.1:99999'], /--metrics wants HOST:PORT/],
      [['--listen', '0.0.0.0:0'], /--insecure listens on loopback only; --listen 0\.0\.0\.0:0 is not loopback/],
    ] as const) {
      const r = await runCliAsync(['coordinator', '--insecure', '--db', db, ...flags]);
      assert.equal(r.code, 2, flags.join(' '));
      assert.match(r.stderr, want);
      assert.equal(existsSync(join(root, 'cat')), false, 'the catalog directory was created');
    }
    const partial = await runCliAsync(['coordinator', '--db', db, '--tls-ca', join(root, 'ca.pem')]);
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /missing --tls-cert, --tls-key/);
    const nope = ['ca', 'cert', 'key'].flatMap((k) => [`--tls-${k}`, join(root, `nope.${k}`)]);
    const unreadable = await runCliAsync(['coordinator', '--db', db, ...nope]);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /TLS_FILES: TLS .* file .*nope\.ca cannot be read/);
    assert.equal(existsSync(join(root, 'cat')), false, 'the catalog directory was created');
    // ':PORT' (all interfaces) is a metrics address, as the metrics server documents it
    const metrics = spawn(process.execPath, [join(repoRoot, 'bin', 'ecguard.js'), 'coordinator', '--insecure', '--listen', '127.0.0.1:0', '--db', join(root, 'm', 'catalog.db'), '--metrics', ':0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((r) => metrics.once('exit', r));
    const started = await new Promise<string>((resolve) => {
      let out = '';
      metrics.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/listening on port/.test(out)) resolve(out);
      });
      metrics.on('exit', (code) => resolve(`exited ${code}`));
    });
    metrics.kill('SIGTERM');
    await exited;
    assert.match(started, /coordinator listening on port \d+/);
    const client = await runCliAsync(['status', '--coordinator', '127.0.0.1:1', ...nope, '--json']);
    assert.equal(client.code, 2);
    assert.equal(jsonError(client).code, 'TLS_FILES');
  });

  it('encode: a missing INPUT or output directory is a usage error and nothing is written', async () => {
    const dirs = ['d0', 'd1', 'd2'].map((d) => join(root, d));
    for (const d of dirs.slice(0, 2)) mkdirSync(d);
    const input = join(root, 'in.bin');
    writeFileSync(input, 'hello');
    const profile = ['--nbdata', '2', '--nbparity', '1', '--chunksize', '64'];
    const noDir = await runCliAsync(['encode', ...profile, '--out-dirs', dirs.join(','), input, '--json']);
    assert.equal(noDir.code, 2);
    assert.match(jsonError(noDir).message, /--out-dirs: directory .*d2 does not exist/);
    assert.deepEqual(readdirSync(dirs[0] as string), []);
    mkdirSync(dirs[2] as string);
    const noInput = await runCliAsync(['encode', ...profile, '--out-dirs', dirs.join(','), join(root, 'nope')]);
    assert.equal(noInput.code, 2);
    assert.match(noInput.stderr, /INPUT .*nope does not exist/);
    assert.doesNotMatch(noInput.stderr, /at openSync/); // no stack trace
  });

  it('a config file that cannot be read is bad input: exit 2, its code kept, the file named', async () => {
    const nope = join(root, 'nope.cfg');
    for (const args of [['scan', '--xrootd-config', nope], ['namespace', 'check', '--xrootd-config', nope], ['disk', 'accept', root, '--config', nope], ['agent', '--config', nope]]) {
      const r = await runCliAsync([...args, ...(args[0] === 'agent' ? [] : ['--json'])]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, new RegExp(`CONFIG_UNREADABLE: cannot read .*${nope}`));
      if (args[0] !== 'agent') assert.equal(jsonError(r).code, 'CONFIG_UNREADABLE');
    }
    const bad = join(root, 'agent.yaml');
    writeFileSync(bad, 'nosuchkey: 1\n');
    const invalid = await runCliAsync(['disk', 'accept', root, '--config', bad]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /CONFIG_INVALID/);
  });

  it('decode and inspect: a missing archive or a bad --out is a usage error and leaves no partial file', async () => {
    const dirs = ['d0', 'd1', 'd2'].map((d) => join(root, d));
    for (const d of dirs) mkdirSync(d);
    const input = join(root, 'in.bin');
    writeFileSync(input, Buffer.alloc(10_000, 7));
    const profile = ['--nbdata', '2', '--nbparity', '1', '--chunksize', '4096'];
    assert.equal((await runCliAsync(['encode', ...profile, '--out-dirs', dirs.join(','), input])).code, 0);
    const archives = dirs.map((d) => join(d, 'in.bin'));
    const missing = await runCliAsync(['decode', ...profile, '--out', join(root, 'out'), archives[0] as string, join(root, 'typo'), '--json']);
    assert.equal(missing.code, 2);
    assert.match(jsonError(missing).message, /ARCHIVE .*typo does not exist/);
    const outIsDir = await runCliAsync(['decode', ...profile, '--force', '--out', dirs[0] as string, ...archives]);
    assert.equal(outIsDir.code, 2);
    assert.match(outIsDir.stderr, /--out .*d0 is a directory/);
    assert.equal(existsSync(`${dirs[0] as string}.ecguard-partial`), false);
    const outNoDir = await runCliAsync(['decode', ...profile, '--out', join(root, 'nodir', 'out'), ...archives]);
    assert.equal(outNoDir.code, 2);
    assert.match(outNoDir.stderr, /directory .*nodir does not exist/);
    const inspect = await runCliAsync(['inspect', archives[1] as string, join(root, 'typo'), '--json']);
    assert.equal(inspect.code, 2);
    assert.match(jsonError(inspect).message, /ARCHIVE .*typo does not exist/);
  });
});
