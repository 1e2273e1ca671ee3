// The /metrics HTTP server over a real socket: Prometheus text with its content type, values
// read at scrape time, 404 elsewhere, 405 for other methods, 500 (not zeros) when a collector
// fails, port 0, address parsing, and a close() that does not wait for idle keep-alive clients.
import assert from 'node:assert/strict';
import http from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { EcguardError } from '../../shared/errors.js';
import { setLogLevel } from '../../shared/logger.js';
import { parseListen, startMetricsServer, type MetricsServer } from '../../shared/metrics/metrics-server.js';
import { httpGet, parseExposition, valueOf } from '../helpers/prom-text.js';

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  let value = 1;
  let failing = false;
  const registry = new Registry();
  new Gauge({
    name: 'test_value',
    help: 'a value read at scrape time',
    registers: [registry],
    collect() {
      if (failing) throw new Error('catalog unreachable');
      this.set(value);
    },
  });

  before(() => setLogLevel('error'));
  after(() => setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info'));
  afterEach(async () => {
    failing = false;
    await server?.close();
    server = undefined;
  });

  it('serves the registry at /metrics in the Prometheus text format, read at scrape time', async () => {
    server = await startMetricsServer(registry, '127.0.0.1:0');
    assert.ok(server.port > 0);
    const url = `http://127.0.0.1:${server.port}/metrics`;
    value = 7;
    const r = await httpGet(url);
    assert.equal(r.status, 200);
    assert.equal(r.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.contentType, registry.contentType);
    const e = parseExposition(r.body);
    assert.equal(e.types.get('test_value'), 'gauge');
    assert.equal(valueOf(e, 'test_value'), 7);
    value = 8;
    assert.equal(valueOf(parseExposition((await httpGet(`${url}?x=1`)).body), 'test_value'), 8);
    const head = await httpGet(url, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    server = await startMetricsServer(registry, '127.0.0.1:0');
    for (const p of ['/', '/metric', '/metrics/', '/metrics/x', '/favicon.ico', '/debug']) {
      assert.equal((await httpGet(`http://127.0.0.1:${server.port}${p}`)).status, 404, p);
    }
    const post = await httpGet(`http://127.0.0.1:${server.port}/metrics`, 'POST');
    assert.equal(post.status, 405);
  });

  it('fails the scrape with 500 when a collector fails, instead of serving zeros', async () => {
    server = await startMetricsServer(registry, '127.0.0.1:0');
    failing = true;
    const r = await httpGet(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(r.status, 500);
    assert.match(r.body, /catalog unreachable/);
  });

  it('closes while a keep-alive client is still connected', async () => {
    server = await startMetricsServer(registry, '127.0.0.1:0');
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`http://127.0.0.1:${(server as MetricsServer).port}/metrics`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
    const t0 = Date.now();
    await server.close();
    server = undefined;
    assert.ok(Date.now() - t0 < 2000);
    agent.destroy();
  });

  it('refuses a bad address and reports a port in use', async () => {
    assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen(':9464'), { host: '', port: 9464 });
    for (const bad of ['9464', 'localhost', 'host:', 'host:x', 'host:70000']) {
      assert.throws(() => parseListen(bad), (e: unknown) => e instanceof EcguardError && e.code === 'CONFIG_INVALID', bad);
    }
    server = await startMetricsServer(registry, '127.0.0.1:0');
    await assert.rejects(startMetricsServer(registry, `127.0.0.1:${server.port}`), (e: unknown) => e instanceof EcguardError && e.code === 'LISTEN');
  });
});
