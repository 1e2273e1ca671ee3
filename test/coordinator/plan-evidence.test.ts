// Every (re)plan takes its catalog evidence from one place: the file's archives, what earlier
// repairs replaced, and its .mt files (only real .mt records: a damaged look-alike is not one).
import assert from 'node:assert/strict';
import type { ArchiveRow, ReplacedArchive } from '../../coordinator/catalog/catalog-types.js';
import { evidenceFor, loadPlanEvidence } from '../../coordinator/repair/plan-evidence.js';
import { archive } from './catalog/catalog-fixtures.js';

const row = (s: string, lfn: string, o: Partial<ArchiveRow> = {}): ArchiveRow => ({ ...archive(s, 0, lfn), serverId: s, ...o });

describe('repair: plan evidence', () => {
  it('gives each file its archives, replaced archives and real .mt records', async () => {
    const mt = row('s1', '/d/f.mt', { strpver: undefined, filesize: undefined, parseStatus: 'not-ec', parseError: 'XrdEc metadata (.mt) of /d/f: 6 members' });
    const fake = row('s2', '/d/f.mt', { strpver: undefined, parseStatus: 'not-ec', parseError: 'NOT_XRDEC_ENTRY: entry name "a"' });
    const rows = new Map<string, ArchiveRow[]>([['/d/f', [row('s0', '/d/f')]], ['/d/f.mt', [mt, fake]]]);
    const asked: string[][] = [];
    const store = {
      archivesOf: async (lfns: readonly string[]) => (asked.push([...lfns]), new Map(lfns.filter((l) => rows.has(l)).map((l) => [l, rows.get(l) as ArchiveRow[]]))),
      replacedFor: async () => new Map<string, ReplacedArchive[]>([['/d/f', [{ lfn: '/d/f', serverId: 's9', diskId: 's9:/d', dataPath: 'p/0A/x%', strpver: 1, taskId: 't1', at: 0 }]]]),
    };
    const e = await loadPlanEvidence(store, ['/d/f', '/d/g']);
    assert.deepEqual(asked, [['/d/f', '/d/g'], ['/d/f.mt', '/d/g.mt']]);
    const f = evidenceFor(e, '/d/f');
    assert.equal(f.archives.length, 1);
    assert.deepEqual(f.metadata?.map((a) => a.serverId), ['s1'], 'the look-alike is not a .mt file');
    assert.deepEqual([...(f.replaced ?? new Map()).values()], ['t1']);
    assert.deepEqual(evidenceFor(e, '/d/g'), { archives: [], metadata: [] });
  });
});
