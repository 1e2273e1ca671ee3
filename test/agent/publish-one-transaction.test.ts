// The inventory and the journal are written in one transaction: an agent killed after a scan
// updated the inventory but before the journal recorded the change must come back with both
// unchanged, so its next scan reports the change. (Written apart, the restarted agent's
// inventory already held the change, the scan found nothing different, and the coordinator
// never heard of it.) A child agent is SIGKILLed at the fault point between the two.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import type { Delta } from '../../shared/domain/delta.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { makeArchiveTemplate, writeArchive } from '../helpers/archive-factory.js';

const CHILD = `
const { AgentRuntime } = await import(process.env.RUNTIME);
const r = new AgentRuntime({ layout: JSON.parse(process.env.LAYOUT), stateDir: process.env.STATE, watch: false, workers: 0 });
await r.start();
await r.stop();
`;

describe('agent: inventory and journal in one transaction', () => {
  let site: FakeSite;
  let state: string;
  afterEach(() => {
    site.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  it('killed between the inventory and the journal: the restart scan still reports the change', async () => {
    site = makeFakeSite();
    state = mkdtempSync(join(tmpdir(), 'ecguard-state-'));
    const tpl = makeArchiveTemplate();
    site.store('/data/old', 0, (p) => writeArchive(p, tpl));
    const layout = { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) };
    const first = new AgentRuntime({ layout, stateDir: state, watch: false, workers: 0 });
    await first.start();
    await first.stop();
    const path = site.store('/data/new', 1, (p) => writeArchive(p, tpl));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, ECGUARD_FAULT_KILL_AT: 'agent-before-journal', RUNTIME: pathToFileURL(join(import.meta.dirname, '..', '..', 'agent', 'agent-runtime.js')).href, LAYOUT: JSON.stringify(layout), STATE: state },
      encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(child.signal, 'SIGKILL', `premise: the child died at the fault point (${child.status}): ${child.stderr}`);
    const r = new AgentRuntime({ layout, stateDir: state, watch: false, workers: 0 });
    const deltas: Delta[] = [];
    r.on('deltas', (d: Delta[]) => deltas.push(...d));
    try {
      const disk = site.disks[1];
      assert.ok(disk);
      const dataPath = path.slice(disk.path.length + 1);
      assert.equal(r.inventory.has(disk.diskId, dataPath), false, 'the inventory kept a change the journal never recorded');
      await r.start();
      assert.deepEqual(deltas.map((d) => (d.kind === 'upsert' ? d.record.dataPath : `-${d.dataPath}`)), [dataPath], 'the restart reports the new file');
    } finally {
      await r.stop();
    }
  });
});
