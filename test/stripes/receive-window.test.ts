// Our gRPC servers advertise 8 MiB HTTP/2 receive windows (stream and connection), which
// grpc-js has no server option for: checked from a plain HTTP/2 client, as a peer sees them.
import { strict as assert } from 'node:assert';
import { connect, type ClientHttp2Session } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { bindWithWideWindows, FLOW_WINDOW_BYTES } from '../../shared/grpc/receive-window.js';

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const bind = (server: grpc.Server) => (): Promise<number> =>
  new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

describe('gRPC server receive windows', () => {
  let server: grpc.Server | undefined;
  let session: ClientHttp2Session | undefined;
  afterEach(() => {
    session?.destroy();
    server?.forceShutdown();
    server = undefined;
    session = undefined;
  });

  it('advertises the wide stream window and widens the connection window', async () => {
    server = new grpc.Server();
    const warnings: string[] = [];
    const port = await bindWithWideWindows(server, bind(server), (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
    const s = connect(`http://127.0.0.1:${port}`);
    session = s;
    await new Promise<void>((resolve, reject) => {
      s.once('remoteSettings', () => resolve());
      s.once('error', reject);
    });
    assert.equal(s.remoteSettings.initialWindowSize, FLOW_WINDOW_BYTES);
    // The connection window arrives as a WINDOW_UPDATE after the settings.
    await until(() => (s.state.remoteWindowSize ?? 0) >= FLOW_WINDOW_BYTES, 'the connection window update');
  });

  it('a server without the wide windows keeps the 64 KiB default (what the helper changes)', async () => {
    server = new grpc.Server();
    const port = await bind(server)();
    const s = connect(`http://127.0.0.1:${port}`);
    session = s;
    await new Promise<void>((resolve) => s.once('remoteSettings', () => resolve()));
    assert.equal(s.remoteSettings.initialWindowSize, 65535);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok((s.state.remoteWindowSize ?? 0) < FLOW_WINDOW_BYTES);
  });

  it('warns, and still binds, when grpc-js internals are not where they were', async () => {
    const fake = {} as unknown as grpc.Server;
    const warnings: string[] = [];
    const port = await bindWithWideWindows(fake, () => Promise.resolve(4242), (m) => warnings.push(m));
    assert.equal(port, 4242);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /cannot widen the HTTP\/2 receive windows/);
  });
});
