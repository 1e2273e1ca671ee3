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
  /** With `withhold`: places the held-back archives (a slow writer finishing). */
  readonly placeWithheld?: () => void;
}

export function placeObject(sites: readonly FakeSite[], lfn: string, size: number, profile: EcProfile, o: { strpver?: number; crc32c?: boolean; disk?: (server: number) => number; withhold?: readonly number[]; mtFile?: boolean } = {}): PlacedObject {
  const k = profile.nbData + profile.nbParity;
  if (sites.length < k) throw new Error(`${k} servers needed`);
  const tmp = mkdtempSync(join(tmpdir(), 'ecguard-place-'));
  let keepTmp = false;
  try {
    const input = join(tmp, 'in');
    writeFileSync(input, randomBytes(size));
    const archives = Array.from({ length: k }, (_, i) => {
      mkdirSync(join(tmp, String(i)));
      return join(tmp, String(i), 'a');
    });
    encodeObject({ profile, crcKind: o.crc32c ? 'crc32c' : 'crc32', input, archivePaths: archives, xattrNamespace: 'user.U.', mtFile: o.mtFile === true, strpver: o.strpver ?? 1_700_000_000, codec: getCodec() });
    const paths: string[] = [];
    const disks: number[] = [];
    const place = (i: number): void => {
      const src = archives[i] as string;
      const site = sites[i] as FakeSite;
      paths[i] = site.store(lfn, disks[i] as number, (p) => {
        copyFileSync(src, p);
        for (const name of listAttributesSync(src)) setAttributeSync(p, name, getAttributeSync(src, name));
      });
      if (o.mtFile) site.store(`${lfn}.mt`, disks[i] as number, (p) => copyFileSync(`${src}.mt`, p));
    };
    archives.forEach((_, i) => {
      const site = sites[i] as FakeSite;
      disks.push(o.disk ? o.disk(i) : (lfn.length + i) % site.disks.length);
      paths.push('');
      if (!o.withhold?.includes(i)) place(i);
    });
    if (!o.withhold?.length) return { lfn, size, paths, disks };
    keepTmp = true;
    const placeWithheld = (): void => {
      try {
        for (const i of o.withhold ?? []) place(i);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    };
    return { lfn, size, paths, disks, placeWithheld };
  } finally {
    if (!keepTmp) rmSync(tmp, { recursive: true, force: true });
  }
}
