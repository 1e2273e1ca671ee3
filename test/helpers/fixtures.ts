// Loads the golden XrdEc fixtures from ../shared/fixtures/xrdec (read-only, outside the repo)
// into a temp dir and re-applies their xattrs, which git does not keep.
import { cpSync, mkdtempSync, readFileSync, rmSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setAttributeSync } from 'fs-xattr';

export interface ManifestEntry {
  name: string;
  size: number;
  crc: string;
  lfh_offset: number;
  data_offset: number;
}

export interface ManifestFile {
  path: string;
  server: number;
  kind: 'archive' | 'metadata';
  size: number;
  sha256: string;
  xattrs_hex: Record<string, string>;
  entries?: ManifestEntry[];
}

export interface Manifest {
  case: string;
  nbdata: number;
  nbparity: number;
  chunksize: number;
  digest: 'crc32c' | 'crc32';
  nomtfile: boolean;
  object: string;
  servers: string[];
  file_size: number;
  sha256: string;
  blocks: number;
  placement: Record<string, Record<string, number>>;
  files: ManifestFile[];
}

export interface FixtureCase {
  readonly name: string;
  readonly manifest: Manifest;
  /** Temp copy with xattrs applied. */
  readonly dir: string;
  /** Archive path per server index. */
  readonly archives: string[];
  readonly original: string;
  cleanup(): void;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function fixturesRoot(): string {
  return process.env.ECGUARD_FIXTURES ?? resolve(repoRoot, '..', 'shared', 'fixtures', 'xrdec');
}

export function fixtureNames(): string[] {
  const index = JSON.parse(readFileSync(join(fixturesRoot(), 'index.json'), 'utf8')) as { cases: { case: string }[] };
  const names = index.cases.map((c) => c.case);
  // The index lists the regular cases; pick up any other case directory (k7-irregular) too.
  for (const d of readdirSync(fixturesRoot())) {
    if (d.startsWith('case-') && !names.includes(d) && statSync(join(fixturesRoot(), d)).isDirectory()) names.push(d);
  }
  return names.sort();
}

export function readManifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(fixturesRoot(), name, 'manifest.json'), 'utf8')) as Manifest;
}

export function loadFixture(name: string): FixtureCase {
  const manifest = readManifest(name);
  const dir = mkdtempSync(join(tmpdir(), `ecguard-fx-${name}-`));
  cpSync(join(fixturesRoot(), name), dir, { recursive: true });
  chmodRecursive(dir);
  for (const f of manifest.files) {
    for (const [k, v] of Object.entries(f.xattrs_hex)) setAttributeSync(join(dir, f.path), k, Buffer.from(v, 'hex'));
  }
  const archives = manifest.servers.map((_, i) => {
    const f = manifest.files.find((x) => x.server === i && x.kind === 'archive');
    if (!f) throw new Error(`${name}: no archive for server ${i}`);
    return join(dir, f.path);
  });
  return { name, manifest, dir, archives, original: join(dir, 'original.bin'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function chmodRecursive(p: string): void {
  const st = statSync(p);
  chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of readdirSync(p)) chmodRecursive(join(p, e));
}

/** placement[block][stripe] → server index, as arrays. */
export function placementOf(m: Manifest): number[][] {
  const out: number[][] = [];
  for (let b = 0; b < m.blocks; b++) {
    const row = m.placement[String(b)] ?? {};
    out.push(Array.from({ length: m.nbdata + m.nbparity }, (_, s) => row[String(s)] as number));
  }
  return out;
}

export function* combinations<T>(items: readonly T[], k: number, start = 0, prefix: T[] = []): Generator<T[]> {
  if (prefix.length === k) {
    yield [...prefix];
    return;
  }
  for (let i = start; i < items.length; i++) {
    prefix.push(items[i] as T);
    yield* combinations(items, k, i + 1, prefix);
    prefix.pop();
  }
}
