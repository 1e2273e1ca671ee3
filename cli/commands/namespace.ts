// `ecguard namespace check|rebuild`: the namespace cross-check, and recreating missing symlinks
// from Pfns. Standalone, rebuild trusts the Pfns (--trust-pfn required): files deleted while
// their disk was away come back — exactly what `frm_admin audit -fix` did. The coordinator's
// mode, which asks the other servers to confirm each LFN, is the safe one.
import type { Command } from 'commander';
import { applyRebuild, planRebuild } from '../../agent/namespace/namespace-rebuild.js';
import { namespaceRoots, scanSite } from '../../agent/scan/site-scanner.js';
import { UsageError } from '../../shared/errors.js';
import { EXIT } from '../exit-codes.js';
import { printJson, table } from '../output.js';
import { layoutFromFlags, type LayoutFlags } from '../site-layout.js';
import { addLayoutOptions } from './scan.js';

const NS_KINDS = new Set(['data-without-symlink', 'dangling-symlink', 'stale-pfn', 'duplicate-lfn', 'hostile-pfn', 'foreign-symlink', 'missing-pfn']);

const TRUST_WARNING = 'Rebuilding from Pfns alone trusts every data file: a file a user deleted while its disk was away still has a valid-looking Pfn and comes back (what `frm_admin audit -fix` did). Use it only when the namespace itself was lost; prefer the coordinator, which confirms each LFN with the other servers.';

export function registerNamespace(program: Command): void {
  const ns = program.command('namespace').description('check the namespace against the data files, or rebuild missing symlinks');
  addLayoutOptions(ns.command('check').description('report data files without symlinks, dangling and stale links, duplicate LFNs, hostile Pfns'))
    .option('--json', 'machine-readable output')
    .action(async (f: LayoutFlags & { json?: boolean }) => {
      const { layout, warnings } = layoutFromFlags(f);
      for (const w of warnings) process.stderr.write(`ecguard: config: ${w}\n`);
      const r = await scanSite(layout, {});
      const findings = r.findings.filter((x) => NS_KINDS.has(x.kind));
      process.exitCode = findings.some((x) => x.severity !== 'info') ? EXIT.PROBLEMS : EXIT.OK;
      if (f.json) printJson({ dataFiles: r.records.length, symlinks: r.links.length, findings });
      else {
        process.stdout.write(`${r.records.length} data files, ${r.links.length} symlinks\n`);
        process.stdout.write(findings.length === 0 ? 'namespace consistent\n' : table(['severity', 'kind', 'lfn', 'path', 'reason'], findings.map((x) => [x.severity, x.kind, x.lfn ?? '-', x.path, x.reason])));
      }
    });
  addLayoutOptions(ns.command('rebuild').description('recreate missing symlinks (and directories) from Pfns; never overwrites'))
    .option('--dry-run', 'print the plan, change nothing')
    .option('--apply', 'create the symlinks')
    .option('--trust-pfn', 'standalone mode: accept every Pfn as live (see the warning it prints)')
    .option('--json', 'machine-readable output')
    .action(async (f: LayoutFlags & { dryRun?: boolean; apply?: boolean; trustPfn?: boolean; json?: boolean }) => {
      if (f.dryRun === f.apply) throw new UsageError('give exactly one of --dry-run or --apply');
      if (!f.trustPfn) {
        throw new UsageError(`standalone rebuild needs --trust-pfn. ${TRUST_WARNING} The coordinator mode (confirmed by other servers) comes with the coordinator.`);
      }
      process.stderr.write(`ecguard: warning: ${TRUST_WARNING}\n`);
      const { layout, warnings } = layoutFromFlags(f);
      for (const w of warnings) process.stderr.write(`ecguard: config: ${w}\n`);
      const r = await scanSite(layout, {});
      const unlinked = r.records.filter((x) => x.nsPath === undefined);
      const plan = planRebuild(unlinked, r.findings, layout.disks, namespaceRoots(layout));
      const outcome = f.apply ? applyRebuild(plan) : undefined;
      process.exitCode = outcome && outcome.failed.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      if (f.json) {
        printJson({ mode: f.apply ? 'apply' : 'dry-run', planned: plan.actions, skipped: plan.skipped, ...(outcome ? { created: outcome.created.length, failed: outcome.failed } : {}) });
        return;
      }
      const verb = f.apply ? 'created' : 'would create';
      for (const a of outcome ? outcome.created : plan.actions) process.stdout.write(`${verb} ${a.linkPath} -> ${a.target}${a.createDirs.length ? ` (+${a.createDirs.length} dirs)` : ''}\n`);
      for (const s of plan.skipped) process.stdout.write(`skipped ${s.lfn ?? s.path}: ${s.reason}\n`);
      for (const x of outcome?.failed ?? []) process.stdout.write(`FAILED ${x.action.linkPath}: ${x.error}\n`);
    });
}
