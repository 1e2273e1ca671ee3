// The placer where another run, a crash or a planted name gets between its steps (found by
// review): an aborted placement never publishes what now sits at its temp name; a directory a
// crash left root's is finished, once; the ledger's temp name is never followed; a swap link
// left by a crash is removed, and only ours.
import assert from 'node:assert/strict';
import { chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getCodec } from '../../shared/codec/index.js';
import { ArchivePlacement, type PlaceTarget } from '../../agent/repair/archive-placer.js';
import { dropLinkTemp, linkTempName } from '../../agent/repair/namespace-link.js';
import { findPlaced, LEDGER_DIR, writeLedgerRecord } from '../../agent/repair/placement-ledger.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';
import { treeOf } from './repair-harness.js';

const codec = getCodec();
const data = Buffer.from('hello');
const entry = { name: 'obj.0.0', data, crc: codec.crc32c(data) };
const isCode = (code: string) => (e: Error & { code?: string }) => e.code === code;
const asRoot = process.getuid?.() === 0;

describe('repair: placement races and planted names', function () {
  this.timeout(60_000);
  let site: FakeSite;
  let disk: string;
  const target = (lfn: string, taskId: string, slot = 0): PlaceTarget => ({
    diskPath: disk, space: 'public', linkPath: `${site.localroot}${lfn}`, namespaceRoot: site.nsRoot, taskId, slot,
    version: { strpverText: '1700000000', filesizeText: '5' },
  });
  const tempOf = (taskId: string, slot = 0): string => {
    const found = treeOf(disk).filter((p) => p.endsWith(`/.ecguard-tmp-${taskId}-${slot}.part`));
    assert.equal(found.length, 1, `one temp file of ${taskId}`);
    return join(disk, found[0] as string);
  };
  beforeEach(() => {
    site = makeFakeSite({ disks: 1 });
    disk = site.disks[0]?.path as string;
  });
  afterEach(() => site.cleanup());

  it('a placement aborted after sealing never publishes, and leaves the next attempt of its (task, slot) alone', () => {
    const t = target('/data/race.dat', 'race');
    const first = ArchivePlacement.open(t);
    first.append(entry);
    first.seal();
    first.abort(); // e.g. the task was cancelled while this holder verified
    const second = ArchivePlacement.open(t); // the next attempt starts over on the same temp name
    second.append(entry);
    const temp = tempOf('race');
    const before = readFileSync(temp);
    assert.throws(() => first.publishSealed(), isCode('PLACEMENT_CLOSED'));
    assert.throws(() => lstatSync(t.linkPath), isCode('ENOENT'), 'no link made');
    assert.equal(findPlaced(disk, 'race', 0), undefined, 'no ledger record');
    assert.ok(readFileSync(temp).equals(before), "the next attempt's partial is untouched");
    first.abort(); // harmless again
    assert.ok(readFileSync(temp).equals(before));
    const placed = second.commit();
    assert.equal(readlinkSync(t.linkPath), placed.path);
  });

  it('a link taken over from a corrupt archive is re-checked right before the swap: recreated meanwhile, it stays', () => {
    const other = join(site.root, 'disk', 'sdb');
    mkdirSync(join(other, 'public', '00'), { recursive: true });
    const rotten = join(other, 'public', '00', 'rotten%');
    writeFileSync(rotten, 'x');
    let stillCorrupt = true;
    const t: PlaceTarget = { ...target('/data/rot.dat', 'rot'), replaceLinkInto: other, replaceLinkOnlyIf: () => stillCorrupt };
    mkdirSync(dirname(t.linkPath), { recursive: true });
    symlinkSync(rotten, t.linkPath);
    const p = ArchivePlacement.open(t); // the link may be taken over: checked at open
    p.append(entry);
    stillCorrupt = false; // e.g. the file was deleted and written again meanwhile
    const placed = p.commit();
    assert.equal(placed.linked, false);
    assert.equal(readlinkSync(t.linkPath), rotten, 'the link is left as it is');
    // and when it still holds at the swap, the link moves
    const t2: PlaceTarget = { ...t, taskId: 'rot2', replaceLinkOnlyIf: () => true };
    const p2 = ArchivePlacement.open(t2);
    p2.append(entry);
    const placed2 = p2.commit();
    assert.equal(placed2.linked, true);
    assert.equal(readlinkSync(t.linkPath), placed2.path);
  });

  it('a sealed placement whose temp name now holds another file refuses to publish it', () => {
    const t = target('/data/swapped.dat', 'swapped');
    const p = ArchivePlacement.open(t);
    p.append(entry);
    p.seal();
    const temp = tempOf('swapped');
    const other = join(dirname(temp), 'other');
    writeFileSync(other, 'not what was sealed');
    renameSync(other, temp);
    assert.throws(() => p.publishSealed(), isCode('PLACEMENT_LOST'));
    assert.throws(() => lstatSync(t.linkPath), isCode('ENOENT'));
    assert.equal(readFileSync(temp, 'utf8'), 'not what was sealed', 'not removed either: it is not ours');
  });

  it("the ledger's temp name is never followed: a planted symlink there truncates nothing", () => {
    const ledger = join(disk, LEDGER_DIR);
    mkdirSync(ledger, { recursive: true, mode: 0o700 }); // the agent's own (it refuses any other)
    const victim = join(disk, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(ledger, '.T.0.tmp'));
    writeLedgerRecord(disk, 'T', 0, 'public/01/y%');
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.ok(readdirSync(ledger).some((n) => n.startsWith('T')), 'the record was written');
  });

  it('the ledger directory stays the agent\'s own, not the disk owner\'s', function () {
    if (!asRoot) this.skip();
    chownSync(disk, 4242, 4343);
    writeLedgerRecord(disk, 'T', 1, 'public/01/z%');
    assert.equal(statSync(join(disk, LEDGER_DIR)).uid, 0);
  });

  it('dropLinkTemp removes a swap link a crash left for this target, and nothing else', () => {
    const linkPath = `${site.localroot}/data/swap.dat`;
    mkdirSync(dirname(linkPath), { recursive: true });
    const targetPath = join(disk, 'public', '0A', 'FILE%');
    const tmp = linkTempName(linkPath, targetPath);
    symlinkSync(targetPath, tmp);
    dropLinkTemp(linkPath, targetPath);
    assert.throws(() => lstatSync(tmp), isCode('ENOENT'));
    symlinkSync('/somewhere/else', tmp); // same name, not ours
    dropLinkTemp(linkPath, targetPath);
    assert.ok(lstatSync(tmp).isSymbolicLink());
  });
});
