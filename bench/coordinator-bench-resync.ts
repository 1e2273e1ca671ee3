// Digest resync vs full inventory (DESIGN.md §4, §9: restarts cost minutes of digests, not hours
// of re-inventory), coordinator side, in the same run on the same catalog: one server's archives
// sent again in full, beside a digest resync of the same server with 0.1% of its archives
// changed (the agent's digests, the catalog's, the differing buckets re-sent and swept). Each
// record sent goes through the wire conversion both ways (protobuf encode, decode, validation);
// the agent's snapshot read and the network are left out of both.
import type { CatalogStore } from '../coordinator/catalog/catalog-store.js';
import { archivesInBuckets, catalogDigests } from '../coordinator/session/digest-resync.js';
import { BucketDigests, bucketOf, DIGEST_BUCKETS } from '../shared/domain/inventory-digest.js';
import type { ArchiveRecord } from '../shared/domain/archive-record.js';
import type { CoordinatorBenchRow } from './coordinator-bench-row.js';
import { ArchiveRecord as WireRecord } from '../proto/gen/ecguard/v1/types.js';
import { archiveRecordFromWire, archiveRecordToWire } from '../shared/wire/archive-record-wire.js';

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** A record as the coordinator receives it: encoded by the agent, decoded and validated. */
function overTheWire(r: ArchiveRecord, serverId: string): ArchiveRecord {
  const back = archiveRecordFromWire(WireRecord.decode(WireRecord.encode(archiveRecordToWire(r)).finish()), serverId);
  if (!back.ok) throw new Error(back.reason);
  return back.value;
}

const sendAll = (list: readonly ArchiveRecord[], serverId: string): ArchiveRecord[] => list.map((r) => overTheWire(r, serverId));

export async function runResyncBench(store: CatalogStore, serverId: string, disks: readonly string[], records: () => Iterable<ArchiveRecord>): Promise<CoordinatorBenchRow[]> {
  const all = [...records()];
  // full inventory again
  let t0 = now();
  await store.beginInventory(serverId, disks);
  for (let i = 0; i < all.length; i += 10_000) await store.inventoryBatch(serverId, sendAll(all.slice(i, i + 10_000), serverId));
  await store.endInventory(serverId, 1);
  const tFull = now() - t0;

  // 0.1% changed while away: every 1000th archive has a new mtime
  const agent = all.map((r, i) => (i % 1000 === 0 ? { ...r, mtimeMs: r.mtimeMs + 1 } : r));
  const changed = Math.ceil(all.length / 1000);
  t0 = now();
  const theirs = new BucketDigests();
  for (const r of agent) theirs.add(r);
  const tAgent = now() - t0;
  t0 = now();
  const mine = await catalogDigests(store, serverId, disks, DIGEST_BUCKETS);
  const wanted = new Set(mine.differing(theirs.counts, theirs.sums));
  await store.beginInventory(serverId, disks);
  const keys = await archivesInBuckets(store, serverId, disks, wanted, DIGEST_BUCKETS);
  const resend = agent.filter((r) => wanted.has(bucketOf(r.diskId, r.dataPath)));
  for (let i = 0; i < resend.length; i += 10_000) await store.inventoryBatch(serverId, sendAll(resend.slice(i, i + 10_000), serverId));
  await store.endInventory(serverId, 2, keys);
  const tDigest = now() - t0;
  return [
    { name: 'resync baseline: one server\'s full inventory again', records: all.length, seconds: tFull, perSecond: all.length / tFull, note: 'every record encoded, decoded and validated as on the wire, then stored' },
    {
      name: 'digest resync of the same server, 0.1% changed', records: all.length, seconds: tAgent + tDigest, perSecond: all.length / (tAgent + tDigest),
      note: `${((tAgent + tDigest) / tFull).toFixed(2)}× the full inventory's time; agent digests ${tAgent.toFixed(2)} s, coordinator ${tDigest.toFixed(2)} s; ${changed} changed, ${wanted.size} of ${DIGEST_BUCKETS} buckets and ${resend.length} records re-sent`,
    },
  ];
}
