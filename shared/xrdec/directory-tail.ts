// Parses a stand-alone "central directory + end records" (an `.mt` member, or what a peer sends
// for a remote archive) as the directory of the archive it came from.
import { runOnBytes } from './archive-io.js';
import { BadEocd } from './errors.js';
import { EOCD_SIZE, SIG_EOCD } from './zip-constants.js';
import { parseZipDirectory, type ZipDirectory } from './zip-directory.js';

export function parseDirectoryTail(tail: Buffer): ZipDirectory {
  if (tail.length < EOCD_SIZE || tail.readUInt32LE(tail.length - EOCD_SIZE) !== SIG_EOCD) {
    throw new BadEocd('directory bytes do not end with an end-of-central-directory record', Math.max(0, tail.length - EOCD_SIZE));
  }
  const eocd = tail.length - EOCD_SIZE;
  // The ZIP64 EOCD (if any) gives the real CD offset; otherwise the EOCD does.
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff && eocd >= 76) cdOffset = Number(tail.readBigUInt64LE(eocd - 20 - 56 + 48));
  return runOnBytes(parseZipDirectory(cdOffset + tail.length, { initialTail: tail.length }), tail, cdOffset);
}
