// Operator commands against a running coordinator: status, files, servers, disks,
// server lost, safemode leave, catalog rebuild.
import type { Command } from 'commander';
import type { FileInfo, StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { FILE_STATES } from '../../shared/domain/file-health.js';
import { UsageError } from '../../shared/errors.js';
import { diskStateWire } from '../../shared/wire/enums.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { EXIT } from '../exit-codes.js';
import { parseIntFlag } from '../options.js';
import { formatBytes, printJson, table } from '../output.js';

const ago = (ms: number): string => {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

function statusText(s: StatusReply): string {
  const up = s.servers.filter((x) => x.state === 'up').length;
  let out = `cluster ${s.cluster}: ${up}/${s.servers.length} servers up, ${s.archives} archives${s.profile ? `, EC ${s.profile.nbData}+${s.profile.nbParity} chunk ${s.profile.chunkSize}` : ''}\n`;
  if (s.safeMode?.active) out += `SAFE MODE since ${ago(s.safeMode.sinceMs)}: ${s.safeMode.reason}${s.safeMode.waitingFor.length ? `; waiting for ${s.safeMode.waitingFor.join(', ')}` : ''}\n  (states are pending evidence; no repair or debris action; 'ecguard safemode leave' overrides)\n`;
  const raised = s.indicators.filter((i) => i.active);
  if (raised.length) out += raised.map((i) => `HEALTH ${i.name} since ${ago(i.sinceMs)}: ${i.details}\n`).join('');
  if (s.drains.length) out += `draining (no new placements; ecguard drain status): ${s.drains.join(', ')}\n`;
  if (s.census) out += `first census of a new catalog since ${ago(s.census.startedAtMs)}: ${s.census.files} files (${formatBytes(s.census.bytes)}) so far; ${s.census.notAnnounced} written before it get no file.created each (one census.completed at the end)\n`;
  out += '\nfiles:\n' + table(['state', 'files', 'bytes'], s.filesByState.map((x) => [x.state, x.count, formatBytes(x.bytes)]));
  out += '\ndisks:\n' + table(['state', 'disks'], s.disksByState.map((x) => [x.state, x.count]));
  const down = s.servers.filter((x) => x.state !== 'up');
  if (down.length) out += '\nservers not up:\n' + table(['server', 'state', 'since'], down.map((x) => [x.serverId, x.state, ago(x.sinceMs)]));
  return out;
}

export function registerAdmin(program: Command): void {
  addAdminOptions(program.command('status').description('one screen: servers, disks, files by state, safe mode'))
    .action(async (f: AdminFlags) => {
      const c = adminClient(f);
      const s = await call(c, c.status, {});
      if (f.json) printJson(s);
      else process.stdout.write(statusText(s));
      const bad = s.filesByState.filter((x) => ['critical', 'lost', 'unavailable'].includes(x.state) && x.count > 0);
      process.exitCode = bad.length ? EXIT.PROBLEMS : EXIT.OK;
    });

  const FILTERABLE = FILE_STATES.filter((x) => x !== 'pending');
  addAdminOptions(program.command('files').description('files, filtered by state, server, disk, LFN prefix or creation time'))
    .option('--state <states>', 'comma-separated states (healthy, degraded, critical, unavailable, lost, incomplete)')
    .option('--server <id>', 'files with an archive on this server')
    .option('--disk <id>', 'files with an archive on this disk (server:path)')
    .option('--prefix <lfn>', 'LFN prefix')
    .option('--created-since <time>', 'files whose latest version was first complete after this (ISO time or Unix ms)')
    .option('--limit <n>', 'at most this many (default: all, paged)')
    .option('--format <fmt>', 'table | paths', 'table')
    .action(async (f: AdminFlags & { state?: string; server?: string; disk?: string; prefix?: string; createdSince?: string; limit?: string; format: string }) => {
      // an unknown state would silently match nothing: an empty list that looks like good news
      const states = f.state !== undefined ? f.state.split(',').map((x) => x.trim()).filter((x) => x !== '') : [];
      const unknown = states.filter((x) => !(FILE_STATES as readonly string[]).includes(x));
      if (unknown.length > 0) throw new UsageError(`--state: unknown state ${unknown.map((x) => JSON.stringify(x)).join(', ')}; states are ${FILTERABLE.join(', ')}`);
      // 'pending' is how safe mode shows a state, never one stored: filtering by it finds nothing
      if (states.includes('pending')) throw new UsageError(`--state pending: files are shown as pending while safe mode waits for evidence; filter by the state they have (${FILTERABLE.join(', ')})`);
      if (f.format !== 'table' && f.format !== 'paths') throw new UsageError(`--format wants table or paths, got ${JSON.stringify(f.format)}`);
      const c = adminClient(f);
      let since: number | undefined;
      if (f.createdSince !== undefined) {
        since = /^[0-9]+$/.test(f.createdSince) ? Number(f.createdSince) : Date.parse(f.createdSince);
        if (!Number.isFinite(since)) throw new UsageError(`--created-since wants an ISO time or Unix milliseconds, got ${JSON.stringify(f.createdSince)}`);
      }
      const max = f.limit !== undefined ? parseIntFlag('--limit', f.limit, 1) : Infinity;
      const files: FileInfo[] = [];
      let after: string | undefined;
      let pending: boolean;
      do {
        const r = await call(c, c.listFiles, {
          states, limit: Math.min(10_000, max - files.length),
          ...(f.server ? { serverId: f.server } : {}), ...(f.disk ? { diskId: f.disk } : {}), ...(f.prefix ? { prefix: f.prefix } : {}),
          ...(since !== undefined ? { createdSinceMs: since } : {}), ...(after !== undefined ? { after } : {}),
        });
        files.push(...r.files);
        pending = r.pendingEvidence;
        after = r.next;
      } while (after !== undefined && files.length < max);
      if (f.json) printJson({ files, pendingEvidence: pending });
      else if (f.format === 'paths') for (const x of files) process.stdout.write(x.lfn + '\n');
      else {
        if (pending) process.stdout.write('SAFE MODE: states are pending evidence\n');
        process.stdout.write(table(['lfn', 'state', 'redundancy', 'size', 'reason'], files.map((x) => [x.lfn, x.state, x.redundancy, formatBytes(x.bytes), x.reason])));
      }
    });

  addAdminOptions(program.command('servers').description('servers and their state')).action(async (f: AdminFlags) => {
    const c = adminClient(f);
    const r = await call(c, c.listServers, {});
    if (f.json) printJson(r);
    // syncs since the coordinator started: full inventories / journal replays / digest resyncs (records re-sent)
    else process.stdout.write(table(['server', 'state', 'since', 'connected', 'last seen', 'applied seq', 'syncs full/replay/digest'], r.servers.map((s) => [s.serverId, s.state, ago(s.sinceMs), s.connected ? 'yes' : 'no', ago(s.lastSeenMs), s.appliedSeq,
      `${s.fullInventories}/${s.replays}/${s.digestResyncs}${s.digestResyncs > 0 ? ` (${s.digestRecords} re-sent)` : ''}`])));
  });

  addAdminOptions(program.command('disks').description('disks and their state')).option('--server <id>', 'only this server').action(async (f: AdminFlags & { server?: string }) => {
    const c = adminClient(f);
    const r = await call(c, c.listDisks, { ...(f.server ? { serverId: f.server } : {}) });
    // states by name, as the table shows them (the wire's enum numbers mean nothing to a script)
    if (f.json) printJson({ disks: r.disks.map((d) => ({ ...d, ...(d.disk ? { disk: { ...d.disk, state: diskStateWire.fromWire(d.disk.state) ?? 'unknown' } } : {}) })) });
    else {
      process.stdout.write(table(['disk', 'state', 'since', 'free', 'evidence'], r.disks.map((d) => [d.disk?.diskId ?? '', diskStateWire.fromWire(d.disk?.state ?? 0) ?? '?', ago(d.sinceMs), d.freeBytes !== undefined && d.totalBytes ? `${formatBytes(Number(d.freeBytes))} of ${formatBytes(Number(d.totalBytes))}` : '-', (d.disk?.evidence ?? []).join('; ')])));
      const down = r.disks.filter((d) => d.disk !== undefined && diskStateWire.fromWire(d.disk.state) === 'downgraded');
      if (down.length > 0) {
        process.stdout.write(`\n${down.length} disk(s) downgraded by the scrub: no new placements there. Once a disk is checked (SMART, ecguard scrub), on its server: ecguard disk accept PATH --config agent.yaml --clear-downgrade\n`);
      }
    }
  });

  const server = program.command('server').description('server actions');
  addAdminOptions(server.command('lost').argument('<id>', 'server id').description('declare a down server lost: its archives stop counting and repair may start')).action(async (id: string, f: AdminFlags) => {
    const c = adminClient(f);
    const r = await call(c, c.serverLost, { serverId: id });
    if (f.json) printJson(r);
    else process.stdout.write(r.message + '\n');
  });

  addAdminOptions(server.command('forget').argument('<id>', 'server id').description('drop a lost server (retired, drained) from the catalog for good: its disks and archive rows go; it must be declared lost first')).action(async (id: string, f: AdminFlags) => {
    const c = adminClient(f);
    const r = await call(c, c.serverForget, { serverId: id });
    if (f.json) printJson(r);
    else process.stdout.write(r.message + '\n');
  });

  const safemode = program.command('safemode').description('safe mode');
  addAdminOptions(safemode.command('leave').description('leave safe mode now, without waiting for every server')).action(async (f: AdminFlags) => {
    const c = adminClient(f);
    const r = await call(c, c.leaveSafeMode, {});
    if (f.json) printJson(r);
    else process.stdout.write(r.message + '\n');
  });

  const catalog = program.command('catalog').description('catalog actions');
  addAdminOptions(catalog.command('rebuild').description('forget what agents told and have every agent send a full inventory')).action(async (f: AdminFlags) => {
    const c = adminClient(f);
    const r = await call(c, c.rebuildCatalog, {});
    if (f.json) printJson(r);
    else process.stdout.write(r.message + '\n');
  });
}
