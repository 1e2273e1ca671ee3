// `ecguard inspect [--verify] ARCHIVE...`
import type { Command } from 'commander';
import { getCodec } from '../../shared/codec/index.js';
import { inspectArchive, type InspectReport } from '../../shared/xrdec/archive-inspect.js';
import { EXIT } from '../exit-codes.js';
import { requireFile } from '../options.js';
import { printJson, table } from '../output.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show an archive\'s entries, blocks, stripes, CRC kind, xattrs and problems (also .mt files)')
    .argument('<archive...>', 'archive files (data files of an XrdEc object, or <object>.mt)')
    .option('--verify', 'read every entry and check its CRC')
    .option('--json', 'machine-readable output')
    .action(async (paths: string[], opts: { verify?: boolean; json?: boolean }) => {
      for (const p of paths) requireFile('ARCHIVE', p);
      const codec = getCodec();
      const reports: InspectReport[] = [];
      for (const p of paths) reports.push(await inspectArchive(p, codec, opts.verify === true));
      if (opts.json) printJson({ archives: reports });
      else for (const r of reports) process.stdout.write(describe(r));
      process.exitCode = reports.some((r) => r.problems.length > 0) ? EXIT.PROBLEMS : EXIT.OK;
    });
}

function describe(r: InspectReport): string {
  const lines: string[] = [`${r.path}  (${r.kind}${r.size !== undefined ? `, ${r.size} bytes` : ''})`];
  const xa = Object.entries(r.xattrs.raw).map(([k, v]) => `${k}=${v}`).join('  ');
  lines.push(`  xattrs: ${xa || '(none)'}`);
  if (r.kind === 'archive' && !r.error) {
    lines.push(`  entries: ${r.entries.length}  blocks: ${r.nblocks}  regular: ${r.regular ? 'yes' : 'no'}  crc: ${r.crcKind}${r.zip64 ? '  zip64' : ''}${r.empty ? '  (empty object)' : ''}`);
  }
  let out = lines.join('\n') + '\n';
  if (r.entries.length > 0) {
    const headers = r.kind === 'archive' ? ['entry', 'block', 'stripe', 'size', 'crc', 'offset'] : ['member', 'size', 'crc', 'offset'];
    if (r.verified) headers.push('check');
    const rows = r.entries.map((e) => {
      const row: (string | number)[] = r.kind === 'archive' ? [e.name, e.block ?? '-', e.stripe ?? '-', e.size, e.crc, e.lfhOffset] : [e.name, e.size, e.crc, e.lfhOffset];
      if (r.verified) row.push(e.crcOk === undefined ? '-' : e.crcOk ? 'ok' : 'BAD');
      return row;
    });
    out += table(headers, rows).replace(/^/gm, '  ');
  }
  if (r.error) out += `  error: ${r.error.code}: ${r.error.message}\n`;
  for (const p of r.problems) if (!r.error || p !== r.error.message) out += `  problem: ${p}\n`;
  if (r.problems.length === 0) out += `  ok${r.verified ? ' (every CRC checked)' : ''}\n`;
  return out + '\n';
}
