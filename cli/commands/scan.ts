// `ecguard scan`: one data server's disks, standalone (no coordinator): summary, findings,
// records, or (--lfns) the LFNs a disk holds from its own Pfns — what a dead disk held, even
// when the namespace is gone. Reads only; never writes (no disk markers either).
import type { Command } from 'commander';
import type { Finding } from '../../shared/domain/archive-record.js';
import { scanSite, type SiteLayout, type SiteScanResult } from '../../agent/scan/site-scanner.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, printJson, table } from '../output.js';
import { parseIntFlag } from '../options.js';
import { layoutFromFlags, type LayoutFlags } from '../site-layout.js';

interface ScanFlags extends LayoutFlags {
  lfns?: boolean;
  records?: boolean;
  workers?: string;
  json?: boolean;
}

export function addLayoutOptions(cmd: Command): Command {
  return cmd
    .option('--xrootd-config <file>', 'the data server\'s xrootd config (oss.space, all.export, oss.localroot)')
    .option('--space-path <path>', 'only this oss.space disk')
    .option('--server-id <id>', 'server id in records (default: all.sitename or the host name)')
    .option('--host <name>', 'evaluate the config\'s if-blocks for this host (default: this host)')
    .option('--instance <name>', 'xrootd -n instance name the config is evaluated for');
}

export function registerScan(program: Command): void {
  addLayoutOptions(program.command('scan').description('scan a data server\'s disks: archives, xattrs, zip directories, namespace; changes nothing'))
    .option('--lfns', 'print the LFNs stored on the disk(s), from the data files\' own Pfns and symlinks')
    .option('--records', 'include every archive record (with --json) or list them')
    .option('--workers <n>', 'scan threads', '2')
    .option('--json', 'machine-readable output')
    .action(async (f: ScanFlags) => {
      const { layout, warnings } = layoutFromFlags(f);
      for (const w of warnings) process.stderr.write(`ecguard: config: ${w}\n`);
      const result = await scanWithProgress('scan', layout, f.json === true, parseIntFlag('--workers', f.workers ?? '2', 1));
      const errors = result.findings.filter((x) => x.severity === 'error').length;
      process.exitCode = errors > 0 ? EXIT.PROBLEMS : EXIT.OK;
      if (f.lfns) return printLfns(result, f.json === true);
      if (f.json) {
        printJson({ serverId: layout.serverId, summary: summarize(result), disks: result.disks, findings: result.findings, ...(f.records ? { records: result.records } : {}) });
        return;
      }
      process.stdout.write(describe(result, f.records === true));
    });
}

/** scanSite with a progress line on a terminal (never with --json or when stderr is not a TTY). */
export async function scanWithProgress(label: string, layout: SiteLayout, json: boolean, workers?: number): Promise<SiteScanResult> {
  const tty = process.stderr.isTTY === true && !json;
  const result = await scanSite(layout, {
    ...(workers !== undefined ? { workers } : {}),
    onProgress: tty ? (p) => process.stderr.write(`\r${label}: ${p.bucketsDone}/${p.bucketsTotal} buckets, ${p.files} files`) : undefined,
  });
  if (tty) process.stderr.write('\n');
  return result;
}

function summarize(r: SiteScanResult): Record<string, unknown> {
  const byStatus: Record<string, number> = {};
  for (const rec of r.records) byStatus[rec.parseStatus] = (byStatus[rec.parseStatus] ?? 0) + 1;
  const byKind: Record<string, number> = {};
  for (const f of r.findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return { archives: r.records.length, bytes: r.records.reduce((a, x) => a + x.size, 0), parseStatus: byStatus, findings: byKind, symlinks: r.links.length, elapsedMs: r.elapsedMs };
}

function printLfns(r: SiteScanResult, json: boolean): void {
  const rows = r.records.map((x) => ({ lfn: x.lfn, disk: x.diskId, dataPath: x.dataPath, linked: x.nsPath !== undefined, strpver: x.strpver, filesize: x.filesize }))
    .sort((a, b) => (a.lfn ?? '').localeCompare(b.lfn ?? ''));
  if (json) {
    printJson({ lfns: rows });
    return;
  }
  for (const row of rows) process.stdout.write(`${row.lfn ?? `(no LFN: ${row.dataPath})`}\n`);
}

function describe(r: SiteScanResult, records: boolean): string {
  let out = table(['disk', 'space', 'buckets', 'archives', 'status'], r.disks.map((d) => [d.disk.path, d.disk.space, d.buckets, d.files, d.error ? `unreadable (${d.error})` : 'ok']));
  const bytes = r.records.reduce((a, x) => a + x.size, 0);
  out += `\n${r.records.length} archives, ${formatBytes(bytes)}, ${r.links.length} namespace symlinks, ${(r.elapsedMs / 1000).toFixed(1)} s\n`;
  if (records) {
    out += '\n' + table(['lfn', 'disk', 'strpver', 'filesize', 'blocks', 'crc', 'status'], r.records.map((x) => [x.lfn ?? '-', x.diskId, x.strpver ?? '-', x.filesize ?? '-', x.nblocks, x.crcKind ?? '-', x.parseStatus]));
  }
  if (r.findings.length === 0) return out + 'no findings\n';
  out += `\n${r.findings.length} findings:\n`;
  out += table(['severity', 'kind', 'path', 'reason'], r.findings.map((f: Finding) => [f.severity, f.kind, JSON.stringify(f.path).slice(1, -1), f.reason]));
  return out;
}
