// Operator commands against a real (empty, insecure, loopback) coordinator: with --json each
// prints one JSON document and nothing else on stdout, and the coordinator's own refusals keep
// their stable code (UNKNOWN_TASK, UNKNOWN_SERVER) for scripts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCliAsync } from '../helpers/cli.js';

describe('ecguard operator commands against a live coordinator', () => {
  let root: string;
  let coordinator: ChildProcess;
  let conn: string[];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ecguard-cli-live-'));
    coordinator = spawn(process.execPath, [join(repoRoot, 'bin', 'ecguard.js'), 'coordinator', '--insecure', '--listen', '127.0.0.1:0', '--db', join(root, 'catalog.db')], { stdio: ['ignore', 'pipe', 'ignore'] });
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      coordinator.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on port (\d+)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      coordinator.on('exit', (code) => reject(new Error(`coordinator exited (${code})`)));
    });
    conn = ['--coordinator', `127.0.0.1:${port}`, '--insecure'];
  });
  after(async () => {
    // its catalog files are removed once it has closed them
    const exited = coordinator.exitCode !== null ? Promise.resolve() : new Promise((r) => coordinator.once('exit', r));
    coordinator.kill('SIGTERM');
    await exited;
    rmSync(root, { recursive: true, force: true });
  });

  it('--json: one JSON document on stdout for every read-only command', async () => {
    const commands = [['status'], ['files'], ['servers'], ['disks'], ['debris'], ['events'], ['repair', 'status'], ['repair', 'run', '--all', '--dry-run']];
    const results = await Promise.all(commands.map((c) => runCliAsync([...c, ...conn, '--json'])));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${commands[i]?.join(' ')}: ${r.stderr}`);
      assert.doesNotThrow(() => JSON.parse(r.stdout), `${commands[i]?.join(' ')} stdout is not one JSON document: ${r.stdout}`);
    });
  });

  it('a refusal keeps the coordinator\'s code and names the address', async () => {
    const task = await runCliAsync(['repair', 'retry', 'nosuch', ...conn, '--json']);
    assert.equal(task.code, 1);
    const e = (JSON.parse(task.stdout) as { error: { code: string; message: string } }).error;
    assert.equal(e.code, 'UNKNOWN_TASK');
    assert.match(e.message, new RegExp(`coordinator at ${conn[1] as string}: no repair task nosuch`));
    const server = await runCliAsync(['server', 'lost', 'nosuch', ...conn]);
    assert.equal(server.code, 1);
    assert.match(server.stderr, /^ecguard: UNKNOWN_SERVER: /);
  });
});
