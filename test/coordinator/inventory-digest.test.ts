// Digest resync's digests (shared/domain/inventory-digest.ts): order-free, sensitive to every
// field, equal on both sides of the wire, and refused when malformed.
import assert from 'node:assert/strict';
import { BucketDigests, bucketOf, DIGEST_BUCKETS, recordDigest } from '../../shared/domain/inventory-digest.js';
import { archiveRecordFromWire, archiveRecordToWire } from '../../shared/wire/archive-record-wire.js';
import { badDigests } from '../../coordinator/session/digest-resync.js';
import { archive, fullArchive } from './catalog/catalog-fixtures.js';

describe('inventory digests', () => {
  const records = [archive('srv01', 0, '/a'), archive('srv01', 1, '/b'), fullArchive('srv01', 0, '/c'), archive('srv01', 0, '/d', { nblocks: 3, stripeMap: { 2: [0, 1], 0: [3] }, regular: false })];

  it('do not depend on order; a changed field moves exactly its own bucket', () => {
    const a = new BucketDigests();
    const b = new BucketDigests();
    for (const r of records) a.add(r);
    for (const r of [...records].reverse()) b.add(r);
    assert.deepEqual(b.differing(a.counts, a.sums), []);
    for (const patch of [{ mtimeMs: 1 }, { size: 7 }, { lfn: '/other' }, { parseStatus: 'truncated' as const }, { cdDigest: 'x' }, { nsPath: undefined }]) {
      const c = new BucketDigests();
      for (const r of records) c.add(r.lfn === '/a' ? { ...r, ...patch } : r);
      assert.deepEqual(c.differing(a.counts, a.sums), [bucketOf(records[0]!.diskId, records[0]!.dataPath)], JSON.stringify(patch));
    }
    const missing = new BucketDigests();
    for (const r of records.slice(1)) missing.add(r);
    assert.deepEqual(missing.differing(a.counts, a.sums), [bucketOf(records[0]!.diskId, records[0]!.dataPath)], 'a missing archive');
  });

  it('a record digests the same after the wire, so an agent and its catalog agree', () => {
    const damaged = archive('srv01', 1, '/e', { parseStatus: 'truncated', parseError: 'EIO: short read', nblocks: 0, nentries: 0, crcKind: undefined, xattrNamespace: 'user.' });
    for (const r of [...records.filter((x) => x.lfn !== '/c'), damaged]) {
      const back = archiveRecordFromWire(archiveRecordToWire(r), 'srv01');
      assert.ok(back.ok, back.ok ? '' : back.reason);
      if (back.ok) assert.equal(recordDigest(back.value), recordDigest(r));
    }
    // the server id is the session's, not part of the content
    assert.equal(recordDigest({ ...records[0]!, serverId: 'other' }), recordDigest(records[0]!));
  });

  it('buckets spread and stay in range; sums stay below 2^48', () => {
    const seen = new Set<number>();
    const d = new BucketDigests(64);
    for (let i = 0; i < 2000; i++) {
      const r = archive('srv01', 0, `/f${i}`);
      seen.add(bucketOf(r.diskId, r.dataPath, 64));
      d.add(r);
    }
    assert.equal(seen.size, 64);
    assert.ok(d.sums.every((x) => x >= 0 && x < 2 ** 48 && Number.isSafeInteger(x)));
    assert.equal(d.counts.reduce((a, b) => a + b, 0), 2000);
  });

  it('malformed digests from an agent are refused with what is wrong', () => {
    const ok = { asOfSeq: 1, counts: new Array<number>(DIGEST_BUCKETS).fill(0), sums: new Array<number>(DIGEST_BUCKETS).fill(0) };
    assert.equal(badDigests(ok, DIGEST_BUCKETS), undefined);
    assert.match(badDigests({ ...ok, counts: [1] }, DIGEST_BUCKETS) ?? '', /for 1\/4096 buckets where 4096/);
    assert.match(badDigests({ ...ok, sums: ok.sums.map((_, i) => (i === 3 ? 2 ** 49 : 0)) }, DIGEST_BUCKETS) ?? '', /out of range/);
  });
});
