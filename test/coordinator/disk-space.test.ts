// Room per disk from heartbeats: only the reporting server's own disks, sane values, a reserve.
import assert from 'node:assert/strict';
import { DiskSpaceBook } from '../../coordinator/disk-space.js';

describe('disk space book', () => {
  const owner = (d: string): string | undefined => (d.startsWith('a:') ? 'a' : d.startsWith('b:') ? 'b' : undefined);

  it('keeps a server\'s reports of its own disks only, and drops impossible values', () => {
    const book = new DiskSpaceBook(0.02);
    book.note('a', [
      { diskId: 'a:/d0', freeBytes: 500, totalBytes: 1000 },
      { diskId: 'b:/d0', freeBytes: 1, totalBytes: 1000 }, // not a's disk
      { diskId: 'a:/d1', freeBytes: 2000, totalBytes: 1000 }, // more free than total
      { diskId: 'a:/d2', freeBytes: -1, totalBytes: 1000 },
    ], owner, 42);
    assert.deepEqual(book.get('a:/d0'), { diskId: 'a:/d0', freeBytes: 500, totalBytes: 1000, at: 42 });
    assert.equal(book.get('b:/d0'), undefined);
    assert.equal(book.get('a:/d1'), undefined);
    assert.equal(book.get('a:/d2'), undefined);
  });

  it('room: free minus what is planned there minus the need must stay above the reserve; unknown disks have room', () => {
    const book = new DiskSpaceBook(0.1);
    book.note('a', [{ diskId: 'a:/d0', freeBytes: 500, totalBytes: 1000 }], owner);
    assert.ok(book.hasRoom('a:/d0', 400)); // 500 - 400 = 100 ≥ 100
    assert.ok(!book.hasRoom('a:/d0', 401));
    assert.ok(!book.hasRoom('a:/d0', 300, 150), 'bytes already planned there count');
    assert.ok(book.hasRoom('a:/unknown', 1e15));
  });
});
