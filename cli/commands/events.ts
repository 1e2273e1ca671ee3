// `ecguard events`: the data-safety log — every event the coordinator recorded, in order,
// whether or not NATS was reachable; --follow keeps reading as new ones arrive.
import type { Command } from 'commander';
import { EVENT_TYPES, type EcguardEvent } from '../../shared/domain/event.js';
import { UsageError } from '../../shared/errors.js';
import { addAdminOptions, adminClient, call, type AdminFlags } from '../admin-client.js';
import { parseIntFlag } from '../options.js';

const PAGE = 1000;

function line(ev: EcguardEvent): string {
  return `${ev.time}  ${ev.severity.padEnd(8)} ${ev.type.padEnd(18)} ${ev.subject.lfn ?? ev.subject.diskId ?? ev.subject.serverId ?? ev.subject.indicator ?? ''}  ${ev.reason}\n`;
}

export function registerEvents(program: Command): void {
  addAdminOptions(program.command('events').description('read the data-safety event log (and follow it): the newest events, or from --since on'))
    .option('--since <time>', 'events at or after this time (ISO time or Unix ms), oldest first; without it: the newest --limit events')
    .option('--type <types>', 'comma-separated event types (file.degraded,disk.failed,…)')
    .option('--limit <n>', 'at most this many (--follow: how many of the newest to show first, default 10)')
    .option('--follow', 'keep printing new events as they are recorded')
    .action(async (f: AdminFlags & { since?: string; type?: string; limit?: string; follow?: boolean }) => {
      let since: number | undefined;
      if (f.since !== undefined) {
        since = /^[0-9]+$/.test(f.since) ? Number(f.since) : Date.parse(f.since);
        if (!Number.isFinite(since)) throw new UsageError(`--since wants an ISO time or Unix milliseconds, got ${JSON.stringify(f.since)}`);
      }
      const types = f.type ? f.type.split(',').map((t) => t.trim()).filter((t) => t !== '') : [];
      // an unknown type would match nothing, and --follow would wait for it forever
      const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (unknown.length > 0) throw new UsageError(`--type: unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')}; types are ${EVENT_TYPES.join(', ')}`);
      const limit = parseIntFlag('--limit', f.limit ?? (f.follow ? '10' : '1000'), 0);
      const c = adminClient(f);
      const collected: EcguardEvent[] = [];
      const emit = (json: string): void => {
        const ev = JSON.parse(json) as EcguardEvent;
        if (f.json && !f.follow) collected.push(ev);
        else process.stdout.write(f.json ? json + '\n' : line(ev));
      };
      let after: number | undefined;
      let more = false;
      if (since === undefined) {
        // like tail: the newest first (then, with --follow, what comes after them)
        const r = limit === 0 ? undefined : await call(c, c.listEvents, { types, limit: Math.min(limit, PAGE), newest: true });
        for (const e of r?.events ?? []) emit(e.json);
        // follow from the newest event of any type (not only --type's: those may be old)
        after = f.follow ? Math.max(r?.events.at(-1)?.seq ?? 0, (await call(c, c.listEvents, { types: [], limit: 1, newest: true })).events.at(-1)?.seq ?? 0) : undefined;
        if (limit > PAGE && !f.follow) process.stderr.write(`showing the newest ${PAGE} (one page): for more, page through with --since\n`);
      } else {
        // from --since on, page by page up to --limit
        let shown = 0;
        while (shown < limit) {
          const r = await call(c, c.listEvents, { types, limit: Math.min(PAGE, limit - shown), newest: false, ...(after !== undefined ? { afterSeq: after } : { sinceMs: since }) });
          for (const e of r.events) emit(e.json);
          shown += r.events.length;
          after = r.events.at(-1)?.seq ?? after;
          more = r.more;
          if (!r.more) break;
        }
        if (more && !f.follow) process.stderr.write(`more events follow the ${shown} shown: raise --limit or use a later --since\n`);
      }
      while (f.follow) {
        const r = await call(c, c.listEvents, { types, limit: PAGE, newest: false, ...(after !== undefined ? { afterSeq: after } : since !== undefined ? { sinceMs: since } : {}) });
        for (const e of r.events) emit(e.json);
        after = r.events.at(-1)?.seq ?? after;
        if (!r.more) await new Promise((res) => setTimeout(res, 1000)); // caught up: poll
      }
      if (f.json) process.stdout.write(JSON.stringify({ events: collected, ...(more ? { more: true } : {}) }, null, 2) + '\n');
    });
}
