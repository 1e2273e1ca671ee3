// The agent's background scrub: one pass per interval, the cursor kept in the state directory
// so a restarted agent finishes the pass it was in (each archive read once), and findings
// handed on as they come. Also the wire form of a finding, which the coordinator checks.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScrubLoop, type ScrubLoopOptions } from '../../../agent/scrub/scrub-loop.js';
import type { LocalScrubFinding } from '../../../agent/scrub/scrub-pass.js';
import { getCodec } from '../../../shared/codec/index.js';
import { scrubFindingFromWire, scrubFindingToWire } from '../../../shared/wire/scrub-wire.js';
import { ScrubProblem } from '../../../proto/gen/ecguard/v1/scrub.js';
import { makeArchiveTemplate, writeArchive } from '../../helpers/archive-factory.js';
import { makeFakeSite, type FakeSite } from '../../helpers/fake-site.js';

const HOUR = 3_600_000;

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent: background scrub loop', () => {
  let site: FakeSite;
  let state: string;
  const tpl = makeArchiveTemplate(20_000);
  before(() => {
    site = makeFakeSite({ disks: 2 });
    for (let i = 0; i < 8; i++) site.store(`/data/l/f${i}`, i % 2, (p) => writeArchive(p, tpl));
  });
  after(() => site.cleanup());
  beforeEach(() => {
    state = join(mkdtempSync(join(tmpdir(), 'ecguard-scrub-state-')), 'scrub-state.json');
  });

  const loop = (o: Partial<ScrubLoopOptions> = {}): ScrubLoop =>
    new ScrubLoop({ disks: () => site.disks, exports: ['/data'], ...(site.localroot ? { localroot: site.localroot } : {}), codec: getCodec(), mbps: 1000, intervalMs: HOUR, stateFile: state, onFinding: () => undefined, ...o });

  it('runs a pass, then waits for the interval; the pass time survives a restart', async () => {
    let clock = 1_000_000;
    const a = loop({ now: () => clock });
    a.start();
    await until('one pass', () => a.stats().passes === 1);
    assert.equal(a.stats().archives, 8);
    await a.stop();
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { cursor?: unknown; passStartedAt: number; lastPassDoneAt: number };
    assert.equal(saved.cursor, undefined);
    assert.equal(saved.passStartedAt, 1_000_000);

    clock += HOUR / 2; // restarted within the interval: nothing read
    const b = loop({ now: () => clock });
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.stats().archives, 0);
    await b.stop();

    clock += HOUR; // past it: the next pass runs
    const c = loop({ now: () => clock });
    c.start();
    await until('the next pass', () => c.stats().passes === 1);
    assert.equal(c.stats().archives, 8);
    await c.stop();
  });

  it('a pass stopped half-way is finished by the next agent, each archive read once', async () => {
    // about 5 KB per archive at 0.02 MB/s: a few archives per second
    const a = loop({ mbps: 0.02, saveEveryMs: 0 });
    a.start();
    await until('two archives', () => a.stats().archives >= 2);
    await a.stop();
    const first = a.stats().archives;
    assert.ok(first < 8, `stopped after ${first}`);
    assert.ok((JSON.parse(readFileSync(state, 'utf8')) as { cursor?: unknown }).cursor, 'cursor saved');
    const b = loop();
    b.start();
    await until('the pass finished', () => b.stats().passes === 1);
    assert.equal(b.stats().archives, 8 - first);
    await b.stop();
  });

  it('a pass stopped before its first archive is resumed after a restart, not taken for done; stop() does not wait out the rate limit', async () => {
    const a = loop({ mbps: 0.000_01 }); // 10 bytes/s: the first entry's wait is hours
    a.start();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await a.stop();
    assert.ok(Date.now() - t0 < 2000, 'stop() came back at once');
    assert.equal(a.stats().archives, 0);
    assert.equal((JSON.parse(readFileSync(state, 'utf8')) as { inPass?: boolean }).inPass, true);
    const b = loop();
    b.start();
    await until('the pass finished', () => b.stats().passes === 1);
    assert.equal(b.stats().archives, 8);
    await b.stop();
  });

  it('a pass resumed after the disks\' config order changed reads every archive once: none skipped, none twice', async () => {
    const [d0, d1] = site.disks;
    assert.ok(d0 && d1);
    // stopped on the first disk, then the config lists it last; and stopped on the second, then first
    for (const stopAfter of [1, 5]) {
      state = join(mkdtempSync(join(tmpdir(), 'ecguard-scrub-state-')), 'scrub-state.json');
      const a = loop({ mbps: 0.02, saveEveryMs: 0 });
      a.start();
      await until(`${stopAfter} archive(s)`, () => a.stats().archives >= stopAfter);
      await a.stop();
      const first = a.stats().archives;
      const saved = JSON.parse(readFileSync(state, 'utf8')) as { cursor?: { diskId: string }; doneDisks?: string[] };
      assert.equal(saved.cursor?.diskId, first <= 4 ? d0.diskId : d1.diskId, `stopped after ${first}`);
      // (stopped right after the first disk's last archive, it may or may not be marked done yet)
      if (first !== 4) assert.deepEqual(saved.doneDisks, first < 4 ? [] : [d0.diskId]);
      const b = loop({ disks: () => [d1, d0] });
      b.start();
      await until('the pass finished', () => b.stats().passes === 1);
      assert.equal(b.stats().archives, 8 - first, `stopped after ${first}: the rest read once each`);
      await b.stop();
    }
  });

  it('a pass that fails (a disk list that cannot be read) is tried again after retryMs, and then completes', async () => {
    let calls = 0;
    const a = loop({
      retryMs: 50,
      disks: () => {
        if (calls++ === 0) throw new Error('EIO listing the disks');
        return site.disks;
      },
    });
    a.start();
    await until('a pass after the failure', () => a.stats().passes === 1);
    assert.equal(a.stats().archives, 8);
    assert.ok(calls >= 2);
    await a.stop();
  });

  it('a damaged state file starts a new pass instead of failing', async () => {
    writeFileSync(state, '{"cursor": {"diskId": 7}}');
    const a = loop();
    a.start();
    await until('a pass', () => a.stats().passes === 1);
    assert.equal(a.stats().archives, 8);
    await a.stop();
  });

  it('hands on what it finds, with the file\'s LFN', async () => {
    const bad = site.store('/data/l/bad', 1, (p) => {
      writeArchive(p, tpl);
      const b = readFileSync(p);
      b[200] = (b[200] as number) ^ 0xff;
      writeFileSync(p, b);
    });
    const found: LocalScrubFinding[] = [];
    const a = loop({ onFinding: (f) => void found.push(f) });
    a.start();
    await until('a pass', () => a.stats().passes === 1);
    await a.stop();
    rmSync(bad);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.lfn, '/data/l/bad');
    assert.equal(a.stats().corruptArchives, 1);
  });

  it('the wire form round-trips; a finding without an archive, entries or a known problem is refused', () => {
    const f = { diskId: 'srv01:/d', dataPath: 'public/0A/x%', lfn: '/data/x', at: 5, problems: [{ name: 'obj.3.1', block: 3, stripe: 1, kind: 'crc-mismatch' as const, expectedCrc: 0xfeedbeef, foundCrc: 1, reason: 'CRC' }] };
    assert.deepEqual(scrubFindingFromWire(scrubFindingToWire(f)), f);
    const w = scrubFindingToWire(f);
    assert.throws(() => scrubFindingFromWire({ ...w, dataPath: '' }), /BAD_MESSAGE|names no archive/);
    assert.throws(() => scrubFindingFromWire({ ...w, entries: [] }), /lists no entry/);
    assert.throws(() => scrubFindingFromWire({ ...w, entries: [{ ...(w.entries[0] as (typeof w.entries)[number]), problem: ScrubProblem.SCRUB_PROBLEM_UNSPECIFIED }] }), /unknown problem/);
    assert.throws(() => scrubFindingFromWire({ ...w, atMs: -1 }), /impossible time/);
    // block and stripe come from the name, not from the peer
    const odd = scrubFindingFromWire({ ...w, entries: [{ ...(w.entries[0] as (typeof w.entries)[number]), name: 'notes.txt' }] });
    assert.equal(odd.problems[0]?.block, undefined);
  });
});
