// Reads N good stripes of one block: every entry is CRC-checked, and a bad or unreadable one is
// an erasure (as in the XrdEc reader) — the next source holding that stripe is tried, then
// further stripes. Reads the minimum: data stripes first, only as many as are still needed.
import type { CrcKind, ErasureCodec } from '../../codec/codec.js';
import { errorText } from '../../errors.js';
import { crcMatches, matchCrc } from '../archive-summary.js';
import type { BadEntry, BlockCandidates, Candidate } from './stripe-index.js';

export interface GoodStripes {
  /** stripe → its stored bytes (CRC verified). */
  readonly good: Map<number, Buffer>;
  readonly bad: BadEntry[];
}

/** How one candidate's bytes are fetched (default: its source's readEntry). */
export type CandidateReader = (c: Candidate) => Promise<Buffer>;

const readDirect: CandidateReader = (c) => c.source.source.readEntry(c.entry);

/** What readGoodStripes asks for first when nothing fails: the `need` lowest stripes, each from its first holder. */
export function firstPicks(c: BlockCandidates, need: number): Candidate[] {
  return [...c.byStripe.keys()].sort((a, b) => a - b).slice(0, need).map((s) => (c.byStripe.get(s) as readonly Candidate[])[0] as Candidate);
}

export async function readGoodStripes(c: BlockCandidates, need: number, kind: CrcKind | undefined, codec: ErasureCodec, read: CandidateReader = readDirect): Promise<GoodStripes> {
  const good = new Map<number, Buffer>();
  const bad: BadEntry[] = [];
  const order = [...c.byStripe.keys()].sort((a, b) => a - b);
  let next = 0;
  while (good.size < need && next < order.length) {
    // Reads for distinct stripes run in parallel (a remote source's latency, not its bandwidth, dominates).
    const batch = order.slice(next, next + need - good.size);
    next += batch.length;
    const got = await Promise.all(batch.map((s) => readOneStripe(c.byStripe.get(s) ?? [], kind, codec, bad, read)));
    got.forEach((data, i) => {
      if (data) good.set(batch[i] as number, data);
    });
  }
  return { good, bad };
}

async function readOneStripe(candidates: readonly Candidate[], kind: CrcKind | undefined, codec: ErasureCodec, bad: BadEntry[], read: CandidateReader): Promise<Buffer | undefined> {
  for (const cand of candidates) {
    const { source, entry } = cand;
    const at = { source: source.source.id, entry: entry.name, block: entry.stripe?.block ?? 0, stripe: entry.stripe?.stripe ?? 0 };
    let data: Buffer;
    try {
      data = await read(cand);
    } catch (err) {
      bad.push({ ...at, kind: 'unreadable', reason: `unreadable: ${errorText(err)}` });
      continue;
    }
    if (data.length !== entry.size) {
      bad.push({ ...at, kind: 'short-read', reason: `read ${data.length} bytes, the directory says ${entry.size}` });
      continue;
    }
    if (!entryCrcOk(codec, kind, data, entry.crc)) {
      const found = foundCrc(codec, kind, data);
      bad.push({ ...at, kind: 'crc-mismatch', expectedCrc: entry.crc >>> 0, ...(found !== undefined ? { foundCrc: found } : {}), reason: `CRC mismatch (${kind ?? 'neither crc32c nor crc32'})` });
      continue;
    }
    return data;
  }
  return undefined;
}

/** The CRC the bytes have under `kind` (none when the kind is unknown: which one would it be?). */
function foundCrc(codec: ErasureCodec, kind: CrcKind | undefined, data: Uint8Array): number | undefined {
  if (kind === undefined) return undefined;
  return (kind === 'crc32c' ? codec.crc32c(data) : codec.crc32(data)) >>> 0;
}

/** With the kind unknown (an empty object has no entry to decide it), either CRC will do. */
export function entryCrcOk(codec: ErasureCodec, kind: CrcKind | undefined, data: Uint8Array, stored: number): boolean {
  if (kind !== undefined) return crcMatches(codec, kind, data, stored);
  return matchCrc(codec, data, stored) !== 'neither';
}
