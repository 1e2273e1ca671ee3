// What the repair cluster test looks at on the (temp-dir) disks themselves: which archive each
// server's namespace links for an LFN, every data file and its Pfn, temp files, fingerprints of
// survivors, and whether a rebuilt archive looks exactly like XrdEc + xrootd would leave it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';
import { fileBytes, type LocalCluster } from '../../cli/demo/local-cluster.js';
import { getCodec } from '../../shared/codec/index.js';
import { readEntrySync, readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { crcMatches } from '../../shared/xrdec/archive-summary.js';
import { parseDataFileName } from '../../shared/xrdec/data-file-name.js';
import { decodeObject } from '../../shared/xrdec/object-decoder.js';
import { blockCount, stripeSize, type EcProfile } from '../../shared/xrdec/profile.js';

const codec = getCodec();

/** The data file server i's namespace links for `lfn` (undefined: no link, or dangling). */
export function linkedArchive(c: LocalCluster, server: number, lfn: string): string | undefined {
  const site = c.sites[server];
  if (!site) return undefined;
  try {
    const target = readlinkSync(site.localroot + lfn);
    return existsSync(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** Every data file on every disk: path → { server, Pfn }. */
export function dataFiles(c: LocalCluster): Map<string, { server: number; pfn: string }> {
  const out = new Map<string, { server: number; pfn: string }>();
  c.sites.forEach((site, server) => {
    for (const disk of site.disks) {
      const space = join(disk, site.space);
      if (!existsSync(space)) continue;
      for (const b of readdirSync(space)) {
        for (const n of readdirSync(join(space, b))) {
          if (!n.endsWith('%')) continue;
          const p = join(space, b, n);
          let pfn = '';
          try {
            pfn = getAttributeSync(p, 'user.XrdFrm.Pfn').toString('utf8').replace(/\0$/, '');
          } catch {
            /* no Pfn */
          }
          out.set(p, { server, pfn });
        }
      }
    }
  });
  return out;
}

/** (server, Pfn) pairs with more than one data file: a slot written twice. */
export function doubledSlots(c: LocalCluster): string[] {
  const seen = new Map<string, number>();
  for (const { server, pfn } of dataFiles(c).values()) seen.set(`${server} ${pfn}`, (seen.get(`${server} ${pfn}`) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}

/** Leftover temp files of repairs (buckets and namespaces). */
export function tempFiles(c: LocalCluster): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (n.startsWith('.ecguard-tmp-') || n.startsWith('.ecguard-link-')) out.push(p);
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  for (const s of c.sites) {
    for (const d of s.disks) walk(join(d, s.space));
    walk(s.localroot);
  }
  return out;
}

/** sha256 of bytes and every xattr of each data file: "never touched" is "same fingerprint". */
export function fingerprints(c: LocalCluster): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of dataFiles(c).keys()) {
    const h = createHash('sha256').update(readFileSync(p));
    for (const n of listAttributesSync(p).sort()) h.update(n).update(getAttributeSync(p, n));
    out.set(p, h.digest('hex'));
  }
  return out;
}

/** A rebuilt archive compared with a survivor of the same object (XRDEC-FORMAT.md §A-§F). */
export function checkRebuiltArchive(path: string, survivor: string, linkPath: string, profile: EcProfile, crcKind: 'crc32c' | 'crc32'): void {
  const ns = listAttributesSync(survivor).some((n) => n.startsWith('user.U.xrdec.')) ? 'user.U.' : 'user.';
  for (const n of ['xrdec.strpver', 'xrdec.filesize']) {
    assert.deepEqual(getAttributeSync(path, ns + n), getAttributeSync(survivor, ns + n), `${path}: ${ns}${n} differs from the survivor's`);
  }
  const other = ns === 'user.U.' ? 'user.' : 'user.U.';
  assert.ok(!listAttributesSync(path).some((n) => n.startsWith(`${other}xrdec.`)), `${path}: xrdec attributes in the wrong namespace`);
  assert.equal(getAttributeSync(path, 'user.XrdFrm.Pfn').toString('utf8'), `${linkPath}\0`);
  assert.ok(parseDataFileName(basename(path)), `${basename(path)} is not an xrootd-style data file name`);
  assert.match(basename(dirname(path)), /^[0-9A-F]{2}$/);
  const filesize = Number(getAttributeSync(survivor, `${ns}xrdec.filesize`).toString('latin1'));
  const dir = readZipDirectoryFileSync(path);
  assert.equal(dir.entries.length, blockCount(profile, filesize), `${path}: one entry per block`);
  const fd = openSync(path, 'r');
  try {
    for (const e of dir.entries) {
      assert.match(e.name, /^obj\.\d+\.\d+$/);
      assert.equal(e.size, stripeSize(profile, filesize, e.stripe?.block ?? -1, e.stripe?.stripe ?? -1), `${e.name} size`);
      const d = readEntrySync(fd, dir, e);
      if (e.size > 0) assert.ok(crcMatches(codec, crcKind, d, e.crc), `${path} ${e.name}: CRC is not ${crcKind} like the survivors'`);
      else assert.equal(e.crc, 0);
    }
  } finally {
    closeSync(fd);
  }
}

/** Decodes `archives` (in-process, the same code as `ecguard decode`) and compares with the original. */
export async function decodesTo(lfn: string, size: number, archives: readonly string[], profile: EcProfile): Promise<boolean> {
  const tmp = mkdtempSync(join(tmpdir(), 'ecguard-dec-'));
  try {
    const out = join(tmp, 'out');
    await decodeObject({ profile, archivePaths: archives, output: out, codec });
    return createHash('sha256').update(readFileSync(out)).digest('hex') === createHash('sha256').update(fileBytes(lfn, size)).digest('hex');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
