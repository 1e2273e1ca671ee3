// A namespace root that cannot be read during a scan (unmounted, replaced by a file) says nothing
// about the links of the data files: the agent keeps what it knew of them, journals no delta for
// files that did not change, reports the root once, and journals nothing when the root is back.
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AgentRuntime } from '../../agent/agent-runtime.js';
import type { Delta } from '../../shared/domain/delta.js';
import { writeArchive } from '../helpers/archive-factory.js';
import { useRuntimeFixture } from '../helpers/runtime-fixture.js';

describe('agent: a namespace root that cannot be read', function () {
  this.timeout(60_000);
  const fx = useRuntimeFixture();

  const start = async (): Promise<{ rt: AgentRuntime; deltas: Delta[] }> => {
    const rt = fx.runtime();
    const deltas: Delta[] = [];
    rt.on('deltas', (d: Delta[]) => deltas.push(...d));
    await rt.start();
    return { rt, deltas };
  };
  const rootFindings = (rt: AgentRuntime) => rt.lastFindings.filter((f) => f.path === fx.site.nsRoot);
  const linked = (rt: AgentRuntime) => [...rt.inventory.records()].filter((x) => x.nsPath !== undefined).length;

  for (const [how, breakRoot] of [
    ['removed (not mounted)', () => renameSync(fx.site.nsRoot, `${fx.site.nsRoot}.away`)],
    ['replaced by a file', () => {
      renameSync(fx.site.nsRoot, `${fx.site.nsRoot}.away`);
      writeFileSync(fx.site.nsRoot, 'not a directory');
    }],
  ] as const) {
    it(`${how}: a rescan journals nothing for unchanged files and reports the root once; nothing either when it is back`, async () => {
      for (let i = 0; i < 12; i++) fx.site.store(`/data/d${i % 3}/f${i}`, i % 2, (p) => writeArchive(p, fx.tpl));
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
      fx.site.store('/data/new', 0, (p) => writeArchive(p, fx.tpl), { symlink: false });
      assert.equal((await rt.fullScan('test: a new file')).deltas, 1);

      rmSync(fx.site.nsRoot, { force: true });
      renameSync(`${fx.site.nsRoot}.away`, fx.site.nsRoot);
      const back = await rt.fullScan('test: root back');
      assert.equal(back.deltas, 0);
      assert.equal(rootFindings(rt).length, 0);
      assert.equal(linked(rt), 12);
    });
  }

  it('a watched bucket re-read while the root is gone keeps the links of its files', async () => {
    for (let i = 0; i < 6; i++) fx.site.store(`/data/f${i}`, 0, (p) => writeArchive(p, fx.tpl));
    const { rt } = await start();
    const disk = fx.site.disks[0];
    assert.ok(disk);
    const buckets = new Set([...rt.inventory.records([disk.diskId])].map((x) => x.dataPath.slice(0, x.dataPath.lastIndexOf('/'))));
    assert.ok(buckets.size > 0);
    renameSync(fx.site.nsRoot, `${fx.site.nsRoot}.away`);
    const d = rt.processChanges([...buckets].map((b) => `${disk.diskId}\u0000${b}`));
    assert.deepEqual(d, []);
    assert.equal(linked(rt), 6);
  });
});
