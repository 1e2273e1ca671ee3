// `ecguard scrub`: one data server's disks, standalone (no coordinator): every archive's entries
// read and CRC-checked against its zip directory. Reads only (no atime either, where allowed).
// Exit 1 when an archive has a corrupt or unreadable entry; the LFNs listed are the files to
// repair. The agent runs the same pass in the background (agent config `scrub:`).
import type { Command } from 'commander';
import { runScrubPass, type LocalScrubFinding as ScrubFinding, type ScrubPassSummary } from '../../agent/scrub/scrub-pass.js';
import { getCodec } from '../../shared/codec/index.js';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, printJson, table } from '../output.js';
import { parseIntFlag } from '../options.js';
import { layoutFromFlags, type LayoutFlags } from '../site-layout.js';
import { addLayoutOptions } from './scan.js';

interface ScrubFlags extends LayoutFlags {
  mbps?: string;
  json?: boolean;
}

const hex = (v: number | undefined): string => (v === undefined ? '-' : (v >>> 0).toString(16).padStart(8, '0'));

export function registerScrub(program: Command): void {
  addLayoutOptions(program.command('scrub').description('read every archive on a data server\'s disks and check each entry\'s CRC; changes nothing'))
    .option('--mbps <n>', 'read at most N MB/s (10^6 bytes), to spare xrootd\'s own reads; 0: no limit', '50')
    .option('--json', 'machine-readable output')
    .action(async (f: ScrubFlags) => {
      const mbps = parseIntFlag('--mbps', f.mbps ?? '50', 0);
      const { layout, warnings } = layoutFromFlags(f);
      for (const w of warnings) process.stderr.write(`ecguard: config: ${w}\n`);
      const bucket = mbps > 0 ? new TokenBucket(mbps * 1e6) : undefined;
      const findings: ScrubFinding[] = [];
      const tty = process.stderr.isTTY === true && f.json !== true;
      let shown = 0;
      const started = Date.now();
      const summary = await runScrubPass({
        disks: () => layout.disks, exports: layout.exports, ...(layout.localroot !== undefined ? { localroot: layout.localroot } : {}), codec: getCodec(),
        ...(bucket ? { take: (n: number) => bucket.take(n) } : {}),
        onFinding: (x) => void findings.push(x),
        onArchive: (_c, p) => {
          const now = Date.now();
          if (!tty || now - shown < 250) return;
          shown = now;
          const rate = p.bytes / Math.max(0.001, (now - started) / 1000);
          process.stderr.write(`\rscrub: ${p.diskId}: ${p.archives} archives, ${formatBytes(p.bytes)} (${formatBytes(rate)}/s), ${p.corruptArchives} corrupt   `);
        },
      });
      if (tty) process.stderr.write('\n');
      process.exitCode = findings.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      if (f.json) {
        printJson({ serverId: layout.serverId, summary: { ...summary, cursor: undefined }, findings: findings.map((x) => ({ ...x, problems: x.problems.map((p) => ({ ...p, expectedCrc: p.expectedCrc === undefined ? undefined : hex(p.expectedCrc), foundCrc: p.foundCrc === undefined ? undefined : hex(p.foundCrc) })) })) });
        return;
      }
      process.stdout.write(describe(summary, findings));
    });
}

function describe(s: ScrubPassSummary, findings: readonly ScrubFinding[]): string {
  const lines = [`${s.archives} archives, ${s.entries} entries, ${formatBytes(s.bytes)} read: ${s.corruptArchives === 0 ? 'no corrupt entries' : `${s.corruptArchives} archive(s) with corrupt or unreadable entries`}`];
  if (s.notArchives > 0) lines.push(`${s.notArchives} data file(s) are not readable XrdEc archives (\`ecguard scan\` says why)`);
  if (s.mixedCrcKinds > 0) lines.push(`${s.mixedCrcKinds} archive(s) mix CRC-32C and CRC-32 entries (not what XrdEc writes)`);
  for (const p of s.walkProblems) lines.push(`could not read ${p.path}: ${p.code}`);
  if (findings.length > 0) {
    const rows = findings.flatMap((x) => x.problems.slice(0, 20).map((p) => [x.lfn ?? '(no usable Pfn)', x.diskId, x.dataPath, p.name, p.kind, hex(p.expectedCrc), hex(p.foundCrc)]));
    lines.push('', table(['LFN', 'DISK', 'DATA FILE', 'ENTRY', 'PROBLEM', 'RECORDED', 'READ'], rows));
    lines.push('', 'Each file listed has a damaged archive on this server. With a coordinator, the agent\'s scrub reports it and the disk is downgraded; without one, rewrite the file (the operations guide\'s copy procedure).');
  }
  return lines.join('\n') + '\n';
}
