// Agent start after a crash between publishing a rebuilt archive and linking it: only archives
// the placement ledger vouches for are linked, and an existing link gives way only when it
// points into a disk that is failed or missing now (real files, real xattrs).
import assert from 'node:assert/strict';
import { mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { placeArchive } from '../../agent/repair/archive-placer.js';
import { recoverPlacements } from '../../agent/repair/placement-recovery.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

describe('placement recovery at agent start', () => {
  let site: FakeSite;
  const lfn = '/data/run/a';
  let link: string;
  const linkFor = (l: string): { linkPath: string; namespaceRoot: string } => ({ linkPath: `${site.localroot}${l}`, namespaceRoot: site.nsRoot });
  const disks = (state0: string): { diskId: string; path: string; state: string }[] => site.disks.map((d, i) => ({ diskId: d.diskId, path: d.path, state: i === 0 ? state0 : 'online' }));

  /** A published rebuilt archive on disk 1, as a crash after the rename leaves it (no link). */
  async function published(): Promise<string> {
    const d = site.disks[1];
    if (!d) throw new Error('no disk');
    const p = await placeArchive({ diskPath: d.path, space: d.space, linkPath: link, namespaceRoot: site.nsRoot, taskId: 'rt-1', slot: 0, version: { strpverText: '1700000000', filesizeText: '3' } },
      [{ name: 'obj.0.0', data: Buffer.from('abc'), crc: 0 }]);
    rmSync(link);
    return p.path;
  }

  beforeEach(() => {
    site = makeFakeSite();
    link = `${site.localroot}${lfn}`;
  });
  afterEach(() => site.cleanup());

  it('links a ledger-recorded archive whose link is missing', async () => {
    const path = await published();
    assert.deepEqual(recoverPlacements(disks('online'), linkFor, site.localroot ?? ''), [link]);
    assert.equal(readlinkSync(link), path);
    assert.deepEqual(recoverPlacements(disks('online'), linkFor, site.localroot ?? ''), [], 'nothing to do the second time');
  });

  it('replaces a link into a disk that is missing now, never one into a disk that is online', async () => {
    const path = await published();
    const old = `${site.disks[0]?.path}/public/0A/old%`;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(old, link);
    assert.deepEqual(recoverPlacements(disks('online'), linkFor, site.localroot ?? ''), []);
    assert.equal(readlinkSync(link), old, 'a link into an online disk is left alone');
    assert.deepEqual(recoverPlacements(disks('missing'), linkFor, site.localroot ?? ''), [link]);
    assert.equal(readlinkSync(link), path);
  });

  it('ignores a data file the ledger does not vouch for (no record, or a forged marker)', () => {
    const d = site.disks[1];
    if (!d) throw new Error('no disk');
    const p = `${d.path}/public/0B/stray%`;
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, 'x');
    setAttributeSync(p, 'user.XrdFrm.Pfn', Buffer.from(`${link}\0`));
    setAttributeSync(p, 'user.ecguard.repair', Buffer.from('rt-9:0'));
    mkdirSync(`${d.path}/.ecguard-repair`, { recursive: true });
    writeFileSync(`${d.path}/.ecguard-repair/rt-8.0`, 'public/0B/stray%\n');
    assert.deepEqual(recoverPlacements(disks('online'), linkFor, site.localroot ?? ''), []);
    assert.throws(() => readlinkSync(link));
  });
});
