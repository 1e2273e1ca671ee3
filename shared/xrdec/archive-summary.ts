// What an archive's central directory says about the object: which stripes of which blocks it
// holds, whether it is "regular" (exactly one stripe per block), and the CRC kind.
import type { CrcKind, ErasureCodec } from '../codec/codec.js';
import type { ZipEntry } from './zip-directory.js';

export interface ArchiveSummary {
  /** Highest block number + 1 among entries (0 when there are none). */
  readonly nblocks: number;
  readonly nentries: number;
  /** Exactly one stripe for every block 0..nblocks-1 (what XrdEc writes with K = N+M). */
  readonly regular: boolean;
  /** block → stripes held, sorted; present for every block that has entries. */
  readonly stripesByBlock: ReadonlyMap<number, readonly number[]>;
}

export function summarizeEntries(entries: readonly ZipEntry[]): ArchiveSummary {
  const byBlock = new Map<number, number[]>();
  let nblocks = 0;
  for (const e of entries) {
    if (!e.stripe) continue;
    const list = byBlock.get(e.stripe.block) ?? [];
    list.push(e.stripe.stripe);
    byBlock.set(e.stripe.block, list);
    nblocks = Math.max(nblocks, e.stripe.block + 1);
  }
  for (const list of byBlock.values()) list.sort((a, b) => a - b);
  let regular = byBlock.size === nblocks;
  for (const list of byBlock.values()) if (list.length !== 1) regular = false;
  return { nblocks, nentries: entries.length, regular, stripesByBlock: byBlock };
}

export type CrcMatch = CrcKind | 'both' | 'neither' | 'empty';

/** Which CRC function the stored value matches for these bytes. */
export function matchCrc(codec: ErasureCodec, data: Uint8Array, stored: number): CrcMatch {
  if (data.length === 0) return stored === 0 ? 'empty' : 'neither';
  const c = codec.crc32c(data) === stored >>> 0;
  const z = codec.crc32(data) === stored >>> 0;
  if (c && z) return 'both';
  if (c) return 'crc32c';
  if (z) return 'crc32';
  return 'neither';
}

/** True when `data` matches `stored` under `kind` (zero-size entries carry CRC 0). */
export function crcMatches(codec: ErasureCodec, kind: CrcKind, data: Uint8Array, stored: number): boolean {
  if (data.length === 0) return stored === 0;
  return (kind === 'crc32c' ? codec.crc32c(data) : codec.crc32(data)) === stored >>> 0;
}
