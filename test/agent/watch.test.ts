// Live watching: 1,000 creates and 1,000 deletes give exactly the matching deltas, in sequence;
// changes the watcher never saw are caught by the next full scan.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, unlinkSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { AgentRuntime } from '../../agent/agent-runtime.js';
import type { Delta } from '../../shared/domain/delta.js';
import { dataFileRelPath } from '../../shared/xrdec/data-file-name.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from '../helpers/archive-factory.js';

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent watch', () => {
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
    for (const d of site.disks) mkdirSync(join(d.path, 'staging'));
  });
  afterEach(async () => {
    await r?.stop();
    r = undefined;
    site.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  let counter = 5000;
  /** Creates a complete data file atomically (written aside, renamed in), with its symlink. */
  function create(lfn: string, disk: number): string {
    const d = site.disks[disk];
    if (!d) throw new Error('no disk');
    const rel = dataFileRelPath({ startTime: 1, pid: 2, port: 0, ipv4: [127, 0, 0, 1], counter: counter++ }, d.path, d.space);
    const final = join(d.path, rel);
    mkdirSync(dirname(final), { recursive: true });
    const tmp = join(site.disks[disk]?.path as string, 'staging', `t${counter}`);
    writeArchive(tmp, tpl);
    const link = (site.localroot ?? '') + lfn;
    setAttributeSync(tmp, 'user.XrdFrm.Pfn', Buffer.from(link + '\0'));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(final, link);
    renameSync(tmp, final);
    return final;
  }

  it('1,000 creates then 1,000 deletes: exactly the matching deltas, sequence in order', async () => {
    // every bucket exists up front (xrootd's buckets stay once made)
    for (let i = 0; i < 256; i++) for (const d of site.disks) mkdirSync(join(d.path, d.space, i.toString(16).padStart(2, '0').toUpperCase()), { recursive: true });
    r = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: true, workers: 0 });
    const deltas: Delta[] = [];
    r.on('deltas', (d: Delta[]) => deltas.push(...d));
    await r.start();
    assert.equal(deltas.length, 0);
    const paths: string[] = [];
    for (let i = 0; i < 1000; i++) {
      paths.push(create(`/data/w/f${i}`, i % 2));
      if (i % 100 === 99) await new Promise((res) => setImmediate(res));
    }
    await until(() => deltas.length >= 1000, 10_000, '1000 upserts');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(deltas.length, 1000);
    const ups = new Set(deltas.map((d) => (d.kind === 'upsert' ? `${d.record.diskId}:${d.record.dataPath}` : '')));
    assert.equal(ups.size, 1000, 'one upsert per created file');
    assert.ok(deltas.every((d) => d.kind === 'upsert' && d.record.nsPath !== undefined && d.record.lfn?.startsWith('/data/w/f')));
    for (const p of paths) unlinkSync(p);
    await until(() => deltas.length >= 2000, 10_000, '1000 removes');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(deltas.length, 2000);
    const removes = deltas.slice(1000);
    assert.ok(removes.every((d) => d.kind === 'remove' && d.cause === 'unlink'));
    assert.equal(new Set(removes.map((d) => (d.kind === 'remove' ? d.dataPath : ''))).size, 1000);
    for (let i = 1; i < deltas.length; i++) assert.ok((deltas[i]?.seq ?? 0) > (deltas[i - 1]?.seq ?? 0), 'sequence increases');
    assert.equal(r.inventory.size, 0);
  });

  it('changes the watcher missed are corrected by the next full scan', async () => {
    const keep = Array.from({ length: 20 }, (_, i) => create(`/data/k${i}`, i % 2));
    r = new AgentRuntime({ layout: { serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) }, stateDir: state, watch: false, workers: 0 });
    const deltas: Delta[] = [];
    r.on('deltas', (d: Delta[]) => deltas.push(...d));
    await r.start();
    assert.equal(deltas.length, 20);
    deltas.length = 0;
    // the watcher is off: these changes go unseen until the periodic scan
    for (const p of keep.slice(0, 4)) unlinkSync(p);
    for (let i = 0; i < 6; i++) create(`/data/m${i}`, 1);
    assert.equal(deltas.length, 0);
    const rep = await r.fullScan('periodic');
    assert.equal(rep.deltas, 10);
    assert.equal(deltas.filter((d) => d.kind === 'remove' && d.cause === 'rescan').length, 4);
    assert.equal(deltas.filter((d) => d.kind === 'upsert').length, 6);
  });
});
