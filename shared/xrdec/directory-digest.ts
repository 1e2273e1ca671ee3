// The digest of an archive's central directory + end records (ArchiveRecord.cdDigest): CRC32C
// and CRC32 of those bytes, 16 hex digits. A `.mt` member is those bytes too (XRDEC-FORMAT.md §E),
// so a member and the archive it describes have the same digest.
import type { ErasureCodec } from '../codec/codec.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function directoryDigest(codec: ErasureCodec, bytes: Uint8Array): string {
  const c = codec.crc32c(bytes);
  const z = codec.crc32(bytes);
  // toString(16).padStart(8, '0') of each, by table (4x cheaper); CRCs are uint32.
  if (c >>> 0 !== c || z >>> 0 !== z) return c.toString(16).padStart(8, '0') + z.toString(16).padStart(8, '0');
  return hex8(c) + hex8(z);
}

function hex8(v: number): string {
  return (HEX[v >>> 24] as string) + (HEX[(v >>> 16) & 255] as string) + (HEX[(v >>> 8) & 255] as string) + (HEX[v & 255] as string);
}
