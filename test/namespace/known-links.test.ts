// keepKnownLinks: which records get their last known namespace fields back, and in what form.
import assert from 'node:assert/strict';
import { keepKnownLinks } from '../../agent/namespace/known-links.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';

const base: ArchiveRecord = {
  serverId: 's', diskId: 's:/d1', space: 'public', dataPath: 'public/00/A%', pfn: '/ns/data/f', lfn: '/data/f',
  size: 10, mtimeMs: 1, inode: 7, nblocks: 1, nentries: 1, regular: true, parseStatus: 'ok',
};
const before: ArchiveRecord = { ...base, nsPath: '/ns/data/moved/f', lfn: '/data/moved/f' };

describe('namespace: last known links where the namespace could not be read', () => {
  const prev = (d: string, p: string): ArchiveRecord | undefined => (d === base.diskId && p === base.dataPath ? before : undefined);

  it('an unchanged file below a blind path gets its previous record back, as it was', () => {
    const [r] = keepKnownLinks([base], ['/ns/data'], prev);
    assert.equal(r, before);
  });

  it('a changed file keeps its new data with the previous link', () => {
    const [r] = keepKnownLinks([{ ...base, size: 11 }], ['/ns/data/moved'], prev);
    assert.deepEqual(r, { ...base, size: 11, nsPath: before.nsPath, lfn: before.lfn });
  });

  it('nothing blind, a link below another root, a link found, or no previous link: the record as scanned', () => {
    assert.deepEqual(keepKnownLinks([base], [], prev), [base]);
    assert.deepEqual(keepKnownLinks([base], ['/ns/other'], prev), [base]);
    const found = { ...base, nsPath: '/ns/data/f' };
    assert.deepEqual(keepKnownLinks([found], ['/ns/data'], prev), [found]);
    assert.deepEqual(keepKnownLinks([base], ['/ns/data'], () => base), [base]);
    assert.deepEqual(keepKnownLinks([base], ['/ns/data'], () => undefined), [base]);
  });
});
