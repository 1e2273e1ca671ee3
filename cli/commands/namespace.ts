// `ecguard namespace check|rebuild`: the namespace cross-check, and recreating missing symlinks
// from Pfns. Standalone, rebuild trusts the Pfns (--trust-pfn required): files deleted while
// their disk was away come back — exactly what `frm_admin audit -fix` did. The coordinator's
// mode, which asks the other servers to confirm each LFN, is the safe one.
import type { Command } from 'commander';
import { applyRebuild, planRebuild } from '../../agent/namespace/namespace-rebuild.js';
import { namespaceRootProblem } from '../../agent/namespace/namespace-roots.js';
import { namespaceRoots, type SiteLayout } from '../../agent/scan/site-scanner.js';
import type { ArchiveRecord } from '../../shared/domain/archive-record.js';
import { EcguardError, UsageError } from '../../shared/errors.js';
import { addConnectionOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { EXIT } from '../exit-codes.js';
import { printJson, table } from '../output.js';
import { layoutFromFlags, type LayoutFlags } from '../site-layout.js';
import { addLayoutOptions, scanWithProgress } from './scan.js';

const NS_KINDS = new Set(['unreadable', 'data-without-symlink', 'dangling-symlink', 'stale-pfn', 'duplicate-lfn', 'hostile-pfn', 'foreign-symlink', 'missing-pfn']);

/** A namespace root that cannot be walked makes every data file look unlinked: stop before that. */
function requireNamespaceRoots(layout: SiteLayout): void {
  const problems = namespaceRoots(layout).map(namespaceRootProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new EcguardError('NAMESPACE_ROOT_UNUSABLE', `${problems.join('; ')}; nothing was checked or changed`);
}

const TRUST_WARNING = 'Rebuilding from Pfns alone trusts every data file: a file a user deleted while its disk was away still has a valid-looking Pfn and comes back (what `frm_admin audit -fix` did). Use it only when the namespace itself was lost; prefer the coordinator, which confirms each LFN with the other servers.';

export function registerNamespace(program: Command): void {
  const ns = program.command('namespace').description('check the namespace against the data files, or rebuild missing symlinks');
  addLayoutOptions(ns.command('check').description('report data files without symlinks, dangling and stale links, duplicate LFNs, hostile Pfns'))
    .option('--json', 'machine-readable output')
    .action(async (f: LayoutFlags & { json?: boolean }) => {
      const { layout, warnings } = layoutFromFlags(f);
      for (const w of warnings) process.stderr.write(`ecguard: config: ${w}\n`);
      requireNamespaceRoots(layout);
      const r = await scanWithProgress('namespace check', layout, f.json === true);
      const findings = r.findings.filter((x) => NS_KINDS.has(x.kind));
      process.exitCode = findings.some((x) => x.severity !== 'info') ? EXIT.PROBLEMS : EXIT.OK;
      if (f.json) printJson({ dataFiles: r.records.length, symlinks: r.links.length, findings });
      else {
        process.stdout.write(`${r.records.length} data files, ${r.links.length} symlinks\n`);
        process.stdout.write(findings.length === 0 ? 'namespace consistent\n' : table(['severity', 'kind', 'lfn', 'path', 'reason'], findings.map((x) => [x.severity, x.kind, x.lfn ?? '-', x.path, x.reason])));
      }
    });
  addConnectionOptions(addLayoutOptions(ns.command('rebuild').description('recreate missing symlinks (and directories) from Pfns, confirmed by the coordinator (or --trust-pfn); never overwrites')))
    .option('--dry-run', 'print the plan, change nothing')
    .option('--apply', 'create the symlinks')
    .option('--trust-pfn', 'standalone mode: accept every Pfn as live (see the warning it prints)')
    .option('--json', 'machine-readable output')
    .action(async (f: LayoutFlags & AdminFlags & { dryRun?: boolean; apply?: boolean; trustPfn?: boolean }) => {
      if (f.dryRun === f.apply) throw new UsageError('give exactly one of --dry-run or --apply');
      const withCoordinator = f.coordinator !== undefined || process.env.ECGUARD_COORDINATOR !== undefined;
      if (!f.trustPfn && !withCoordinator) {
        throw new UsageError(`rebuild needs evidence: give --coordinator (and the admin TLS flags) so the other servers confirm each LFN, or --trust-pfn. ${TRUST_WARNING}`);
      }
      if (f.trustPfn) process.stderr.write(`ecguard: warning: ${TRUST_WARNING}\n`);
      const { layout, warnings } = layoutFromFlags(f);
      for (const w of warnings) process.stderr.write(`ecguard: config: ${w}\n`);
      requireNamespaceRoots(layout);
      // the coordinator address and TLS files are checked before the scan (which may take hours)
      const c = f.trustPfn ? undefined : adminClient(f);
      const r = await scanWithProgress('namespace rebuild', layout, f.json === true);
      const unlinked = r.records.filter((x) => x.nsPath === undefined);
      let confirm: ((rec: ArchiveRecord) => string | undefined) | undefined;
      if (c) {
        const reply = await call(c, c.confirmLfns, { serverId: layout.serverId, candidates: unlinked.filter((x) => x.lfn !== undefined).map((x) => ({ lfn: x.lfn as string, ...(x.strpver !== undefined ? { strpver: x.strpver } : {}) })) });
        if (reply.pendingEvidence) throw new EcguardError('PENDING_EVIDENCE', 'the coordinator is in safe mode: it cannot confirm LFNs until every server has reported (see ecguard status); nothing was changed');
        const verdicts = new Map(reply.verdicts.map((v) => [v.lfn, v]));
        confirm = (rec) => {
          const v = rec.lfn !== undefined ? verdicts.get(rec.lfn) : undefined;
          return v?.confirmed ? undefined : `not confirmed by the coordinator: ${v?.reason ?? 'no verdict'}`;
        };
      }
      const plan = planRebuild(unlinked, r.findings, layout.disks, namespaceRoots(layout), confirm);
      const outcome = f.apply ? applyRebuild(plan) : undefined;
      process.exitCode = outcome && outcome.failed.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      if (f.json) {
        printJson({
          mode: f.apply ? 'apply' : 'dry-run', planned: plan.actions, skipped: plan.skipped,
          ...(outcome ? { created: outcome.created.length, failed: outcome.failed } : {}),
          ...(outcome && outcome.fixedOwners.length > 0 ? { fixedOwners: outcome.fixedOwners } : {}),
        });
        return;
      }
      const verb = f.apply ? 'created' : 'would create';
      for (const a of outcome ? outcome.created : plan.actions) process.stdout.write(`${verb} ${a.linkPath} -> ${a.target}${a.createDirs.length ? ` (+${a.createDirs.length} dirs)` : ''}\n`);
      for (const s of plan.skipped) process.stdout.write(`skipped ${s.lfn ?? s.path}: ${s.reason}\n`);
      for (const d of outcome?.fixedOwners ?? []) process.stdout.write(`fixed the owner of ${d} (left root's by an interrupted run)\n`);
      for (const x of outcome?.failed ?? []) process.stdout.write(`FAILED ${x.action.linkPath}: ${x.error}\n`);
    });
}
