// Agent YAML scan.progress: a full scan logs its progress (it was validated and ignored). Run in
// a child process to read the agent's log on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

const script = `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime } from '${join(repoRoot, 'dist/agent/agent-runtime.js')}';
import { makeFakeSite } from '${join(repoRoot, 'dist/test/helpers/fake-site.js')}';
import { makeArchiveTemplate, writeArchive } from '${join(repoRoot, 'dist/test/helpers/archive-factory.js')}';
const site = makeFakeSite({ serverId: 'srv1' });
const t = makeArchiveTemplate(2000);
for (let i = 0; i < 30; i++) site.store('/data/p' + i, i % 2, (p) => writeArchive(p, t));
const every = Number(process.argv[1]);
const rt = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: mkdtempSync(join(tmpdir(), 'ecg-prog-')), workers: 0, watch: false, ...(every >= 0 ? { scanProgressEveryMs: every } : {}) });
await rt.start();
await rt.stop();
`;

const run = (every: number): string => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', String(every)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
};

describe('agent: scan progress in the log', () => {
  it('logs bucket directories and files done when asked, nothing when not', () => {
    assert.match(run(0), /full scan \(start\): \d+ of \d+ bucket directories, \d+ files so far/);
    assert.doesNotMatch(run(-1), /bucket directories, \d+ files so far/);
  });
});
