// Disk identity on first sight and the marker read: an empty mount point on the parent
// filesystem is not a disk yet (no marker written there), a chkmount marker gates the disk as it
// gates xrootd, and a marker that is not a small regular file never blocks or follows a link.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptDisk } from '../../agent/disk/disk-accept.js';
import { checkDisk, MARKER_FILE } from '../../agent/disk/disk-check.js';
import { openAgentDb } from '../../agent/state/agent-db.js';
import { DiskStore } from '../../agent/state/disk-store.js';

const opts = { serverId: 'srv1', createMarker: true };

describe('disk check', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ecguard-diskcheck-'));
  });
  afterEach(() => {
    spawnSync('umount', [join(root, 'disk1')], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  });

  it('first sight of an empty mount point (not mounted): missing, no marker written', () => {
    const path = join(root, 'disk1');
    mkdirSync(path);
    const h = checkDisk({ diskId: 'srv1:d1', space: 'public', path }, { mountPoint: false }, opts);
    assert.equal(h.state, 'missing');
    assert.match(h.evidence.join('; '), /not a mount point and holds no public directory: not mounted\? mount it/);
    assert.deepEqual(readdirSync(path), []);
  });

  it('a directory disk on the parent filesystem that holds its space directory: online, marker created', () => {
    const path = join(root, 'disk1');
    mkdirSync(join(path, 'public'), { recursive: true });
    const h = checkDisk({ diskId: 'srv1:d1', space: 'public', path }, { mountPoint: false }, opts);
    assert.equal(h.state, 'online');
    assert.equal(h.markerCreated, true);
    assert.ok(existsSync(join(path, MARKER_FILE)));
  });

  it('mounted later: online with the marker on the mounted disk, nothing left under the mount point', function () {
    if (process.getuid?.() !== 0) this.skip();
    const path = join(root, 'disk1');
    mkdirSync(path);
    const disk = { diskId: 'srv1:d1', space: 'public', path };
    const h1 = checkDisk(disk, { mountPoint: false }, opts);
    assert.equal(h1.state, 'missing');
    try {
      execFileSync('mount', ['-t', 'tmpfs', 'ecguard-test', path], { stdio: 'ignore' });
    } catch {
      this.skip(); // no mount privilege in this container
    }
    mkdirSync(join(path, 'public', '00'), { recursive: true });
    const h2 = checkDisk(disk, { ...(h1.uuid ? { uuid: h1.uuid } : {}), mountPoint: h1.mountPoint }, opts);
    assert.equal(h2.state, 'online');
    assert.equal(h2.mountPoint, true);
    assert.ok(existsSync(join(path, MARKER_FILE)));
    execFileSync('umount', [path]);
    assert.deepEqual(readdirSync(path), []);
  });

  it('chkmount marker absent: missing (xrootd skips it too); present: online', () => {
    const path = join(root, 'disk1');
    mkdirSync(join(path, 'public'), { recursive: true });
    const disk = { diskId: 'srv1:d1', space: 'public', path, chkmount: join(path, 'mnt.disk1') };
    const h = checkDisk(disk, { mountPoint: false }, opts);
    assert.equal(h.state, 'missing');
    assert.match(h.evidence.join('; '), /chkmount marker .*mnt\.disk1 is absent.*xrootd skips this disk too/);
    assert.ok(!existsSync(join(path, MARKER_FILE)));
    writeFileSync(join(path, 'mnt.disk1'), '');
    assert.equal(checkDisk(disk, { mountPoint: false }, opts).state, 'online');
  });

  it('marker missing on a known disk: missing, and the evidence says how to accept the disk', () => {
    const path = join(root, 'disk1');
    mkdirSync(join(path, 'public'), { recursive: true });
    const uuid = '11111111-1111-1111-1111-111111111111';
    const h = checkDisk({ diskId: 'srv1:d1', space: 'public', path }, { uuid, mountPoint: false }, opts);
    assert.equal(h.state, 'missing');
    assert.match(h.evidence.join('; '), new RegExp(`ecguard disk accept ${path}`));
  });

  describe('a marker that is not a small regular file: failed, never blocks', () => {
    const uuid = '11111111-1111-1111-1111-111111111111';
    const cases: [string, (marker: string) => void][] = [
      ['a FIFO', (m) => execFileSync('mkfifo', [m])],
      ['a symlink to /dev/zero', (m) => symlinkSync('/dev/zero', m)],
      ['a symlink to a valid marker', (m) => {
        writeFileSync(`${m}.real`, JSON.stringify({ uuid }));
        symlinkSync(`${m}.real`, m);
      }],
      ['a directory', (m) => mkdirSync(m)],
      ['an oversized file', (m) => writeFileSync(m, JSON.stringify({ uuid, pad: 'x'.repeat(5000) }))],
    ];
    for (const [what, make] of cases) {
      it(what, () => {
        const path = join(root, 'disk1');
        mkdirSync(join(path, 'public'), { recursive: true });
        make(join(path, MARKER_FILE));
        // In a child: a blocking read would hang it (the timeout then fails the test).
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
          import { checkDisk } from ${JSON.stringify(new URL('../../agent/disk/disk-check.js', import.meta.url).href)};
          console.log(JSON.stringify(checkDisk({ diskId: 'd', space: 'public', path: ${JSON.stringify(path)} }, { uuid: ${JSON.stringify(uuid)}, mountPoint: false }, { serverId: 's', createMarker: true })));
        `], { timeout: 5000, encoding: 'utf8' });
        assert.equal(r.signal, null, 'checkDisk blocked');
        const h = JSON.parse(r.stdout) as { state: string; evidence: string[] };
        assert.equal(h.state, 'failed');
        assert.match(h.evidence.join('; '), /\.ecguard-disk is not a regular file.*: remove it/);
      });
    }
  });

  it('a valid marker is still read', () => {
    const path = join(root, 'disk1');
    mkdirSync(join(path, 'public'), { recursive: true });
    const uuid = '22222222-2222-2222-2222-222222222222';
    writeFileSync(join(path, MARKER_FILE), JSON.stringify({ uuid }));
    const h = checkDisk({ diskId: 'srv1:d1', space: 'public', path }, { uuid, mountPoint: false }, opts);
    assert.equal(h.state, 'online');
    assert.equal(h.uuid, uuid);
  });
});

describe('disk accept', () => {
  let root: string;
  let state: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ecguard-diskaccept-'));
    state = join(root, 'state');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a known disk whose marker is missing: accept writes the stored identity back; the check is online again', () => {
    const path = join(root, 'disk1');
    mkdirSync(join(path, 'public'), { recursive: true });
    const disk = { diskId: 'srv1:d1', space: 'public', path };
    const h1 = checkDisk(disk, { mountPoint: false }, opts);
    assert.ok(h1.uuid);
    const db = openAgentDb(state);
    new DiskStore(db).put(disk.diskId, path, h1, false);
    db.close();
    unlinkSync(join(path, MARKER_FILE));
    assert.equal(checkDisk(disk, { uuid: h1.uuid, mountPoint: false }, opts).state, 'missing');
    const r = acceptDisk([disk], `${path}/`, state, 'srv1');
    assert.deepEqual(r, { diskIds: [disk.diskId], path, uuid: h1.uuid, written: true, downgradeCleared: false });
    const h2 = checkDisk(disk, { uuid: h1.uuid, mountPoint: false }, opts);
    assert.equal(h2.state, 'online');
    assert.equal(h2.replaced, undefined);
    assert.equal(acceptDisk([disk], path, state, 'srv1').written, false);
  });

  it('refuses an unknown path, a disk that is not mounted, and a marker that is not a regular file', () => {
    const path = join(root, 'disk1');
    mkdirSync(path);
    const disk = { diskId: 'srv1:d1', space: 'public', path };
    assert.throws(() => acceptDisk([disk], join(root, 'other'), state, 'srv1'), { code: 'DISK_UNKNOWN' });
    assert.throws(() => acceptDisk([disk], path, state, 'srv1'), { code: 'DISK_NOT_MOUNTED' });
    mkdirSync(join(path, 'public'));
    assert.throws(() => acceptDisk([disk], path, state, 'srv1'), { code: 'DISK_NO_IDENTITY' });
    const db = openAgentDb(state);
    new DiskStore(db).put(disk.diskId, path, { diskId: disk.diskId, path, state: 'missing', uuid: '11111111-1111-1111-1111-111111111111', mountPoint: false, evidence: [] }, false);
    db.close();
    symlinkSync('/dev/zero', join(path, MARKER_FILE));
    assert.throws(() => acceptDisk([disk], path, state, 'srv1'), { code: 'DISK_MARKER_NOT_FILE' });
  });

  it('never overwrites another disk\'s marker or one it cannot read, and never accepts a directory where a mount point was', () => {
    const path = join(root, 'disk1');
    mkdirSync(join(path, 'public'), { recursive: true });
    const disk = { diskId: 'srv1:d1', space: 'public', path };
    const known = '11111111-1111-1111-1111-111111111111';
    const db = openAgentDb(state);
    new DiskStore(db).put(disk.diskId, path, { diskId: disk.diskId, path, state: 'missing', uuid: known, mountPoint: false, evidence: [] }, false);
    db.close();
    const marker = join(path, MARKER_FILE);
    const other = JSON.stringify({ uuid: '22222222-2222-2222-2222-222222222222', createdAt: 'x', serverId: 'srv9', path });
    writeFileSync(marker, other);
    assert.throws(() => acceptDisk([disk], path, state, 'srv1'), { code: 'DISK_OTHER_IDENTITY' });
    assert.equal(readFileSync(marker, 'utf8'), other, 'the other disk\'s marker is untouched');
    writeFileSync(marker, 'garbage');
    assert.throws(() => acceptDisk([disk], path, state, 'srv1'), { code: 'DISK_MARKER_INVALID' });
    assert.equal(readFileSync(marker, 'utf8'), 'garbage');
    unlinkSync(marker);
    // the agent knew it as a mount point: a plain directory with a stale space dir is not the disk
    const db2 = openAgentDb(state);
    new DiskStore(db2).put(disk.diskId, path, { diskId: disk.diskId, path, state: 'missing', uuid: known, mountPoint: true, evidence: [] }, true);
    db2.close();
    assert.throws(() => acceptDisk([disk], path, state, 'srv1'), { code: 'DISK_NOT_MOUNTED' });
    assert.ok(!existsSync(marker), 'no marker written');
    // chkmount file absent: xrootd would skip the disk, so is it
    assert.throws(() => acceptDisk([{ ...disk, chkmount: join(path, 'mounted') }], path, state, 'srv1'), { code: 'DISK_NOT_MOUNTED' });
  });
});

describe('disk accept --replaced', () => {
  it('a new disk without marker gets a new identity: the check reports it replaced', () => {
    const root = mkdtempSync(join(tmpdir(), 'ecguard-diskaccept-'));
    try {
      const path = join(root, 'disk1');
      mkdirSync(join(path, 'public'), { recursive: true });
      const disk = { diskId: 'srv1:d1', space: 'public', path };
      const old = '11111111-1111-1111-1111-111111111111';
      const r = acceptDisk([disk], path, join(root, 'state'), 'srv1', { replaced: true });
      assert.notEqual(r.uuid, old);
      const h = checkDisk(disk, { uuid: old, mountPoint: false }, opts);
      assert.equal(h.state, 'online');
      assert.deepEqual(h.replaced, { oldUuid: old, newUuid: r.uuid });
      assert.throws(() => acceptDisk([disk], path, join(root, 'state'), 'srv1', { replaced: true }), { code: 'DISK_HAS_MARKER' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
