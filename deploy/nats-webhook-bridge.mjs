#!/usr/bin/env node
// ecguard NATS → webhook bridge (an example to adapt; see docs/events.md "Consuming events").
//
// Reads ecguard events from the JetStream stream ECGUARD through a *durable* pull consumer and
// POSTs each one, as JSON, to a webhook. A message is acknowledged only after the webhook
// answered 2xx, so a bridge or webhook outage loses nothing: unacknowledged events are
// delivered again, in order (one event in flight at a time), when both are back.
//
//   WEBHOOK_URL=https://alerts.example.org/hook NATS_URL=nats://nats1:4222 \
//     node deploy/nats-webhook-bridge.mjs
//
// Environment:
//   WEBHOOK_URL          required; where events are POSTed
//   WEBHOOK_FORMAT       event (default): the event's JSON as published;
//                        text: {"text": "critical file.lost: <reason>"} (Slack/Mattermost style)
//   WEBHOOK_TIMEOUT_MS   per request, default 10000
//   NATS_URL             default nats://127.0.0.1:4222 (comma-separated for a cluster)
//   ECGUARD_FILTER       consumer subject filter, default ecguard.*.> (every cluster);
//                        e.g. ecguard.prod.> or ecguard.*.file.>
//   ECGUARD_SEVERITIES   severities forwarded, default warning,critical (others are acked, skipped)
//   ECGUARD_DURABLE      consumer name, default ecguard-webhook: the server remembers what it acked
//   ECGUARD_DELIVER      new (default) or all: where a *new* consumer starts; "all" replays the
//                        whole stream (up to 30 days) to the webhook on the first start
//   RETRY_MIN_MS, RETRY_MAX_MS   backoff between attempts, default 1000 doubling to 60000
//   MAX_ATTEMPTS         0 (default) = retry forever; N = after N failed attempts, drop the
//                        event (terminate it in JetStream) with an error line, and go on
//
// Delivery is at least once: if the bridge dies between the webhook's 2xx and the ack, that
// event is POSTed again after a restart. Receivers that must not act twice should remember the
// `X-Ecguard-Event-Id` header (ids are time-ordered). Logs go to stderr, one line each.
// Needs nats-server 2.9.4+ and the npm packages @nats-io/transport-node and @nats-io/jetstream.
// NATS credentials or TLS: add them to the connect() options below.
/* global fetch, AbortController, AbortSignal */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';

const STREAM = 'ECGUARD';
const env = process.env;
const cfg = {
  webhook: env.WEBHOOK_URL ?? '',
  format: env.WEBHOOK_FORMAT ?? 'event',
  timeoutMs: Number(env.WEBHOOK_TIMEOUT_MS ?? 10_000),
  servers: (env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((s) => s.trim()).filter(Boolean),
  filter: env.ECGUARD_FILTER ?? 'ecguard.*.>',
  severities: new Set((env.ECGUARD_SEVERITIES ?? 'warning,critical').split(',').map((s) => s.trim()).filter(Boolean)),
  durable: env.ECGUARD_DURABLE ?? 'ecguard-webhook',
  deliver: env.ECGUARD_DELIVER ?? 'new',
  retryMinMs: Number(env.RETRY_MIN_MS ?? 1000),
  retryMaxMs: Number(env.RETRY_MAX_MS ?? 60_000),
  maxAttempts: Number(env.MAX_ATTEMPTS ?? 0),
};
// The server redelivers a message not acked within this; we signal "working" well inside it.
const ACK_WAIT_MS = 30_000;

function log(level, text) {
  console.error(`${new Date().toISOString()} ${level} [nats-webhook-bridge] ${text}`);
}

function fail(text) {
  log('error', text);
  process.exit(2);
}

if (!/^https?:\/\//.test(cfg.webhook)) fail('WEBHOOK_URL must be an http(s) URL');
if (!['event', 'text'].includes(cfg.format)) fail('WEBHOOK_FORMAT must be event or text');
if (!['new', 'all'].includes(cfg.deliver)) fail('ECGUARD_DELIVER must be new or all');
for (const k of ['timeoutMs', 'retryMinMs', 'retryMaxMs', 'maxAttempts']) {
  if (!Number.isFinite(cfg[k]) || cfg[k] < 0) fail(`${k} must be a number >= 0`);
}

const stopping = new AbortController();

/** Creates the durable consumer, or checks the existing one filters what we were asked for. */
async function ensureConsumer(jsm) {
  let info;
  try {
    info = await jsm.consumers.info(STREAM, cfg.durable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  if (!info) {
    await jsm.consumers.add(STREAM, {
      durable_name: cfg.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: cfg.deliver === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
      filter_subject: cfg.filter,
      // One event in flight: the webhook sees events in stream order, redeliveries included.
      max_ack_pending: 1,
      ack_wait: nanos(ACK_WAIT_MS),
    });
    log('info', `created durable consumer ${cfg.durable} on ${STREAM} (filter ${cfg.filter}, deliver ${cfg.deliver})`);
    return;
  }
  if (info.config.filter_subject !== cfg.filter) {
    // An old consumer with another filter would silently forward the wrong events.
    fail(`consumer ${cfg.durable} exists with filter ${info.config.filter_subject ?? '(none)'}, not ${cfg.filter}: delete it (nats consumer rm ${STREAM} ${cfg.durable}) or set ECGUARD_DURABLE`);
  }
}

function body(raw, event) {
  if (cfg.format === 'event') return raw;
  return JSON.stringify({ text: `${event.severity} ${event.type} (${event.cluster}): ${event.reason}` });
}

/** One POST; resolves true on 2xx, false (with a log line) otherwise. */
async function post(raw, event) {
  try {
    const res = await fetch(cfg.webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'ecguard-webhook-bridge', 'x-ecguard-event-id': event.id, 'x-ecguard-event-type': event.type },
      body: body(raw, event),
      signal: AbortSignal.any([AbortSignal.timeout(cfg.timeoutMs), stopping.signal]),
    });
    await res.arrayBuffer().catch(() => undefined); // free the connection
    if (res.status >= 200 && res.status < 300) return true;
    log('warn', `webhook answered ${res.status} for event ${event.id}`);
  } catch (err) {
    if (!stopping.signal.aborted) log('warn', `webhook request for event ${event.id} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return false;
}

/** Waits `ms`, telling the server we still hold `m` so it is not redelivered meanwhile. */
async function wait(m, ms) {
  for (let left = ms; left > 0 && !stopping.signal.aborted; left -= ACK_WAIT_MS / 3) {
    m.working();
    await sleep(Math.min(left, ACK_WAIT_MS / 3), undefined, { signal: stopping.signal }).catch(() => undefined);
  }
}

let lastAcked = 0;

async function handle(m) {
  // A redelivery of what we already acked (an ack lost on the way): not sent twice.
  if (m.seq <= lastAcked) {
    m.ack();
    return;
  }
  let event;
  try {
    event = m.json();
  } catch {
    log('error', `stream sequence ${m.seq} on ${m.subject} is not JSON: dropped`);
    m.term('not JSON');
    return;
  }
  if (!cfg.severities.has(event.severity)) {
    m.ack();
    lastAcked = m.seq;
    return;
  }
  const raw = m.string();
  let delay = cfg.retryMinMs;
  for (let attempt = 1; !stopping.signal.aborted; attempt++) {
    m.working();
    if (await post(raw, event)) {
      await m.ackAck().catch((err) => log('warn', `ack of event ${event.id} not confirmed (it may be POSTed again): ${err.message}`));
      lastAcked = m.seq;
      log('info', `forwarded ${event.severity} ${event.type} ${event.id}${attempt > 1 ? ` after ${attempt} attempts` : ''}`);
      return;
    }
    if (cfg.maxAttempts > 0 && attempt >= cfg.maxAttempts) {
      log('error', `DROPPED event ${event.id} (${event.type}) after ${attempt} failed attempts: ${raw}`);
      m.term(`webhook failed ${attempt} times`);
      lastAcked = m.seq;
      return;
    }
    await wait(m, delay);
    delay = Math.min(delay * 2, cfg.retryMaxMs);
  }
  // Stopping: not acked, so the server delivers it again to the next bridge.
}

async function main() {
  log('info', `connecting to NATS ${cfg.servers.join(',')} (waits until it answers)`);
  const nc = await connect({ servers: cfg.servers, name: 'ecguard-webhook-bridge', waitOnFirstConnect: true, maxReconnectAttempts: -1 });
  log('info', `connected to NATS ${nc.getServer()}`);
  (async () => {
    for await (const s of nc.status()) if (s.type === 'disconnect' || s.type === 'reconnect') log('info', `NATS ${s.type} ${s.server ?? ''}`);
  })().catch(() => undefined);
  await ensureConsumer(await jetstreamManager(nc));
  const consumer = await jetstream(nc).consumers.get(STREAM, cfg.durable);
  const messages = await consumer.consume({ max_messages: 1 });

  const stop = (signal) => {
    if (stopping.signal.aborted) return;
    log('info', `${signal}: stopping`);
    stopping.abort();
    void messages.close();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log('info', `ready: ${cfg.filter} [${[...cfg.severities].join(',')}] -> ${cfg.webhook}`);
  for await (const m of messages) {
    if (stopping.signal.aborted) break;
    await handle(m);
  }
  await nc.drain();
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
