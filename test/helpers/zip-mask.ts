// Zeroes the DOS time/date fields of every local and central header (and, for `.mt` files, of
// the central headers inside each member), so archives can be compared byte for byte while
// XRDEC-FORMAT.md §D lets the timestamps differ.
import { runOnBytes } from '../../shared/xrdec/archive-io.js';
import { parseZipDirectory } from '../../shared/xrdec/zip-directory.js';

export function maskDosTimes(bytes: Buffer, names: 'xrdec' | 'any' = 'xrdec'): Buffer {
  const out = Buffer.from(bytes);
  if (out.length === 0) return out;
  const dir = runOnBytes(parseZipDirectory(out.length, { names }), out);
  for (const e of dir.entries) {
    out.fill(0, e.lfhOffset + 10, e.lfhOffset + 14);
    out.fill(0, e.recordOffset + 12, e.recordOffset + 16);
    if (names === 'any') {
      // An .mt member is an archive's CD + EOCD: mask the central headers inside it too, and the
      // member's CRC, which covers those timestamps (tests check member CRCs separately).
      out.fill(0, e.lfhOffset + 14, e.lfhOffset + 18);
      out.fill(0, e.recordOffset + 16, e.recordOffset + 20);
      const dataAt = e.lfhOffset + 30 + e.name.length;
      let p = dataAt;
      while (p + 46 <= dataAt + e.size && out.readUInt32LE(p) === 0x02014b50) {
        out.fill(0, p + 12, p + 16);
        p += 46 + out.readUInt16LE(p + 28) + out.readUInt16LE(p + 30) + out.readUInt16LE(p + 32);
      }
    }
  }
  return out;
}
