// HTTP/2 receive windows for our gRPC servers. grpc-js lets a client widen its receive window
// ('grpc-node.flow_control_window') but gives a server no such option, so a server receives
// every client stream (a rebuilt archive sent to its holder by PlaceArchive, an agent's
// inventory batches to the coordinator) through HTTP/2's default 64 KiB window: the sender
// stops every 64 KiB until a WINDOW_UPDATE comes back. Measured on loopback with a busy holder,
// a 4 MiB PlaceArchive took 47-74 ms after its last entry; with 8 MiB windows 14-42 ms.
// grpc-js keeps its http2 servers private; these helpers reach them and say when they cannot
// (a grpc-js upgrade that moved them), so the server still runs, only slower.
import type { Http2Server, Http2Session, Settings } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/** Receive window of our clients (peer-pool.ts) and servers: a few 1 MiB entries in flight. */
export const FLOW_WINDOW_BYTES = 8 * 1024 * 1024;

interface ServerInternals {
  commonServerOptions?: { settings?: Settings };
  http2Servers?: Map<Http2Server, unknown>;
}

/**
 * Call before bindAsync: every stream's initial window (SETTINGS_INITIAL_WINDOW_SIZE). Returns
 * false when grpc-js no longer has the field this relies on.
 */
export function widenStreamWindows(server: grpc.Server, bytes = FLOW_WINDOW_BYTES): boolean {
  const s = server as unknown as ServerInternals;
  if (typeof s.commonServerOptions !== 'object' || s.commonServerOptions === null) return false;
  s.commonServerOptions.settings = { ...(s.commonServerOptions.settings ?? {}), initialWindowSize: bytes };
  return true;
}

/**
 * Call after bindAsync: the connection window of every session accepted from now on (HTTP/2
 * has one window per connection besides the per-stream ones). Returns false as above.
 */
export function widenSessionWindows(server: grpc.Server, bytes = FLOW_WINDOW_BYTES): boolean {
  const servers = (server as unknown as ServerInternals).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return false;
  for (const h of servers.keys()) {
    if (typeof h?.on !== 'function') return false;
    h.on('session', (session: Http2Session) => {
      try {
        session.setLocalWindowSize(bytes);
      } catch {
        // A session already closing: nothing to widen.
      }
    });
  }
  return true;
}

/** Both of the above around bindAsync; `warn` hears once if either could not be applied. */
export async function bindWithWideWindows(server: grpc.Server, bind: () => Promise<number>, warn: (msg: string) => void, bytes = FLOW_WINDOW_BYTES): Promise<number> {
  const streams = widenStreamWindows(server, bytes);
  const port = await bind();
  const sessions = widenSessionWindows(server, bytes);
  if (!streams || !sessions) {
    warn(`cannot widen the HTTP/2 receive windows of this gRPC server (grpc-js internals changed): clients sending to it stop every 64 KiB for a window update; uploads will be slower`);
  }
  return port;
}
