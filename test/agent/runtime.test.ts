// The agent runtime on real files: full scans reconciled against the stored inventory, restart
// reporting only differences, the bounded journal, and disk identity and health.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, renameSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRuntime, type DiskEvent } from '../../agent/agent-runtime.js';
import type { Delta } from '../../shared/domain/delta.js';
import { MARKER_FILE } from '../../agent/disk/disk-check.js';
import { lookupServiceUser } from '../../agent/disk/service-user.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { makeArchiveTemplate, writeArchive, type ArchiveTemplate } from '../helpers/archive-factory.js';
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';

describe('agent runtime', () => {
  let site: FakeSite;
  let state: string;
  let tpl: ArchiveTemplate;
  const runtimes: AgentRuntime[] = [];
  before(() => {
    tpl = makeArchiveTemplate();
  });
  beforeEach(() => {
    site = makeFakeSite();
    state = mkdtempSync(join(tmpdir(), 'ecguard-state-'));
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop().catch(() => undefined);
    site.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  const layout = () => ({ serverId: site.serverId, disks: site.disks, exports: [site.exportPath], ...(site.localroot ? { localroot: site.localroot } : {}) });
  const runtime = (o: Partial<ConstructorParameters<typeof AgentRuntime>[0]> = {}): AgentRuntime => {
    const r = new AgentRuntime({ layout: layout(), stateDir: state, watch: false, workers: 0, ...o });
    runtimes.push(r);
    return r;
  };
  const collect = (r: AgentRuntime): Delta[] => {
    const all: Delta[] = [];
    r.on('deltas', (d: Delta[]) => all.push(...d));
    return all;
  };

  it('first start: one upsert per archive, in sequence; markers created', async () => {
    for (let i = 0; i < 30; i++) site.store(`/data/f${i}`, i % 2, (p) => writeArchive(p, tpl));
    const r = runtime();
    const deltas = collect(r);
    const disks: DiskEvent[] = [];
    r.on('disk', (e: DiskEvent) => disks.push(e));
    await r.start();
    assert.equal(deltas.length, 30);
    // a new journal starts past any sequence number a catalog could have applied (a wiped state
    // dir must not look like a continuation of the old journal)
    const base = (deltas[0]?.seq ?? 0) - 1;
    assert.ok(base >= (Date.now() - 60_000) * 1000, `starts at ${base + 1}`);
    assert.deepEqual(deltas.map((d) => d.seq), Array.from({ length: 30 }, (_, i) => base + i + 1));
    assert.ok(deltas.every((d) => d.kind === 'upsert' && d.record.strpver === tpl.strpver && d.record.nsPath !== undefined));
    assert.deepEqual(disks.map((e) => [e.from, e.to]), [['unknown', 'online'], ['unknown', 'online']]);
    for (const d of site.disks) assert.match(JSON.parse(readFileSync(join(d.path, MARKER_FILE), 'utf8')).uuid, /^[0-9a-f-]{36}$/);
  });

  it('restart reports only what changed meanwhile; sequence numbers continue', async () => {
    const paths = Array.from({ length: 30 }, (_, i) => site.store(`/data/f${i}`, i % 2, (p) => writeArchive(p, tpl)));
    const r1 = runtime();
    await r1.start();
    const last1 = r1.journal.stats().lastSeq;
    await r1.stop();
    runtimes.splice(0);
    for (const p of paths.slice(0, 3)) unlinkSync(p);
    for (let i = 0; i < 5; i++) site.store(`/data/new${i}`, 0, (p) => writeArchive(p, tpl));
    const r2 = runtime();
    const deltas = collect(r2);
    await r2.start();
    assert.equal(deltas.length, 8);
    assert.equal(deltas.filter((d) => d.kind === 'remove' && d.cause === 'rescan').length, 3);
    assert.equal(deltas.filter((d) => d.kind === 'upsert').length, 5);
    assert.equal(deltas[0]?.seq, last1 + 1);
    assert.equal(r2.inventory.size, 32);
  });

  it('journal: ack trims, replay covers the gap, overflow is reported instead of growing', async () => {
    for (let i = 0; i < 30; i++) site.store(`/data/f${i}`, 0, (p) => writeArchive(p, tpl));
    const r = runtime({ journalMaxEntries: 10 });
    let overflow = false;
    r.on('overflow', () => {
      overflow = true;
    });
    await r.start();
    const s = r.journal.stats();
    const base = s.lastSeq - 30; // the new journal's start (see the first test)
    assert.equal(overflow, true);
    assert.equal(s.pending, 10);
    assert.equal(s.overflowSince, base + 11);
    assert.equal(r.journal.replay(base).gap, true, 'a journal with a hole cannot be replayed');
    r.journal.reset(base + 30);
    assert.equal(r.journal.stats().pending, 0);
    assert.equal(r.journal.stats().overflowSince, undefined);
    site.store('/data/late', 0, (p) => writeArchive(p, tpl));
    await r.fullScan('test');
    const rep = r.journal.replay(base + 30);
    assert.equal(rep.gap, false);
    assert.deepEqual(rep.deltas.map((d) => d.seq), [base + 31]);
    r.journal.ack(base + 31);
    assert.equal(r.journal.replay(base + 20).gap, true, 'acked entries are gone');
  });

  it('a resync request takes a sequence number of its own: a sync snapshotted before it does not clear it', async () => {
    site.store('/data/one', 0, (p) => writeArchive(p, tpl));
    const r = runtime();
    await r.start();
    const before = r.journal.stats().lastSeq;
    r.journal.requireResync();
    const s = r.journal.stats();
    assert.deepEqual([s.lastSeq, s.overflowSince, s.lastDropped], [before + 1, before + 1, before + 1]);
    assert.equal(r.journal.replay(before).gap, true, 'no replay: the coordinator must compare');
    // a second request while one is due keeps the first mark and moves the end
    r.journal.requireResync();
    assert.deepEqual([r.journal.stats().overflowSince, r.journal.stats().lastDropped], [before + 1, before + 2]);
    r.journal.reset(before + 2);
    assert.equal(r.journal.stats().overflowSince, undefined);
  });

  it('a damaged read-disks row in the state refuses to start, naming the row; the state is left as it was', async () => {
    const r = runtime();
    await r.start();
    await r.stop();
    runtimes.length = 0;
    const db = new Database(join(state, 'agent.sqlite'));
    db.prepare("UPDATE meta SET value = '{not json' WHERE key = 'readDisks'").run();
    db.close();
    assert.throws(() => runtime(), (e: Error & { code?: string }) => e.code === 'AGENT_STATE_CORRUPT' && /meta row "readDisks".*delete that row/.test(e.message));
    runtimes.length = 0;
    const again = new Database(join(state, 'agent.sqlite'), { readonly: true });
    assert.equal((again.prepare("SELECT value FROM meta WHERE key = 'readDisks'").get() as { value: string }).value, '{not json');
    again.close();
  });

  it('disk renamed away: missing with evidence, no removals; back: online again', async () => {
    for (let i = 0; i < 10; i++) site.store(`/data/f${i}`, i % 2, (p) => writeArchive(p, tpl));
    const r = runtime();
    const deltas = collect(r);
    const events: DiskEvent[] = [];
    r.on('disk', (e: DiskEvent) => events.push(e));
    await r.start();
    const sdb = site.disks[1]?.path as string;
    renameSync(sdb, sdb + '.away');
    r.checkDisks();
    const gone = events.find((e) => e.diskId === site.disks[1]?.diskId && e.to === 'missing');
    assert.ok(gone, JSON.stringify(events));
    assert.match(gone.evidence.join(' '), /does not exist/);
    const rep = await r.fullScan('test');
    assert.deepEqual(rep.skippedDisks, [site.disks[1]?.diskId]);
    assert.equal(deltas.filter((d) => d.kind === 'remove').length, 0, 'a missing disk is not a deletion');
    renameSync(sdb + '.away', sdb);
    r.checkDisks();
    assert.ok(events.some((e) => e.diskId === site.disks[1]?.diskId && e.from === 'missing' && e.to === 'online'));
  });

  it('marker replaced (another disk mounted here): replaced event', async () => {
    const r = runtime();
    const events: DiskEvent[] = [];
    r.on('disk', (e: DiskEvent) => events.push(e));
    await r.start();
    const marker = join(site.disks[0]?.path as string, MARKER_FILE);
    const old = JSON.parse(readFileSync(marker, 'utf8')).uuid as string;
    writeFileSync(marker, JSON.stringify({ uuid: '11111111-2222-3333-4444-555555555555' }));
    r.checkDisks();
    const ev = events.find((e) => e.replaced);
    assert.deepEqual(ev?.replaced, { oldUuid: old, newUuid: '11111111-2222-3333-4444-555555555555' });
    unlinkSync(marker);
    r.checkDisks();
    assert.ok(events.some((e) => e.to === 'missing' && /missing/.test(e.evidence.join(' '))));
  });

  it('chmod 000 on a disk: failed for the xrootd user even though the agent is root', async () => {
    const user = lookupServiceUser('xrootd');
    assert.ok(user, 'the xrootd user exists (Debian xrootd-server)');
    const r = runtime({ serviceUser: user });
    const events: DiskEvent[] = [];
    r.on('disk', (e: DiskEvent) => events.push(e));
    await r.start();
    chmodSync(site.disks[0]?.path as string, 0o000);
    try {
      r.checkDisks();
    } finally {
      chmodSync(site.disks[0]?.path as string, 0o755);
    }
    const ev = events.find((e) => e.to === 'failed');
    assert.match(ev?.evidence.join(' ') ?? '', /mode 000.*cannot read/);
  });

  it('disk yanked mid-scan: the scan completes, the disk is reported, the other disk is unaffected', async () => {
    for (let i = 0; i < 1500; i++) site.store(`/data/d${i % 40}/f${i}`, i % 2, (p) => writeArchive(p, tpl));
    const r = runtime({ workers: 2 });
    const deltas = collect(r);
    await r.start();
    assert.equal(deltas.length, 1500);
    deltas.length = 0;
    const sda = site.disks[0]?.path as string;
    // unlink on sdb while sda is yanked during the scan
    const scan = r.fullScan('test');
    setTimeout(() => renameSync(sda, sda + '.away'), 5);
    const rep = await scan;
    assert.ok(rep.records > 0);
    assert.equal(r.diskHealth().find((h) => h.diskId === site.disks[0]?.diskId)?.state, 'missing');
    assert.equal(r.diskHealth().find((h) => h.diskId === site.disks[1]?.diskId)?.state, 'online');
    assert.equal(deltas.filter((d) => d.kind === 'remove').length, 0, 'nothing removed for the yanked disk');
    renameSync(sda + '.away', sda);
  });
});
