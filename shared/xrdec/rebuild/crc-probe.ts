// Decides the object's CRC kind from its sources: archives do not say which of CRC-32C and zip
// CRC-32 they use (XRDEC-FORMAT.md §D), so the first non-empty entry whose stored CRC matches
// exactly one of them decides. Rebuilt entries must carry the same kind as the survivors.
import type { CrcKind, ErasureCodec } from '../../codec/codec.js';
import { EcguardError } from '../../errors.js';
import { matchCrc } from '../archive-summary.js';
import type { StripeIndex } from './stripe-index.js';

/** Entries to try before giving up (each is one entry read; corrupt ones are skipped). */
const MAX_PROBES = 16;

/** undefined only when the object has no non-empty entry (the empty object: no CRC is ever written). */
export async function probeCrcKind(index: StripeIndex, codec: ErasureCodec): Promise<CrcKind | undefined> {
  let probes = 0;
  let nonEmpty = false;
  for (const c of index.walk()) {
    for (const list of c.byStripe.values()) {
      for (const { source, entry } of list) {
        if (entry.size === 0) continue;
        nonEmpty = true;
        if (++probes > MAX_PROBES) break;
        let m;
        try {
          m = matchCrc(codec, await source.source.readEntry(entry), entry.crc);
        } catch {
          continue;
        }
        if (m === 'crc32c' || m === 'crc32') return m;
      }
      if (probes > MAX_PROBES) break;
    }
    if (probes > MAX_PROBES) break;
  }
  if (!nonEmpty) return undefined;
  throw new EcguardError('CRC_KIND_UNKNOWN', `none of the first ${Math.min(probes, MAX_PROBES)} non-empty source entries matches either CRC-32C or CRC-32: the sources look corrupt; give the CRC kind from the catalog or other sources`);
}
