// A namespace root that cannot be read during a scan (unmounted, replaced by a file) says nothing
// about the links of the data files: the agent keeps what it knew of them, journals no delta for
// files that did not change, reports the root once, and journals nothing when the root is back.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import type { Delta } from '../../shared/domain/delta.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from '../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

describe('agent: a namespace root that cannot be read', function () {
  this.timeout(60_000);
  let site: FakeSite;
  let state: string;
  let tpl: ArchiveTemplate;
  let r: AgentRuntime | undefined;
  before(() => {
    tpl = makeArchiveTemplate();
  });
  beforeEach(() => {
    site = makeFakeSite();
    state = mkdtempSync(join(tmpdir(), 'ecguard-state-'));
  });
  afterEach(async () => {
    await r?.stop().catch(() => undefined);
    r = undefined;
    site.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  const start = async (): Promise<{ rt: AgentRuntime; deltas: Delta[] }> => {
    const rt = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: false, workers: 0 });
    r = rt;
    const deltas: Delta[] = [];
    rt.on('deltas', (d: Delta[]) => deltas.push(...d));
    await rt.start();
    return { rt, deltas };
  };
  const rootFindings = (rt: AgentRuntime) => rt.lastFindings.filter((f) => f.path === site.nsRoot);
  const linked = (rt: AgentRuntime) => [...rt.inventory.records()].filter((x) => x.nsPath !== undefined).length;

  for (const [how, breakRoot] of [
    ['removed (not mounted)', () => renameSync(site.nsRoot, `${site.nsRoot}.away`)],
    ['replaced by a file', () => {
      renameSync(site.nsRoot, `${site.nsRoot}.away`);
      writeFileSync(site.nsRoot, 'not a directory');
    }],
  ] as const) {
    it(`${how}: a rescan journals nothing for unchanged files and reports the root once; nothing either when it is back`, async () => {
      for (let i = 0; i < 12; i++) site.store(`/data/d${i % 3}/f${i}`, i % 2, (p) => writeArchive(p, tpl));
      const { rt, deltas } = await start();
      assert.equal(deltas.length, 12);
      assert.equal(linked(rt), 12);
      const seq = rt.journal.stats().lastSeq;

      breakRoot();
      const out = await rt.fullScan('test: root gone');
      assert.equal(out.deltas, 0, `deltas: ${JSON.stringify(deltas.slice(12).map((d) => d.kind === 'upsert' ? d.record.nsPath ?? '(no link)' : d.kind))}`);
      assert.equal(rt.journal.stats().lastSeq, seq);
      assert.equal(rootFindings(rt).length, 1, 'one finding names the root');
      assert.equal(rootFindings(rt)[0]?.kind, 'unreadable');
      assert.equal(rt.lastFindings.filter((f) => f.kind === 'data-without-symlink').length, 0, 'no finding per data file');
      assert.equal(linked(rt), 12, 'the inventory keeps the links it knew');
      // a file added meanwhile is still reported: only the namespace is unknown
      site.store('/data/new', 0, (p) => writeArchive(p, tpl), { symlink: false });
      assert.equal((await rt.fullScan('test: a new file')).deltas, 1);

      rmSync(site.nsRoot, { force: true });
      renameSync(`${site.nsRoot}.away`, site.nsRoot);
      const back = await rt.fullScan('test: root back');
      assert.equal(back.deltas, 0);
      assert.equal(rootFindings(rt).length, 0);
      assert.equal(linked(rt), 12);
    });
  }

  it('a watched bucket re-read while the root is gone keeps the links of its files', async () => {
    for (let i = 0; i < 6; i++) site.store(`/data/f${i}`, 0, (p) => writeArchive(p, tpl));
    const { rt } = await start();
    const disk = site.disks[0];
    assert.ok(disk);
    const buckets = new Set([...rt.inventory.records([disk.diskId])].map((x) => x.dataPath.slice(0, x.dataPath.lastIndexOf('/'))));
    assert.ok(buckets.size > 0);
    renameSync(site.nsRoot, `${site.nsRoot}.away`);
    const d = rt.processChanges([...buckets].map((b) => `${disk.diskId}\u0000${b}`));
    assert.deepEqual(d, []);
    assert.equal(linked(rt), 6);
  });
});
