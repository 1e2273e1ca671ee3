// The scan bench's tree: `files` data files in 256 buckets <root>/disk/sda/public/<XX>/<name>%,
// each a small real XrdEc archive (one entry obj.0.0 of `entryBytes`, CRC-32C) with Pfn,
// strpver and filesize xattrs, as xrootd + XrdEc leave them. Built once and reused while the
// marker file says it is complete with the same parameters (generation takes a while).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import type { SiteLayout } from '../agent/scan/site-scanner.js';
import { getCodec } from '../shared/codec/index.js';
import { dataFileRelPath } from '../shared/xrdec/data-file-name.js';
import { entryName } from '../shared/xrdec/entry-name.js';
import { dosTimestamp } from '../shared/xrdec/zip-constants.js';
import { archiveLayout, localHeader } from '../shared/xrdec/zip-layout.js';

export interface ScanTreeOptions {
  /** Default /dev/shm/ecguard-bench-tree (tmpfs); a path on a disk measures that filesystem. */
  root?: string;
  files?: number;
  entryBytes?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ScanTree {
  readonly root: string;
  /** <root>/disk/sda/public: what the C walker and getfattr are pointed at. */
  readonly spaceDir: string;
  readonly files: number;
  readonly layout: SiteLayout;
  /** False when an existing complete tree was reused. */
  readonly generated: boolean;
  readonly seconds: number;
}

const MARKER = '.ecguard-bench-tree.json';
const TREE_VERSION = 1;
/** Distinct archive contents; the scan cost does not depend on them being unique. */
const VARIANTS = 64;
const STRPVER = '1764000000';

export const DEFAULT_TREE_ROOT = '/dev/shm/ecguard-bench-tree';

export function ensureScanTree(opts: ScanTreeOptions = {}): ScanTree {
  const root = opts.root ?? DEFAULT_TREE_ROOT;
  const files = opts.files ?? 200_000;
  const entryBytes = opts.entryBytes ?? 100;
  const diskDir = join(root, 'disk', 'sda');
  const layout: SiteLayout = { serverId: 'bench', disks: [{ diskId: 'bench:sda', space: 'public', path: diskDir }], exports: ['/data'] };
  const tree = { root, spaceDir: join(diskDir, 'public'), files, layout };
  const params = JSON.stringify({ version: TREE_VERSION, files, entryBytes });
  const marker = join(root, MARKER);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === params) return { ...tree, generated: false, seconds: 0 };

  // Only ever delete a tree we made (marker present, even if incomplete) or an empty directory.
  if (existsSync(root)) {
    const ours = existsSync(join(root, MARKER + '.partial')) || existsSync(marker) || readdirSync(root).length === 0;
    if (!ours) throw new Error(`scan bench: ${root} exists and is not a bench tree; pick another root`);
    rmSync(root, { recursive: true, force: true });
  }
  const started = process.hrtime.bigint();
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, MARKER + '.partial'), params);
  const archives = makeVariants(entryBytes);
  const madeBuckets = new Set<string>();
  const filesize = Buffer.from(String(entryBytes));
  const strpver = Buffer.from(STRPVER);
  for (let i = 0; i < files; i++) {
    const rel = dataFileRelPath({ startTime: 0x692c1e00, pid: 4242, port: 1094, ipv4: [10, 0, 0, 1], counter: i }, diskDir, 'public');
    const bucket = rel.slice(0, rel.lastIndexOf('/'));
    if (!madeBuckets.has(bucket)) {
      mkdirSync(join(diskDir, bucket), { recursive: true });
      madeBuckets.add(bucket);
    }
    const path = join(diskDir, rel);
    writeFileSync(path, archives[i % VARIANTS] as Buffer);
    setAttributeSync(path, 'user.XrdFrm.Pfn', Buffer.from(`/data/bench/d${Math.floor(i / 1000)}/file-${i}.dat\0`));
    setAttributeSync(path, 'user.U.xrdec.strpver', strpver);
    setAttributeSync(path, 'user.U.xrdec.filesize', filesize);
    if ((i + 1) % 10_000 === 0 || i + 1 === files) opts.onProgress?.(i + 1, files);
  }
  writeFileSync(marker, params);
  rmSync(join(root, MARKER + '.partial'));
  return { ...tree, generated: true, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Archives holding stripe 0 of block 0 of an `entryBytes`-byte object: local header, data, CD, EOCD. */
function makeVariants(entryBytes: number): Buffer[] {
  const codec = getCodec();
  const t = dosTimestamp(new Date('2025-11-24T12:00:00Z'));
  return Array.from({ length: VARIANTS }, () => {
    const data = randomBytes(entryBytes);
    const entry = { name: entryName(0, 0), size: entryBytes, crc: codec.crc32c(data) };
    return Buffer.concat([localHeader(entry, t), data, archiveLayout([entry], t).tail]);
  });
}
