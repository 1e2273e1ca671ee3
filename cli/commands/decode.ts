// `ecguard decode`: the operator's salvage tool — rebuild an object from ≥ N of its archives,
// with no xrootd server involved.
import type { Command } from 'commander';
import { getCodec } from '../../shared/codec/index.js';
import { decodeObject } from '../../shared/xrdec/object-decoder.js';
import { parseIntFlag, profileFromFlags, requireFile, requireOutputPath } from '../options.js';
import { printJson, Progress } from '../output.js';

interface DecodeFlags {
  nbdata?: string;
  nbparity?: string;
  chunksize?: string;
  size?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

export function registerDecode(program: Command): void {
  program
    .command('decode')
    .description('rebuild the original file from any ≥ N archives of one object (newest strpver only, CRC-checked entries only)')
    .argument('<archive...>', 'archives of one object, in any order')
    .requiredOption('--out <file>', 'where to write the rebuilt file (written to <file>.ecguard-partial, renamed when complete)')
    .option('--nbdata <n>', 'data stripes N (nbdta)')
    .option('--nbparity <m>', 'parity stripes M (nbprt)')
    .option('--chunksize <c>', 'chunk size C in bytes (chsz)')
    .option('--size <bytes>', 'object size; default: the archives\' xrdec.filesize')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'machine-readable report')
    .action(async (paths: string[], f: DecodeFlags) => {
      const profile = profileFromFlags(f);
      const size = f.size === undefined ? undefined : parseIntFlag('--size', f.size);
      // a mistyped path must not turn into "too few stripes", nor a bad --out leave a partial file
      for (const p of paths) requireFile('ARCHIVE', p);
      requireOutputPath('--out', f.out);
      const progress = new Progress('decode', !f.json);
      const report = await decodeObject({
        profile, archivePaths: paths, output: f.out, codec: getCodec(), overwrite: f.force === true,
        ...(size !== undefined ? { size } : {}),
        onBlock: (d, t) => progress.update(d, t),
      });
      if (f.json) {
        printJson({ output: f.out, ...report });
        return;
      }
      process.stdout.write(`wrote ${f.out}: ${report.filesize} bytes, ${report.blocks} blocks (${report.blocksRebuilt} rebuilt from parity), strpver ${report.strpver ?? 'unknown'}, crc ${report.crcKind ?? 'unknown'}\n`);
      process.stdout.write(`used ${report.used.length} archives\n`);
      for (const i of report.ignored) process.stdout.write(`ignored ${i.path}: ${i.reason}\n`);
      for (const b of report.badEntries) process.stdout.write(`bad entry ${b.path} ${b.entry}: ${b.reason}\n`);
    });
}
