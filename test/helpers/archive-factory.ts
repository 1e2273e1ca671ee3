// Small real XrdEc archives for agent tests: encode once, then copy the archive bytes and
// xattrs wherever a test needs one more data file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { getCodec } from '../../shared/codec/index.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';

export interface ArchiveTemplate {
  readonly bytes: Buffer;
  readonly strpver: number;
  readonly filesize: number;
}

export function makeArchiveTemplate(size = 3000, strpver = 1700000000): ArchiveTemplate {
  const dir = mkdtempSync(join(tmpdir(), 'ecguard-tpl-'));
  try {
    const input = join(dir, 'in');
    writeFileSync(input, randomBytes(size));
    const paths = Array.from({ length: 6 }, (_, i) => join(dir, `a${i}`));
    encodeObject({ profile: { nbData: 4, nbParity: 2, chunkSize: 1024 }, crcKind: 'crc32c', input, archivePaths: paths, xattrNamespace: 'user.U.', mtFile: false, strpver, codec: getCodec() });
    return { bytes: readFileSync(paths[0] as string), strpver, filesize: size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the template's archive and its xrdec xattrs at `path`. */
export function writeArchive(path: string, t: ArchiveTemplate): void {
  writeFileSync(path, t.bytes);
  setAttributeSync(path, 'user.U.xrdec.strpver', Buffer.from(String(t.strpver)));
  setAttributeSync(path, 'user.U.xrdec.filesize', Buffer.from(String(t.filesize)));
}
