// `ecguard events`: the data-safety log — every event the coordinator recorded, in order,
// whether or not NATS was reachable; --follow keeps reading as new ones arrive.
import type { Command } from 'commander';
import type { EcguardEvent } from '../../shared/domain/event.js';
import { UsageError } from '../../shared/errors.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { parseIntFlag } from '../options.js';

export function registerEvents(program: Command): void {
  addAdminOptions(program.command('events').description('read the data-safety event log (and follow it)'))
    .option('--since <time>', 'events at or after this time (ISO time or Unix ms)')
    .option('--type <types>', 'comma-separated event types (file.degraded, disk.failed, …)')
    .option('--limit <n>', 'at most this many (without --follow)', '1000')
    .option('--follow', 'keep printing new events')
    .action(async (f: AdminFlags & { since?: string; type?: string; limit: string; follow?: boolean }) => {
      let since: number | undefined;
      if (f.since !== undefined) {
        since = /^[0-9]+$/.test(f.since) ? Number(f.since) : Date.parse(f.since);
        if (!Number.isFinite(since)) throw new UsageError(`--since wants an ISO time or Unix milliseconds, got ${JSON.stringify(f.since)}`);
      }
      const c = adminClient(f);
      const limit = parseIntFlag('--limit', f.limit, 1);
      let after: number | undefined;
      const collected: EcguardEvent[] = [];
      for (;;) {
        const r = await call(c, c.listEvents, { types: f.type ? f.type.split(',') : [], limit: f.follow ? 1000 : limit, ...(after !== undefined ? { afterSeq: after } : {}), ...(since !== undefined && after === undefined ? { sinceMs: since } : {}) });
        for (const e of r.events) {
          after = e.seq;
          const ev = JSON.parse(e.json) as EcguardEvent;
          if (f.json && !f.follow) collected.push(ev);
          else if (f.json) process.stdout.write(e.json + '\n');
          else process.stdout.write(`${ev.time}  ${ev.severity.padEnd(8)} ${ev.type.padEnd(18)} ${ev.subject.lfn ?? ev.subject.diskId ?? ev.subject.serverId ?? ev.subject.indicator ?? ''}  ${ev.reason}\n`);
        }
        if (!f.follow) break;
        await new Promise((res) => setTimeout(res, 1000));
      }
      if (f.json && !f.follow) process.stdout.write(JSON.stringify({ events: collected }, null, 2) + '\n');
    });
}
