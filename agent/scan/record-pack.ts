// Bucket results cross from a scan worker to the main thread in a compact form: records of the
// usual shape (a clean archive, see record-builder.ts) as one Float64Array of numbers plus one
// string of their texts, instead of one cloned object each (structured clone writes every key
// of every object; it cost more than building the records). The main thread rebuilds the very
// same objects, keys in the same order; records of any other shape travel as they are.
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import type { BucketResult, BucketTask } from './bucket-scan.js';

export interface PackedBucketResult {
  readonly task: BucketTask;
  readonly findings: Finding[];
  readonly entries: number;
  readonly error?: string;
  readonly serverId: string;
  /** Per record STRIDE numbers: shape code (0: the next of `others`), then the numeric fields. */
  readonly nums: Float64Array;
  /** dataPath, pfn, lfn, cdDigest of each usual record, concatenated (lengths are in nums). */
  readonly text: string;
  /** Records not of the usual shape, in order. */
  readonly others: ArchiveRecord[];
}

export type WorkerReply = { ok: true; result: PackedBucketResult } | { ok: false; task: BucketTask; error: string };

const STRIDE = 12;
const NAMESPACES = ['user.U.', 'user.'] as const;
const CRC_KINDS = [undefined, 'crc32c', 'crc32'] as const;

/** Shape code 1 + ns + 2 * crc for a record of the usual shape; 0 for any other. */
function shapeCode(r: ArchiveRecord, serverId: string, task: BucketTask): number {
  if (r.serverId !== serverId || r.diskId !== task.diskId || r.space !== task.space) return 0;
  if (r.pfn === undefined || r.lfn === undefined || r.strpver === undefined || r.filesize === undefined || r.cdDigest === undefined) return 0;
  if (r.parseStatus !== 'ok' || r.regular !== true || r.stripeMap !== undefined || r.parseError !== undefined || r.nsPath !== undefined) return 0;
  const ns = NAMESPACES.indexOf(r.xattrNamespace as (typeof NAMESPACES)[number]);
  const crc = CRC_KINDS.indexOf(r.crcKind);
  return ns < 0 || crc < 0 ? 0 : 1 + ns + 2 * crc;
}

export function packBucketResult(r: BucketResult): PackedBucketResult {
  const serverId = r.records[0]?.serverId ?? '';
  const nums = new Float64Array(r.records.length * STRIDE);
  const texts: string[] = [];
  const others: ArchiveRecord[] = [];
  let o = 0;
  for (const rec of r.records) {
    const code = shapeCode(rec, serverId, r.task);
    nums[o] = code;
    if (code === 0) others.push(rec);
    else {
      const { dataPath, pfn = '', lfn = '', cdDigest = '' } = rec;
      nums[o + 1] = rec.size;
      nums[o + 2] = rec.mtimeMs;
      nums[o + 3] = rec.inode;
      nums[o + 4] = rec.strpver ?? 0;
      nums[o + 5] = rec.filesize ?? 0;
      nums[o + 6] = rec.nblocks;
      nums[o + 7] = rec.nentries;
      nums[o + 8] = dataPath.length;
      nums[o + 9] = pfn.length;
      nums[o + 10] = lfn.length;
      nums[o + 11] = cdDigest.length;
      texts.push(dataPath, pfn, lfn, cdDigest);
    }
    o += STRIDE;
  }
  const { task, findings, entries, error } = r;
  return { task, findings, entries, ...(error !== undefined ? { error } : {}), serverId, nums, text: texts.join(''), others };
}

export function unpackBucketResult(p: PackedBucketResult): BucketResult {
  const { serverId, nums, text } = p;
  const { diskId, space } = p.task;
  const count = nums.length / STRIDE;
  const records: ArchiveRecord[] = new Array(count);
  let other = 0;
  let at = 0;
  for (let i = 0, o = 0; i < count; i++, o += STRIDE) {
    const code = nums[o] as number;
    if (code === 0) {
      records[i] = p.others[other++] as ArchiveRecord;
      continue;
    }
    const dataPath = text.slice(at, (at += nums[o + 8] as number));
    const pfn = text.slice(at, (at += nums[o + 9] as number));
    const lfn = text.slice(at, (at += nums[o + 10] as number));
    const cdDigest = text.slice(at, (at += nums[o + 11] as number));
    const size = nums[o + 1] as number;
    const mtimeMs = nums[o + 2] as number;
    const inode = nums[o + 3] as number;
    const strpver = nums[o + 4] as number;
    const filesize = nums[o + 5] as number;
    const nblocks = nums[o + 6] as number;
    const nentries = nums[o + 7] as number;
    const xattrNamespace = NAMESPACES[(code - 1) % 2] as (typeof NAMESPACES)[number];
    const crcKind = CRC_KINDS[Math.floor((code - 1) / 2)];
    // The key order of record-builder.ts.
    records[i] = crcKind !== undefined
      ? { serverId, diskId, space, dataPath, pfn, lfn, size, mtimeMs, inode, strpver, filesize, xattrNamespace, nblocks, nentries, crcKind, regular: true, parseStatus: 'ok', cdDigest }
      : { serverId, diskId, space, dataPath, pfn, lfn, size, mtimeMs, inode, strpver, filesize, xattrNamespace, nblocks, nentries, regular: true, parseStatus: 'ok', cdDigest };
  }
  const { task, findings, entries, error } = p;
  return error !== undefined ? { task, records, findings, entries, error } : { task, records, findings, entries };
}
