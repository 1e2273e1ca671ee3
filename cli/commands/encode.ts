// `ecguard encode`: write a file as an XrdEc object (one archive per directory), as XrdEc would.
// The demo and the cluster tests make their data with it.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { getCodec } from '../../shared/codec/index.js';
import { UsageError } from '../../shared/errors.js';
import { encodeObject } from '../../shared/xrdec/object-encoder.js';
import { randomPlacement, seededRandom, type Placement } from '../../shared/xrdec/placement.js';
import { stripeCount } from '../../shared/xrdec/profile.js';
import { XATTR_NAMESPACES, type XattrNamespace } from '../../shared/xrdec/xattrs.js';
import { parseIntFlag, profileFromFlags, requireDir, requireFile } from '../options.js';
import { printJson, Progress } from '../output.js';

interface EncodeFlags {
  nbdata?: string;
  nbparity?: string;
  chunksize?: string;
  crc32c?: boolean;
  xattrNamespace: string;
  mtfile?: boolean;
  outDirs: string;
  name?: string;
  strpver?: string;
  placementSeed?: string;
  placementFile?: string;
  json?: boolean;
}

export function registerEncode(program: Command): void {
  program
    .command('encode')
    .description('write INPUT as an XrdEc object: one archive per output directory, with strpver/filesize xattrs')
    .argument('<input>', 'file to encode')
    .requiredOption('--out-dirs <d0,d1,...>', 'one directory per archive (K ≥ N+M), comma-separated')
    .option('--nbdata <n>', 'data stripes N')
    .option('--nbparity <m>', 'parity stripes M')
    .option('--chunksize <c>', 'chunk size C in bytes')
    .option('--crc32c', 'CRC-32C entry checksums (default: zip CRC-32)')
    .option('--xattr-namespace <ns>', 'user.U. (as through an xrootd server) or user. (as file:// writers)', 'user.U.')
    .option('--mtfile', 'also write <name>.mt metadata files')
    .option('--name <name>', 'archive file name (default: the input\'s base name)')
    .option('--strpver <n>', 'version stamp (default: now, Unix seconds)')
    .option('--placement-seed <n>', 'reproducible random placement')
    .option('--placement-file <json>', 'explicit placement: JSON [[archive index per stripe] per block]')
    .option('--json', 'machine-readable result')
    .action((input: string, f: EncodeFlags) => {
      const profile = profileFromFlags(f);
      if (!XATTR_NAMESPACES.includes(f.xattrNamespace as XattrNamespace)) {
        throw new UsageError(`--xattr-namespace must be one of ${XATTR_NAMESPACES.join(', ')}, got ${JSON.stringify(f.xattrNamespace)}`);
      }
      requireFile('INPUT', input);
      const dirs = f.outDirs.split(',').filter((d) => d.length > 0);
      for (const d of dirs) requireDir('--out-dirs: directory', d);
      if (dirs.length < stripeCount(profile)) {
        throw new UsageError(`--out-dirs names ${dirs.length} directories; ${profile.nbData}+${profile.nbParity} needs at least ${stripeCount(profile)}`);
      }
      if (f.placementSeed !== undefined && f.placementFile !== undefined) throw new UsageError('give --placement-seed or --placement-file, not both');
      const name = f.name ?? basename(input);
      if (name.includes('/') || name === '' || name === '.' || name === '..') throw new UsageError(`--name must be a plain file name, got ${JSON.stringify(name)}`);
      let placement: Placement | ((blocks: number) => Placement) | undefined;
      if (f.placementSeed !== undefined) {
        const rand = seededRandom(parseIntFlag('--placement-seed', f.placementSeed));
        placement = (blocks) => randomPlacement(dirs.length, stripeCount(profile), blocks, rand);
      } else if (f.placementFile !== undefined) {
        placement = readPlacement(f.placementFile);
      }
      const progress = new Progress('encode', !f.json);
      const result = encodeObject({
        profile, crcKind: f.crc32c ? 'crc32c' : 'crc32', input, archivePaths: dirs.map((d) => join(d, name)),
        xattrNamespace: f.xattrNamespace as XattrNamespace, mtFile: f.mtfile === true,
        strpver: f.strpver === undefined ? Math.floor(Date.now() / 1000) : parseIntFlag('--strpver', f.strpver),
        codec: getCodec(), onBlock: (d, t) => progress.update(d, t),
        ...(placement !== undefined ? { placement } : {}),
      });
      if (f.json) printJson(result);
      else {
        process.stdout.write(`encoded ${input}: ${result.filesize} bytes, ${result.blocks} blocks, strpver ${result.strpver}\n`);
        for (const a of result.archives) process.stdout.write(`  ${a.path}  ${a.size} bytes  ${a.entries} entries\n`);
      }
    });
}

function readPlacement(file: string): Placement {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--placement-file ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((r) => Array.isArray(r) && r.every((x) => Number.isInteger(x)))) {
    throw new UsageError(`--placement-file ${file}: want a JSON array of arrays of archive indices`);
  }
  return parsed as number[][];
}
