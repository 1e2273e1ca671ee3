// Rebuild skips what no other server can confirm, saying what it is and what to do: a .mt file
// and a plain file were both called "the archive is damaged".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRebuild, planRebuild } from '../../agent/namespace/namespace-rebuild.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { METADATA_NOTE } from '../../shared/xrdec/mt-file.js';

const base = (lfn: string, o: Partial<ArchiveRecord>): ArchiveRecord => ({
  serverId: 's1', diskId: 's1:/d0', space: 'public', dataPath: `public/0A/${lfn.replace(/\//g, '_')}%`, pfn: lfn, lfn, size: 10, mtimeMs: 1, inode: 1,
  nblocks: 0, nentries: 0, regular: true, parseStatus: 'ok', ...o,
});

describe('namespace rebuild: why a file is not linked', () => {
  it('names .mt files and plain files for what they are, with the command to link them by hand', () => {
    const disks = [{ diskId: 's1:/d0', space: 'public', path: '/d0' }];
    const plan = planRebuild([
      base('/data/obj.mt', { parseStatus: 'not-ec', parseError: `${METADATA_NOTE} of /data/obj: 6 members` }),
      base('/data/plain.txt', { parseStatus: 'not-zip', parseError: 'no end of central directory' }),
      base('/data/torn', { parseStatus: 'truncated', parseError: 'EIO: short read' }),
    ], [], disks, ['/ns/data']);
    assert.deepEqual(plan.actions, []);
    const why = Object.fromEntries(plan.skipped.map((s) => [s.lfn, s.reason]));
    assert.match(why['/data/obj.mt'] ?? '', /^an XrdEc metadata \(\.mt\) file: not rebuilt .* ln -s -- '\/d0\/public\/0A\/_data_obj\.mt%' '\/data\/obj\.mt'/);
    assert.match(why['/data/plain.txt'] ?? '', /^not an XrdEc archive \(a plain file\): no other server can confirm it; if it is live, link it by hand/);
    assert.equal(why['/data/torn'], 'the archive is damaged (truncated: EIO: short read): not made visible');
  });

  it('the printed command quotes client-chosen names: a quote in an LFN stays one word for the shell', () => {
    const lfn = "/data/x'; touch /tmp/ecguard-pwned #";
    const plan = planRebuild([base(lfn, { parseStatus: 'not-zip' })], [], [{ diskId: 's1:/d0', space: 'public', path: '/d0' }], ['/ns/data']);
    const cmd = /ln -s -- (.*) \(then chown/.exec(plan.skipped[0]?.reason ?? '')?.[1] ?? '';
    // the shell splits the two arguments back exactly, and runs nothing else
    const words = execFileSync('sh', ['-c', `printf '%s\\n' ${cmd}`], { encoding: 'utf8' }).split('\n').slice(0, -1);
    assert.deepEqual(words, [`/d0/public/0A/${lfn.replace(/\//g, '_')}%`, lfn]);
  });
});

describe('namespace rebuild with the namespace root /', () => {
  it('plans and creates the right directories and link (all.export / without a localroot)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecguard-rootns-'));
    try {
      const lfn = `${dir}/run1/f.root`;
      const disks = [{ diskId: 's1:/d0', space: 'public', path: '/d0' }];
      const plan = planRebuild([base(lfn, {})], [], disks, ['/']);
      assert.deepEqual(plan.skipped, []);
      assert.deepEqual(plan.actions.map((a) => [a.linkPath, a.createDirs]), [[lfn, [`${dir}/run1`]]]);
      const out = applyRebuild(plan);
      assert.deepEqual(out.failed, []);
      assert.equal(readlinkSync(lfn), plan.actions[0]?.target);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
