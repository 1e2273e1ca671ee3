// A rebuilt archive that must keep the lost archive's central directory byte for byte.
//
// An object written without `nomtfile` has a `.mt` file on every server whose member i is
// archive i's central directory + end records (XRDEC-FORMAT.md §E); a reader in that mode lays
// archive i out from member i. Rewriting the `.mt` members on every server after a repair would
// be a multi-server write with its own crash windows. Instead the rebuilt archive reproduces the
// member exactly: the same entries (which stripes, in which order), sizes, CRCs and each entry's
// DOS time. Then every `.mt` copy stays true as it is. keptDirectory() checks up front that our
// layout reproduces the member's bytes; the rebuild then checks every rebuilt stripe's CRC
// against the member's before it is written.
import { EcguardError } from '../../errors.js';
import { runOnBytes } from '../archive-io.js';
import { parseEntryName } from '../entry-name.js';
import { blockCount, stripeCount, stripeSize, type EcProfile } from '../profile.js';
import { EOCD_SIZE, SIG_EOCD, SIG_ZIP64_EOCD, U32_MAX, ZIP64_EOCD_SIZE, ZIP64_LOCATOR_SIZE } from '../zip-constants.js';
import { parseZipDirectory } from '../zip-directory.js';
import { archiveLayout, type DosTime } from '../zip-layout.js';

/** One entry of a kept directory, in directory order. */
export interface KeptEntry {
  readonly name: string;
  readonly block: number;
  readonly stripe: number;
  readonly size: number;
  readonly crc: number;
  readonly time: DosTime;
}

export class DirectoryMismatch extends EcguardError {
  constructor(message: string) {
    super('DIRECTORY_MISMATCH', message);
  }
}

/** Where the central directory starts in the archive a member describes (from its end records). */
function cdOffsetOf(member: Buffer): number {
  const eocd = member.length - EOCD_SIZE;
  if (eocd < 0 || member.readUInt32LE(eocd) !== SIG_EOCD) throw new DirectoryMismatch('the .mt member does not end with an end-of-central-directory record (XrdEc writes no zip comment)');
  const off = member.readUInt32LE(eocd + 16);
  if (off !== U32_MAX) return off;
  const z = eocd - ZIP64_LOCATOR_SIZE - ZIP64_EOCD_SIZE;
  if (z < 0 || member.readUInt32LE(z) !== SIG_ZIP64_EOCD) throw new DirectoryMismatch('the .mt member announces ZIP64 but has no ZIP64 end record before its locator');
  return Number(member.readBigUInt64LE(z + 48));
}

/**
 * The entries an archive must hold so that its central directory + end records are `member`,
 * byte for byte. Throws DIRECTORY_MISMATCH when the member is not such a directory for this
 * object's geometry, or when our layout would not reproduce it exactly.
 */
export function keptDirectory(member: Buffer, p: EcProfile, filesize: number): KeptEntry[] {
  const base = cdOffsetOf(member);
  let dir;
  try {
    dir = runOnBytes(parseZipDirectory(base + member.length, { initialTail: member.length }), member, base);
  } catch (err) {
    throw new DirectoryMismatch(`the .mt member is not an XrdEc central directory: ${(err as Error).message}`);
  }
  const blocks = blockCount(p, filesize);
  const k = stripeCount(p);
  const out: KeptEntry[] = [];
  let lastBlock = -1;
  for (const e of dir.entries) {
    const id = parseEntryName(e.name);
    if (!id || id.block >= blocks || id.stripe >= k) throw new DirectoryMismatch(`.mt member entry ${e.name} does not fit the object (${blocks} blocks, ${k} stripes)`);
    const want = stripeSize(p, filesize, id.block, id.stripe);
    if (e.size !== want) throw new DirectoryMismatch(`.mt member entry ${e.name} has ${e.size} bytes, the object's geometry gives ${want}`);
    // The rebuild yields block by block: an archive written out of block order cannot be kept.
    if (id.block < lastBlock) throw new DirectoryMismatch(`.mt member lists ${e.name} after block ${lastBlock}: entries out of block order`);
    lastBlock = id.block;
    const at = e.recordOffset - base;
    out.push({ name: e.name, block: id.block, stripe: id.stripe, size: e.size, crc: e.crc, time: { time: member.readUInt16LE(at + 12), date: member.readUInt16LE(at + 14) } });
  }
  const again = archiveLayout(out, out[0]?.time ?? { time: 0, date: 0 }).tail;
  if (!again.equals(member)) throw new DirectoryMismatch('an archive of these entries would not reproduce the .mt member byte for byte (fields XrdEc does not write); not rebuilding it');
  return out;
}
