// The agent's half of a digest resync (DESIGN.md §4): digest what the snapshot holds per hash
// bucket, send the digests, wait for the buckets the coordinator lacks, and send those records
// only, then InventoryDone naming them. Everything comes from one snapshot (one asOfSeq), as a
// full inventory does.
import type { AgentMessage } from '../../proto/gen/ecguard/v1/agent.js';
import { BucketDigests, bucketOf } from '../../shared/domain/inventory-digest.js';
import { archiveRecordToWire } from '../../shared/wire/archive-record-wire.js';
import type { InventorySnapshot } from './inventory-snapshot.js';

export interface DigestSyncIo {
  write(m: AgentMessage): Promise<void>;
  /** The coordinator's DigestRequest; undefined when the stream ended first. */
  request(): Promise<readonly number[] | undefined>;
  /** False once the stream was dropped: stop sending. */
  alive(): boolean;
}

/** True when the resync was sent through (InventoryDone written). */
export async function sendDigestResync(snap: InventorySnapshot, diskIds: readonly string[], buckets: number, io: DigestSyncIo, batch = 1000): Promise<{ done: boolean; sent: number }> {
  const disks = new Set(diskIds);
  const digests = new BucketDigests(buckets);
  // a few million records take a while: yield between batches so heartbeats go on
  for (const part of snap.batches(batch)) {
    for (const r of part) if (disks.has(r.diskId)) digests.add(r);
    await yieldTurn();
  }
  // asked for before writing: the answer may come before the write resolves
  const answer = io.request();
  await io.write({ msg: { $case: 'digests', value: { asOfSeq: snap.asOfSeq, counts: digests.counts, sums: digests.sums } } });
  const wanted = await answer;
  if (wanted === undefined || !io.alive()) return { done: false, sent: 0 };
  const want = new Set(wanted);
  let sent = 0;
  if (want.size > 0) {
    for (const part of snap.batches(batch)) {
      const mine = part.filter((r) => disks.has(r.diskId) && want.has(bucketOf(r.diskId, r.dataPath, buckets)));
      if (mine.length === 0) {
        await yieldTurn();
        continue;
      }
      if (!io.alive()) return { done: false, sent };
      await io.write({ msg: { $case: 'inventory', value: { records: mine.map(archiveRecordToWire) } } });
      sent += mine.length;
    }
  }
  if (!io.alive()) return { done: false, sent };
  await io.write({ msg: { $case: 'inventoryDone', value: { asOfSeq: snap.asOfSeq, diskIds: [...disks], buckets: [...wanted] } } });
  return { done: true, sent };
}

function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
