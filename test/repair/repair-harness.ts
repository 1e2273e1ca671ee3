// Shared steps of the repair tests: rebuild the missing stripes of an object from local
// archives, place them on fake data servers (one per target, as the planner would), and the
// checks every test repeats (sha256 of files and xattrs, what is on a disk, coverage).
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import { summarizeEntries } from '../../shared/xrdec/archive-summary.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';
import { randomPlacement, seededRandom } from '../../shared/xrdec/placement.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import type { XattrNamespace } from '../../shared/xrdec/xattrs.js';
import { rebuildStripes, type RebuildOptions, type StripeRebuild } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import { closeSources, localArchiveSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import type { PlacedArchive } from '../../agent/repair/archive-placer.js';
import { writeRebuild, type RebuildTarget } from '../../agent/repair/write-rebuild.js';
import { makeFakeSite, type FakeSite } from '../helpers/fake-site.js';

export const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** sha256 of a file's bytes and of every xattr: what "never touched" means. */
export function fingerprint(path: string): string {
  const h = createHash('sha256').update(readFileSync(path));
  for (const n of listAttributesSync(path).sort()) h.update(n).update(getAttributeSync(path, n));
  return h.digest('hex');
}

/** Every file, symlink and directory below `root` (relative), sorted. */
export function treeOf(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      out.push(`${p.slice(root.length + 1)}${st.isDirectory() ? '/' : st.isSymbolicLink() ? '@' : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

export interface RepairRun {
  readonly rebuild: StripeRebuild;
  readonly placed: PlacedArchive[];
  readonly sites: FakeSite[];
  readonly targets: RebuildTarget[];
}

/** Rebuilds from `sourcePaths` into `targets` new archives, each on its own fake server. */
export async function rebuildOntoSites(o: Omit<RebuildOptions, 'sources'> & { sourcePaths: readonly string[]; lfn: string; taskId: string; base?: string; directoryDigests?: readonly string[] }): Promise<RepairRun> {
  const sources = o.sourcePaths.map((p) => localArchiveSource(p));
  const sites: FakeSite[] = [];
  try {
    const rebuild = await rebuildStripes({ ...o, sources });
    const targets: RebuildTarget[] = [];
    for (let t = 0; t < o.targets; t++) {
      const site = makeFakeSite({ serverId: `srv${t}`, disks: 1, ...(o.base ? { base: o.base } : {}) });
      sites.push(site);
      const disk = site.disks[0] as FakeSite['disks'][number];
      targets.push({ diskPath: disk.path, space: disk.space, linkPath: `${site.localroot ?? ''}${o.lfn}`, namespaceRoot: site.nsRoot, taskId: o.taskId, slot: t, ...(o.directoryDigests?.[t] ? { directoryDigest: o.directoryDigests[t] } : {}) });
    }
    const placed = await writeRebuild(rebuild, targets);
    return { rebuild, placed, sites, targets };
  } catch (err) {
    for (const s of sites) s.cleanup();
    throw err;
  } finally {
    await closeSources(sources);
  }
}

/** block → distinct stripes held by the archive. */
export function stripeMap(path: string): ReadonlyMap<number, readonly number[]> {
  return summarizeEntries(readZipDirectoryFileSync(path).entries).stripesByBlock;
}

/** Whether the archives together hold ≥ N distinct stripes of every block. */
export function covers(maps: readonly ReadonlyMap<number, readonly number[]>[], blocks: number, n: number): boolean {
  for (let b = 0; b < blocks; b++) {
    const s = new Set<number>();
    for (const m of maps) for (const x of m.get(b) ?? []) s.add(x);
    if (s.size < n) return false;
  }
  return true;
}

export function profileOf(m: { nbdata: number; nbparity: number; chunksize: number }): EcProfile {
  return { nbData: m.nbdata, nbParity: m.nbparity, chunkSize: m.chunksize };
}

/** Deterministic pick of up to `max` items spread over the list (first, last, between). */
export function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))] as T);
}

export interface EncodedObject {
  readonly dir: string;
  readonly input: string;
  readonly sha256: string;
  /** One archive per placement index (K = N+M). */
  readonly archives: string[];
  readonly strpver: number;
  cleanup(): void;
}

/** Encodes `size` seeded pseudo-random bytes as one XrdEc object (K = N+M, seeded placement). */
export function encodeRandomObject(o: { profile: EcProfile; size: number; crcKind: CrcKind; seed: number; codec: ErasureCodec; xattrNamespace?: XattrNamespace }): EncodedObject {
  const dir = mkdtempSync(join(tmpdir(), 'ecguard-rep-obj-'));
  const input = join(dir, 'original.bin');
  const chunks: Buffer[] = [];
  for (let i = 0, have = 0; have < o.size; i++, have += 32) chunks.push(createHash('sha256').update(`repair:${o.seed}:${i}`).digest());
  writeFileSync(input, Buffer.concat(chunks).subarray(0, o.size));
  const k = o.profile.nbData + o.profile.nbParity;
  const archives = Array.from({ length: k }, (_, i) => {
    mkdirSync(join(dir, `server-${i}`));
    return join(dir, `server-${i}`, 'file.dat');
  });
  const strpver = 1700000000 + o.seed;
  encodeObject({
    profile: o.profile, crcKind: o.crcKind, input, archivePaths: archives, codec: o.codec, strpver, mtFile: false,
    xattrNamespace: o.xattrNamespace ?? 'user.U.', placement: (blocks) => randomPlacement(k, k, blocks, seededRandom(o.seed)),
  });
  return { dir, input, sha256: sha256(input), archives, strpver, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Flips one bit in the stored bytes of entry `name` (at `byte` within its data). */
export function flipBit(archive: string, name: string, byte = 0): void {
  const dir = readZipDirectoryFileSync(archive);
  const e = dir.entries.find((x) => x.name === name);
  if (!e || e.size === 0) throw new Error(`${archive} has no non-empty entry ${name}`);
  const at = e.lfhOffset + 30 + Buffer.byteLength(name, 'latin1') + Math.min(byte, e.size - 1);
  const fd = openSync(archive, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = (b[0] as number) ^ 0x10;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}
