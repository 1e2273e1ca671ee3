// `ecguard debris`: list debris and orphans (coordinator), move debris aside on complete evidence
// (`quarantine`, coordinator), and on a data server itself list what its disks keep in
// quarantine and put an archive back (`quarantined`, `restore`; no coordinator needed).
import type { Command } from 'commander';
import { sweepQuarantines, type QuarantineEntry } from '../../agent/debris/quarantine-sweep.js';
import { restoreQuarantine, type RestoreOutcome } from '../../agent/debris/quarantine-restore.js';
import { namespaceRoots, rootOf } from '../../agent/namespace/namespace-roots.js';
import { DEFAULT_DEBRIS_RETENTION } from '../../agent/config/agent-config.js';
import { parseDuration } from '../../shared/config/duration.js';
import { UsageError } from '../../shared/errors.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { EXIT } from '../exit-codes.js';
import { parseIntFlag } from '../options.js';
import { formatBytes, printJson, table } from '../output.js';
import { layoutFromFlags, type LayoutFlags } from '../site-layout.js';
import { addLayoutOptions } from './scan.js';

const QUARANTINE_TIMEOUT_MS = 15 * 60_000;

export function registerDebris(program: Command): void {
  const debris = addAdminOptions(program.command('debris').description('debris and orphan archives with the reason for each; quarantine and restore'))
    .option('--limit <n>', 'at most this many', '1000')
    .enablePositionalOptions() // the subcommands' options (--json, --limit) are their own
    .action(async (f: AdminFlags & { limit: string }) => listDebris(f));
  addAdminOptions(debris.command('list').description('debris and orphan archives, with the reason for each (the default)'))
    .option('--limit <n>', 'at most this many', '1000')
    .action(async (f: AdminFlags & { limit: string }) => listDebris(f));

  addAdminOptions(debris.command('quarantine').description('move debris aside on its server (kept debris.retention, then purged); never orphans, never in safe mode or while a server has not reported'))
    .option('--server <id>', 'only debris this server holds')
    .option('--prefix <lfn>', 'only debris of LFNs under this prefix')
    .option('--limit <n>', 'at most this many archives', '1000')
    .option('--dry-run', 'decide and list, move nothing')
    .action(async (f: AdminFlags & { server?: string; prefix?: string; limit: string; dryRun?: boolean }) => {
      const c = adminClient(f);
      const r = await call(c, c.quarantineDebris, {
        limit: parseIntFlag('--limit', f.limit, 1), dryRun: f.dryRun === true, ...(f.server ? { serverId: f.server } : {}), ...(f.prefix ? { prefix: f.prefix } : {}),
      }, QUARANTINE_TIMEOUT_MS);
      if (f.json) printJson(r);
      else process.stdout.write(table(['outcome', 'lfn', 'server', 'data path', 'size', 'reason'], r.actions.map((a) => [a.outcome, a.lfn, a.serverId, a.dataPath, formatBytes(Number(a.size)), `${a.code ? `${a.code}: ` : ''}${a.reason}`])) + r.message + '\n');
      process.exitCode = r.actions.some((a) => a.outcome === 'failed' || a.outcome === 'refused') ? EXIT.PROBLEMS : EXIT.OK;
    });

  addLayoutOptions(debris.command('quarantined').description('on a data server: what its disks keep in quarantine, and when each is purged'))
    .option('--retention <duration>', `the agent's debris.retention, for the purge times shown`, DEFAULT_DEBRIS_RETENTION)
    .option('--json', 'machine-readable output')
    .action((f: LayoutFlags & { retention: string; json?: boolean }) => {
      const retentionMs = parseDuration(f.retention);
      const { layout } = layoutFromFlags(f);
      const roots = namespaceRoots(layout);
      const r = sweepQuarantines(layout.disks.map((d) => ({ diskId: d.diskId, path: d.path })), { disk: () => undefined, namespaceRootOf: (p) => rootOf(p, roots), now: Date.now, retentionMs }, { retentionMs, purge: false, recover: false });
      const rows = r.kept.map((e: QuarantineEntry) => ({ orderId: e.manifest.orderId, diskId: e.diskId, path: e.path, lfn: e.manifest.lfn, dataPath: e.manifest.dataPath, size: e.manifest.size, at: new Date(e.manifest.at).toISOString(), purgeAfter: new Date(e.manifest.at + retentionMs).toISOString(), link: e.manifest.linkRemoved ? e.manifest.link?.path : undefined, reason: e.manifest.reason }));
      if (f.json) printJson({ quarantined: rows, problems: r.problems });
      else process.stdout.write(table(['order', 'lfn', 'data path', 'size', 'moved', 'purge after'], rows.map((x) => [x.orderId, x.lfn, `${x.diskId}: ${x.dataPath}`, formatBytes(x.size), x.at, x.purgeAfter])) + r.problems.map((p) => `problem: ${p}\n`).join(''));
      process.exitCode = r.problems.length ? EXIT.PROBLEMS : EXIT.OK;
    });

  addLayoutOptions(debris.command('restore').description('on a data server: put quarantined archives back (and their symlinks); never over anything'))
    .argument('[orders...]', 'quarantine order ids (see ecguard debris quarantined)')
    .option('--all', 'every quarantined archive of the disk(s)')
    .option('--dry-run', 'say what would be restored, change nothing')
    .option('--json', 'machine-readable output')
    .action((orders: string[], f: LayoutFlags & { all?: boolean; dryRun?: boolean; json?: boolean }) => {
      if ((orders.length > 0) === (f.all === true)) throw new UsageError('give quarantine order ids or --all (not both); list them with: ecguard debris quarantined --xrootd-config FILE');
      const { layout } = layoutFromFlags(f);
      const roots = namespaceRoots(layout);
      const disks = layout.disks.map((d) => ({ diskId: d.diskId, path: d.path }));
      const listed = sweepQuarantines(disks, { disk: () => undefined, namespaceRootOf: (p) => rootOf(p, roots), now: Date.now, retentionMs: 0 }, { retentionMs: 0, purge: false, recover: false }).kept;
      const wanted = f.all ? listed : orders.map((id) => {
        const e = listed.find((x) => x.manifest.orderId === id);
        if (!e) throw new UsageError(`no quarantine ${id} on this server's disks (${disks.map((d) => d.path).join(', ')}); nothing was restored`);
        return e;
      });
      const out: RestoreOutcome[] = wanted.map((e) => restoreQuarantine(disks.find((d) => d.diskId === e.diskId)?.path as string, e.manifest.orderId, (p) => rootOf(p, roots), { dryRun: f.dryRun === true }));
      if (f.json) printJson({ restored: out });
      else process.stdout.write(table(['order', 'lfn', 'restored', 'what happened'], out.map((x) => [x.orderId, x.lfn, x.restored ? 'yes' : 'no', x.message])));
      process.exitCode = !f.dryRun && out.some((x) => !x.restored) ? EXIT.PROBLEMS : EXIT.OK;
    });
}

async function listDebris(f: AdminFlags & { limit: string }): Promise<void> {
  const c = adminClient(f);
  const r = await call(c, c.listDebris, { limit: parseIntFlag('--limit', f.limit, 1) });
  if (f.json) printJson(r);
  else process.stdout.write((r.pendingEvidence ? 'SAFE MODE: pending evidence\n' : '') + table(['role', 'lfn', 'server', 'data path', 'reason'], r.archives.map((a) => [a.role, a.lfn, a.serverId, a.dataPath, a.reason])));
}
