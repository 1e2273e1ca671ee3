// The `.mt` metadata file (XRDEC-FORMAT.md §E): a stored zip whose member i (named "i") is
// archive i's central directory + end records, byte for byte, CRC'd with the object's digest.
import type { CrcKind, ErasureCodec } from '../codec/codec.js';
import { crcOf } from '../codec/codec.js';
import { runAsync, runOnBytes } from './archive-io.js';
import { parseEntryData } from './archive-io.js';
import { BadCentralDirectory } from './errors.js';
import { archiveLayout, localHeader, type DosTime } from './zip-layout.js';
import { parseZipDirectory, type ZipDirectory } from './zip-directory.js';
import { open } from 'node:fs/promises';

export function buildMetadataFile(members: readonly Buffer[], kind: CrcKind, codec: ErasureCodec, t: DosTime): Buffer {
  const entries = members.map((data, i) => ({ name: String(i), size: data.length, crc: crcOf(codec, kind, data) }));
  const layout = archiveLayout(entries, t);
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    parts.push(localHeader(e, t), members[i] ?? Buffer.alloc(0));
  });
  parts.push(layout.tail);
  return Buffer.concat(parts);
}

export interface MetadataMember {
  readonly index: number;
  readonly crc: number;
  readonly bytes: Buffer;
}

export const METADATA_SUFFIX = '.mt';
/** parseError prefix of a record that is an object's `.mt` file (the coordinator keys on it). */
export const METADATA_NOTE = 'XrdEc metadata (.mt)';
const INDEX_NAME = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Whether a data file is an object's `.mt` file rather than a damaged archive: its LFN ends in
 * `.mt`, it carries no xrdec.strpver (XrdEc sets none on it) and every member is named by a
 * placement index. `parseAny` parses its directory with names: 'any'.
 */
export function isMetadataFile(lfn: string | undefined, strpver: number | undefined, parseAny: () => ZipDirectory): { object: string; members: number } | undefined {
  if (lfn === undefined || !lfn.endsWith(METADATA_SUFFIX) || lfn.length <= METADATA_SUFFIX.length || strpver !== undefined) return undefined;
  try {
    const dir = parseAny();
    if (dir.entries.length === 0 || dir.entries.length > 256 || !dir.entries.every((e) => INDEX_NAME.test(e.name))) return undefined;
    return { object: lfn.slice(0, -METADATA_SUFFIX.length), members: dir.entries.length };
  } catch {
    return undefined;
  }
}

/** Reads a `.mt` file's members; names must be the placement indices 0..K-1. */
export async function readMetadataFile(path: string): Promise<{ dir: ZipDirectory; members: MetadataMember[] }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const dir = await runAsync(parseZipDirectory(st.size, { names: 'any' }), fh);
    const members: MetadataMember[] = [];
    for (const e of dir.entries) {
      if (!INDEX_NAME.test(e.name)) {
        throw new BadCentralDirectory(`metadata member name ${JSON.stringify(e.name)} is not a placement index`, e.recordOffset);
      }
      members.push({ index: Number(e.name), crc: e.crc, bytes: await runAsync(parseEntryData(e, dir.cdOffset), fh) });
    }
    return { dir, members };
  } finally {
    await fh.close();
  }
}

/** The members of a `.mt` file held in memory (as a peer sends it); names must be placement indices. */
export function metadataMembersOf(bytes: Buffer): MetadataMember[] {
  const dir = runOnBytes(parseZipDirectory(bytes.length, { names: 'any', initialTail: bytes.length }), bytes);
  return dir.entries.map((e) => {
    if (!INDEX_NAME.test(e.name)) throw new BadCentralDirectory(`metadata member name ${JSON.stringify(e.name)} is not a placement index`, e.recordOffset);
    return { index: Number(e.name), crc: e.crc, bytes: runOnBytes(parseEntryData(e, dir.cdOffset), bytes) };
  });
}
