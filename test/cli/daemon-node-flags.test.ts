// The agent and coordinator run with shared/daemon-node-flags.ts's V8 flags: through the
// `ecguard` launcher's shebang (what the systemd units start) and when the demo's local
// cluster spawns them. A flag Node rejects would stop every daemon from starting.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS, hasDaemonNodeFlags } from '../../shared/daemon-node-flags.js';
import { repoRoot } from '../helpers/cli.js';

const bin = join(repoRoot, 'bin', 'ecguard.js');

describe('daemon node flags', () => {
  it('the launcher\'s shebang passes exactly DAEMON_NODE_FLAGS to node', () => {
    const first = readFileSync(bin, 'utf8').split('\n')[0];
    assert.equal(first, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
  });

  it('node accepts them through env -S, and the launcher runs through its shebang', () => {
    const script = 'process.stdout.write(JSON.stringify(process.execArgv))';
    const r = spawnSync('/usr/bin/env', ['-S', `node ${DAEMON_NODE_FLAGS.join(' ')}`, '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const argv = JSON.parse(r.stdout) as string[];
    assert.ok(hasDaemonNodeFlags(argv), `execArgv ${r.stdout}`);
    assert.equal(hasDaemonNodeFlags([]), false);
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, `${bin} --version: ${v.stderr}`);
    assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  });
});
