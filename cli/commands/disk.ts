// `ecguard disk accept PATH`: on a data server, accept the disk mounted at PATH as the one the
// agent knew there after its marker went missing, or trust a disk the scrub downgraded again
// (see agent/disk/disk-accept.ts).
import type { Command } from 'commander';
import { loadAgentConfig } from '../../agent/config/agent-config.js';
import { siteLayout } from '../../agent/config/site-layout.js';
import { acceptDisk } from '../../agent/disk/disk-accept.js';
import { requestDowngrade } from '../../agent/disk/disk-downgrade-request.js';
import { printJson } from '../output.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import type { SiteLayout } from '../../agent/scan/site-scanner.js';

export function registerDisk(program: Command): void {
  const disk = program.command('disk').description('actions on this data server\'s disks (run on the agent host; forget: against the coordinator)');
  disk.command('accept').argument('<path>', 'the oss.space disk path')
    .description('the disk mounted at PATH is the one the agent knew: write its marker again (the agent then rescans it)')
    .requiredOption('--config <yaml>', 'the agent config (its state directory and disks)')
    .option('--replaced', 'the disk is a new one (swapped, reformatted): give it a new identity; the agent reports the old disk\'s archives gone')
    .option('--clear-downgrade', 'end the scrub\'s downgrade of this disk (new placements may go there again); the archives it found corrupt stay unreadable until rebuilt')
    .option('--json', 'machine-readable output')
    .action((path: string, f: { config: string; replaced?: boolean; clearDowngrade?: boolean; json?: boolean }) => {
      const { cfg, layout } = agentSite(f.config);
      const r = acceptDisk(layout.disks, path, cfg.stateDir, layout.serverId, { replaced: f.replaced === true, clearDowngrade: f.clearDowngrade === true });
      if (f.json) {
        printJson(r);
        return;
      }
      const lines = [r.written
        ? `${r.path}: marker written with ${r.uuid}; the agent sees ${r.diskIds.join(', ')} ${r.downgradedSince ? 'again' : 'online'} at its next disk check (within 5 s)${r.downgradeCleared ? ', its downgrade cleared' : ''}`
        : `${r.path}: the marker already holds ${r.uuid}: nothing to do`];
      if (r.downgradedSince) lines.push(`${r.path} stays downgraded (since ${r.downgradedSince}, by the scrub): once the disk is checked, add --clear-downgrade`);
      process.stdout.write(lines.join('\n') + '\n');
    });
  disk.command('downgrade').argument('<path>', 'the oss.space disk path')
    .description('downgrade the disk mounted at PATH: no new repair placements there (its archives stay tracked); ended by disk accept --clear-downgrade')
    .requiredOption('--config <yaml>', 'the agent config (its disks)')
    .requiredOption('--reason <text>', 'why (shown with the disk and in the disk.downgraded event)')
    .option('--json', 'machine-readable output')
    .action((path: string, f: { config: string; reason: string; json?: boolean }) => {
      const { cfg, layout } = agentSite(f.config);
      const r = requestDowngrade(layout.disks, path, cfg.stateDir, f.reason);
      if (f.json) printJson(r);
      else process.stdout.write(`${r.path}: downgrade written to its marker; the agent shows ${r.diskIds.join(', ')} downgraded at its next disk check (within 5 s), and no new repair placements go there. To end it: ecguard disk accept ${r.path} --config ${f.config} --clear-downgrade\n`);
    });
  // against the coordinator, unlike the commands above: the disk is gone from its server
  addAdminOptions(disk.command('forget').argument('<id>', 'disk id (server:path, see ecguard disks)')
    .description('drop a missing or failed disk (retired, drained, replaced) from the coordinator\'s catalog for good: its archive rows go'))
    .action(async (id: string, f: AdminFlags) => {
      const c = adminClient(f);
      const r = await call(c, c.diskForget, { diskId: id });
      if (f.json) printJson(r);
      else process.stdout.write(r.message + '\n');
    });
}

/** The agent's config and the disks it works on (as its xrootd config says), for the disk commands. */
function agentSite(configFile: string): { cfg: ReturnType<typeof loadAgentConfig>; layout: SiteLayout } {
  const cfg = loadAgentConfig(configFile);
  const { layout } = siteLayout({
    xrootdConfig: cfg.xrootdConfig, serverId: cfg.serverId,
    ...(cfg.host !== undefined ? { host: cfg.host } : {}), ...(cfg.instance !== undefined ? { instance: cfg.instance } : {}), ...(cfg.spaces ? { spaces: cfg.spaces } : {}),
  });
  return { cfg, layout };
}
