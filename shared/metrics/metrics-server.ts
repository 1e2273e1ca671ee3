// Serves a prom-client Registry as Prometheus text on GET /metrics (DESIGN.md §4: "/metrics on
// coordinator and agents"). It binds exactly the address it is given: the metrics are counts,
// states and sequence numbers, no secrets, no paths, no LFNs, so a non-loopback bind (what a
// Prometheus on another host needs) is fine; restrict who reaches it with the firewall as usual.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { EcguardError, errorText } from '../errors.js';
import { getLogger } from '../logger.js';

export interface MetricsServer {
  /** The port bound (the real one when asked for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

const log = getLogger('metrics');

/** Splits `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const rawPort = i >= 0 ? listen.slice(i + 1) : '';
  const port = Number(rawPort);
  if (i < 0 || !/^\d+$/.test(rawPort) || port > 65535) {
    throw new EcguardError('CONFIG_INVALID', `metrics address "${listen}" must be host:port (e.g. 127.0.0.1:9464, [::1]:9464, :9464)`);
  }
  let host = listen.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

async function handle(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }).end('method not allowed\n');
    return;
  }
  let body: string;
  try {
    // Collectors read the live state now, at scrape time.
    body = await registry.metrics();
  } catch (err) {
    // A failed read must not look like "all zero": Prometheus records the scrape as failed.
    log.warn(`metrics collection failed: ${errorText(err)}`);
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${errorText(err)}\n`);
    return;
  }
  res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Listens on `listen` (host:port, port 0 = any free port) and serves `registry` at /metrics. */
export async function startMetricsServer(registry: Registry, listen: string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    handle(registry, req, res).catch((err: unknown) => {
      log.warn(`metrics request failed: ${errorText(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // Scrapes are small and quick: do not let slow or idle clients hold sockets for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new EcguardError('LISTEN', `cannot serve metrics on ${listen}: ${err.message}`, { cause: err })));
    server.listen({ host: host === '' ? undefined : host, port }, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info(`metrics on http://${host === '' ? '*' : host.includes(':') ? `[${host}]` : host}:${bound}/metrics`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its connection alive between scrapes: do not wait for it to go.
        server.closeAllConnections();
      }),
  };
}
