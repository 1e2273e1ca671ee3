// Places XrdEc objects across several fake data servers the way XrdEc + xrootd would: one
// archive per server, each on one of its disks, with xattrs, Pfn and namespace symlink.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync, setAttributeSync } from 'fs-xattr';
import { getCodec } from '../../shared/codec/index.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { FakeSite } from './fake-site.js';

export interface PlacedObject {
  readonly lfn: string;
  readonly size: number;
  /** Absolute data file path per server index. */
  readonly paths: string[];
  /** Disk index used on each server. */
  readonly disks: number[];
}

export function placeObject(sites: readonly FakeSite[], lfn: string, size: number, profile: EcProfile, o: { strpver?: number; crc32c?: boolean; disk?: (server: number) => number } = {}): PlacedObject {
  const k = profile.nbData + profile.nbParity;
  if (sites.length < k) throw new Error(`${k} servers needed`);
  const tmp = mkdtempSync(join(tmpdir(), 'ecguard-place-'));
  try {
    const input = join(tmp, 'in');
    writeFileSync(input, randomBytes(size));
    const archives = Array.from({ length: k }, (_, i) => {
      mkdirSync(join(tmp, String(i)));
      return join(tmp, String(i), 'a');
    });
    encodeObject({ profile, crcKind: o.crc32c ? 'crc32c' : 'crc32', input, archivePaths: archives, xattrNamespace: 'user.U.', mtFile: false, strpver: o.strpver ?? 1_700_000_000, codec: getCodec() });
    const paths: string[] = [];
    const disks: number[] = [];
    archives.forEach((src, i) => {
      const site = sites[i] as FakeSite;
      const disk = o.disk ? o.disk(i) : (lfn.length + i) % site.disks.length;
      disks.push(disk);
      paths.push(site.store(lfn, disk, (p) => {
        copyFileSync(src, p);
        for (const name of listAttributesSync(src)) setAttributeSync(p, name, getAttributeSync(src, name));
      }));
    });
    return { lfn, size, paths, disks };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
