// Opens the archives given for one object and decides which of them count, as the XrdEc reader
// does: only the newest strpver; older ones are debris. Also settles the object's CRC kind.
import { closeSync, openSync } from 'node:fs';
import type { CrcKind, ErasureCodec } from '../codec/codec.js';
import { errorText } from '../errors.js';
import { readEntrySync, readZipDirectorySync } from './archive-io.js';
import { matchCrc } from './archive-summary.js';
import { readEcXattrsSync, type EcXattrs } from './xattrs.js';
import type { ZipDirectory } from './zip-directory.js';

export interface LoadedArchive {
  readonly path: string;
  readonly fd: number;
  readonly dir: ZipDirectory;
  readonly xattrs: EcXattrs;
}

export interface ArchiveSet {
  readonly used: readonly LoadedArchive[];
  readonly ignored: readonly { path: string; reason: string }[];
  /** Newest strpver among the archives (undefined when none carries one). */
  readonly strpver?: number;
  /** Distinct xrdec.filesize values among the used archives. */
  readonly filesizes: readonly number[];
  readonly crcKind?: CrcKind;
  close(): void;
}

/** How many non-empty entries to try before giving up on deciding the CRC kind. */
const CRC_PROBES = 16;

export async function loadArchives(paths: readonly string[], codec: ErasureCodec): Promise<ArchiveSet> {
  const loaded: LoadedArchive[] = [];
  const ignored: { path: string; reason: string }[] = [];
  for (const path of paths) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const xattrs = readEcXattrsSync(path);
      const dir = readZipDirectorySync(fd);
      loaded.push({ path, fd, dir, xattrs });
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      ignored.push({ path, reason: errorText(err) });
    }
  }
  const versions = loaded.map((a) => a.xattrs.strpver).filter((v): v is number => v !== undefined);
  const strpver = versions.length > 0 ? Math.max(...versions) : undefined;
  const used: LoadedArchive[] = [];
  for (const a of loaded) {
    if (strpver !== undefined && a.xattrs.strpver === undefined) {
      ignored.push({ path: a.path, reason: 'no xrdec.strpver: its version cannot be told, so it is not trusted' });
      closeSync(a.fd);
    } else if (strpver !== undefined && a.xattrs.strpver !== strpver) {
      ignored.push({ path: a.path, reason: `strpver ${a.xattrs.strpver} is older than the newest ${strpver} (debris of an earlier version)` });
      closeSync(a.fd);
    } else used.push(a);
  }
  const filesizes = [...new Set(used.map((a) => a.xattrs.filesize).filter((v): v is number => v !== undefined))];
  const crcKind = detectCrcKind(used, codec);
  return {
    used,
    ignored,
    ...(strpver !== undefined ? { strpver } : {}),
    filesizes,
    ...(crcKind !== undefined ? { crcKind } : {}),
    close: () => {
      for (const a of used) closeSync(a.fd);
    },
  };
}

/** First non-empty entry whose stored CRC matches exactly one of the two functions decides. */
export function detectCrcKind(archives: readonly LoadedArchive[], codec: ErasureCodec): CrcKind | undefined {
  let probes = 0;
  for (const a of archives) {
    for (const e of a.dir.entries) {
      if (e.size === 0) continue;
      if (++probes > CRC_PROBES) return undefined;
      let m;
      try {
        m = matchCrc(codec, readEntrySync(a.fd, a.dir, e), e.crc);
      } catch {
        continue;
      }
      if (m === 'crc32c' || m === 'crc32') return m;
    }
  }
  return undefined;
}
