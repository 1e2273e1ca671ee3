// A damaged archive the scrub found is reported unreadable from then on, so the coordinator
// stops counting it and plans its rebuild: a delta at once, kept through full scans and agent
// restarts (a scan reads no entry data and would call it fine), dropped once the file is
// rewritten. The disk is downgraded, and nothing on it is changed.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Delta } from '../../../shared/domain/delta.js';
import { reactToScrubFinding } from '../../../agent/scrub/scrub-reaction.js';
import { runScrubPass, type LocalScrubFinding } from '../../../agent/scrub/scrub-pass.js';
import { getCodec } from '../../../shared/codec/index.js';
import { archiveRecordFromWire, archiveRecordToWire } from '../../../shared/wire/archive-record-wire.js';
import { useRuntimeFixture } from '../../helpers/runtime-fixture.js';
import { makeArchiveTemplate, writeArchive } from '../../helpers/archive-factory.js';
import { readZipDirectoryFile } from '../../../shared/xrdec/archive-io.js';
import { treeSnapshot } from '../../helpers/tree-snapshot.js';

describe('agent: a scrub finding marks the archive unreadable', () => {
  const fx = useRuntimeFixture();
  const big = makeArchiveTemplate(20_000);

  it('reported at once and through full scans and restarts; forgotten when the file is rewritten; the disk downgraded', async () => {
    const bad = fx.storeIn(0x11, '/data/c/bad');
    fx.storeIn(0x12, '/data/c/good');
    // a template archive may hold an empty stripe (past the end of a short object): write one
    // of several blocks, and flip a bit inside its first entry's data
    writeArchive(bad, big);
    const e = (await readZipDirectoryFile(bad)).entries[0];
    assert.ok(e && e.size > 0);
    const b = readFileSync(bad);
    const at = e.lfhOffset + 30 + b.readUInt16LE(e.lfhOffset + 26) + b.readUInt16LE(e.lfhOffset + 28);
    b[at] = (b[at] as number) ^ 0x40;
    writeFileSync(bad, b);
    const disk = fx.site.disks[0];
    assert.ok(disk);
    const dataPath = bad.slice(disk.path.length + 1);
    const r = fx.runtime();
    await r.start();
    assert.equal(r.inventory.get(disk.diskId, dataPath)?.parseStatus, 'ok', 'premise: the scan sees nothing wrong');

    const deltas: Delta[] = [];
    r.on('deltas', (d: Delta[]) => deltas.push(...d));
    const sent: LocalScrubFinding[] = [];
    const findings: LocalScrubFinding[] = [];
    const pass = await runScrubPass({ disks: () => fx.site.disks, exports: ['/data'], ...(fx.site.localroot ? { localroot: fx.site.localroot } : {}), codec: getCodec(), onFinding: (f) => void findings.push(f) });
    assert.equal(findings.length, 1, JSON.stringify(pass));
    const before = treeSnapshot(fx.site.root);
    reactToScrubFinding({ sendScrubFinding: (f) => void sent.push(f), archiveCorrupt: (...a) => r.archiveCorrupt(...a), downgradeDisk: (...a) => r.downgradeDisk(...a) }, findings[0] as LocalScrubFinding);
    assert.equal(sent.length, 1);
    const d = deltas.find((x) => x.kind === 'upsert' && x.record.dataPath === dataPath);
    assert.equal(d?.kind === 'upsert' ? d.record.parseStatus : undefined, 'unreadable');
    assert.match(d?.kind === 'upsert' ? (d.record.parseError ?? '') : '', /^scrub: 1 corrupt or unreadable stripe entry \(obj\./);
    // the coordinator takes it as it takes a scanned archive it cannot parse
    assert.ok(d?.kind === 'upsert');
    const back = archiveRecordFromWire(archiveRecordToWire(d.record), fx.site.serverId);
    assert.ok(back.ok, back.ok ? '' : back.reason);
    assert.equal(back.value.strpver, big.strpver, 'its version still known');
    assert.equal(back.value.lfn, '/data/c/bad');
    assert.equal(r.diskHealth().find((h) => h.diskId === disk.diskId)?.state, 'downgraded');
    assert.equal(r.diskHealth().find((h) => h.diskId === fx.site.disks[1]?.diskId)?.state, 'online');
    assert.equal(treeSnapshot(fx.site.root), before, 'nothing on the disk changed');

    await r.fullScan('test');
    assert.equal(r.inventory.get(disk.diskId, dataPath)?.parseStatus, 'unreadable', 'a full scan keeps it');
    await r.stop();

    const again = fx.runtime();
    await again.start();
    assert.equal(again.inventory.get(disk.diskId, dataPath)?.parseStatus, 'unreadable', 'a restart keeps it');
    assert.equal(again.diskHealth().find((h) => h.diskId === disk.diskId)?.state, 'downgraded', 'and the downgrade');

    // rewritten (as a repair by copy would): a new file, judged by the next scrub
    const t = statSync(bad).mtimeMs;
    writeFileSync(bad, big.bytes);
    assert.notEqual(statSync(bad).mtimeMs, t);
    await again.fullScan('test');
    assert.equal(again.inventory.get(disk.diskId, dataPath)?.parseStatus, 'ok');
  });
});
