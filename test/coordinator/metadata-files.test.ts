// Which catalog archives are an object's `.mt` file: the health engine skips such LFNs.
import assert from 'node:assert/strict';
import type { ArchiveRow } from '../../coordinator/catalog/catalog-types.js';
import { isMetadataOnly, isMetadataRecord, metadataLfnOf } from '../../coordinator/health/metadata-files.js';
import { METADATA_NOTE } from '../../shared/xrdec/mt-file.js';
import { archive } from './catalog/catalog-fixtures.js';

describe('.mt metadata records in the catalog', () => {
  const mt = (server: string): ArchiveRow => {
    const { strpver: _s, filesize: _f, crcKind: _c, ...rest } = archive(server, 0, '/data/x.mt', { nblocks: 0, nentries: 0 });
    return { ...rest, parseStatus: 'not-ec', parseError: `${METADATA_NOTE} of /data/x: 6 members` };
  };

  it('an LFN whose every archive is a .mt record is metadata; anything else is a file', () => {
    assert.equal(metadataLfnOf('/data/x'), '/data/x.mt');
    assert.ok(isMetadataOnly('/data/x.mt', [mt('s0'), mt('s1')]));
    assert.ok(!isMetadataOnly('/data/x.mt', []), 'no archives: nothing to say');
    assert.ok(!isMetadataOnly('/data/x', [mt('s0')]), 'the name must end in .mt');
    const notEc: ArchiveRow = { ...mt('s2'), parseError: 'NOT_XRDEC_ENTRY: entry name "a"' };
    assert.ok(!isMetadataRecord(notEc));
    assert.ok(!isMetadataOnly('/data/x.mt', [mt('s0'), notEc]), 'a damaged look-alike beside it is still a file to report');
    assert.ok(!isMetadataRecord({ ...mt('s0'), strpver: 1700000000 }), 'XrdEc sets no strpver on .mt files');
  });
});
