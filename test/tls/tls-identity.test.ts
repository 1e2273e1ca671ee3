// Mutual TLS end to end: certificates from the real deploy/make-certs.sh, a real grpc-js server
// on loopback whose handlers report peerIdentity(call), and clients with each kind of cert.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { repoRoot } from '../helpers/cli.js';
import { EcguardError } from '../../shared/errors.js';
import {
  clientCredentials,
  insecureWarning,
  isLoopbackAddress,
  peerIdentity,
  requireServerPeer,
  serverCredentials,
  type PeerIdentity,
  type TlsFiles,
} from '../../shared/tls/tls-identity.js';

const script = join(repoRoot, 'deploy', 'make-certs.sh');

function makeCerts(dir: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', [script, dir, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// A hand-written service with JSON messages: no protoc needed to exercise the TLS layer.
const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v ?? null)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')) as unknown,
};
// grpc-js sends no message for a null response, so the identity is wrapped.
type Who = { peer: PeerIdentity | null };
const whoService: grpc.ServiceDefinition = {
  whoAmI: {
    path: '/ecguard.test.Who/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  whoAmIStream: {
    path: '/ecguard.test.Who/WhoAmIStream',
    requestStream: true,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const WhoClient = grpc.makeGenericClientConstructor(whoService, 'Who');

interface Running {
  server: grpc.Server;
  port: number;
  calls: number;
}

async function startServer(creds: grpc.ServerCredentials): Promise<Running> {
  const server = new grpc.Server();
  const running: Running = { server, port: 0, calls: 0 };
  server.addService(whoService, {
    whoAmI: (call: grpc.ServerUnaryCall<unknown, Who>, cb: grpc.sendUnaryData<Who>) => {
      running.calls++;
      cb(null, { peer: peerIdentity(call) ?? null });
    },
    whoAmIStream: (call: grpc.ServerDuplexStream<unknown, Who>) => {
      running.calls++;
      call.on('data', () => call.write({ peer: peerIdentity(call) ?? null }));
      call.on('end', () => call.end());
    },
  });
  running.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
  return running;
}

function client(port: number, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): grpc.Client {
  return new WhoClient(`localhost:${port}`, creds, options);
}

function unary(c: grpc.Client): Promise<PeerIdentity | null> {
  const deadline = Date.now() + 5000;
  return new Promise((resolve, reject) =>
    c.makeUnaryRequest('/ecguard.test.Who/WhoAmI', json.serialize, json.deserialize, {}, { deadline }, (err, v) =>
      err ? reject(err) : resolve((v as Who).peer),
    ),
  );
}

function streamed(c: grpc.Client): Promise<PeerIdentity | null> {
  return new Promise((resolve, reject) => {
    const s = c.makeBidiStreamRequest('/ecguard.test.Who/WhoAmIStream', json.serialize, json.deserialize, { deadline: Date.now() + 5000 });
    s.on('data', (v: Who) => {
      resolve(v.peer);
      s.end();
    });
    s.on('error', reject);
    s.write({ hello: 1 });
  });
}

const sha256 = (pem: string): string => new X509Certificate(readFileSync(pem)).fingerprint256;

describe('mutual TLS identity (make-certs.sh + grpc-js)', () => {
  let dir: string;
  let certs: string;
  let otherCerts: string;
  let tls: Running;
  const clients: grpc.Client[] = [];
  const servers: grpc.Server[] = [];

  const files = (name: string, ca = certs): TlsFiles => ({ ca: join(ca, 'ca.pem'), cert: join(ca, `${name}.pem`), key: join(ca, `${name}.key`) });
  const open = (port: number, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions): grpc.Client => {
    const c = client(port, creds, options);
    clients.push(c);
    return c;
  };

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'ecguard-tls-'));
    certs = join(dir, 'certs');
    otherCerts = join(dir, 'other');
    const r = makeCerts(certs, '--coordinator', 'localhost', '--agents', 'srv01,srv02', '--admin', 'alice');
    assert.equal(r.code, 0, r.stderr);
    const o = makeCerts(otherCerts, '--agents', 'srv01');
    assert.equal(o.code, 0, o.stderr);
    tls = await startServer(serverCredentials(files('coordinator')));
    servers.push(tls.server);
  });

  after(() => {
    for (const c of clients) c.close();
    for (const s of servers) s.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('make-certs.sh reports what it made and keeps keys private', () => {
    for (const k of ['ca', 'coordinator', 'agent-srv01', 'agent-srv02', 'admin-alice']) {
      assert.equal(statSync(join(certs, `${k}.key`)).mode & 0o777, 0o600, `${k}.key mode`);
    }
    const agent = new X509Certificate(readFileSync(join(certs, 'agent-srv01.pem')));
    assert.match(agent.subjectAltName ?? '', /URI:ecguard:\/\/server\/srv01/);
    assert.ok(agent.checkIssued(new X509Certificate(readFileSync(join(certs, 'ca.pem')))));
    const coord = new X509Certificate(readFileSync(join(certs, 'coordinator.pem')));
    assert.match(coord.subjectAltName ?? '', /DNS:localhost/);
    assert.match(coord.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  });

  it('an agent certificate yields kind server and its id, on unary and streaming calls', async () => {
    const c = open(tls.port, clientCredentials(files('agent-srv01')));
    const u = await unary(c);
    assert.equal(u?.kind, 'server');
    assert.equal(u?.id, 'srv01');
    assert.match(u?.subject ?? '', /CN=srv01/);
    const s = await streamed(c);
    assert.deepEqual(s, u);
  });

  it('an admin certificate yields kind admin', async () => {
    const who = await unary(open(tls.port, clientCredentials(files('admin-alice'))));
    assert.deepEqual({ kind: who?.kind, id: who?.id }, { kind: 'admin', id: 'alice' });
  });

  it('an agent claiming another server id is refused with a clear reason', async () => {
    const who = await unary(open(tls.port, clientCredentials(files('agent-srv02'))));
    assert.ok(who);
    assert.doesNotThrow(() => requireServerPeer(who, 'srv02', false));
    assert.throws(
      () => requireServerPeer(who, 'srv01', false),
      (e: unknown) => e instanceof EcguardError && e.code === 'PEER_IDENTITY' && /claims server srv01.*names server srv02/.test(e.message),
    );
    assert.throws(() => requireServerPeer({ kind: 'admin', id: 'srv01', subject: 'CN=srv01' }, 'srv01', false), /names admin srv01/);
    assert.throws(() => requireServerPeer(undefined, 'srv01', false), /no verified certificate/);
    assert.doesNotThrow(() => requireServerPeer(undefined, 'srv01', true));
  });

  it('a client without a certificate is refused at the TLS layer', async () => {
    const before = tls.calls;
    const c = open(tls.port, grpc.credentials.createSsl(readFileSync(join(certs, 'ca.pem'))));
    // TLS 1.3: the server answers the empty Certificate message with a 'certificate required' alert
    await assert.rejects(unary(c), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /certificate required|alert/i.test(e.details));
    assert.equal(tls.calls, before, 'the handler never ran');
  });

  it('a certificate from a different CA is refused', async () => {
    const before = tls.calls;
    const foreign: TlsFiles = { ca: join(certs, 'ca.pem'), cert: join(otherCerts, 'agent-srv01.pem'), key: join(otherCerts, 'agent-srv01.key') };
    await assert.rejects(unary(open(tls.port, clientCredentials(foreign))), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
    // and a client trusting only the other CA refuses our coordinator
    await assert.rejects(unary(open(tls.port, clientCredentials(files('agent-srv01', otherCerts)))), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
    assert.equal(tls.calls, before);
  });

  it('a peer client can require the server id instead of the host name', async () => {
    const agentServer = await startServer(serverCredentials(files('agent-srv01')));
    servers.push(agentServer.server);
    // the dialled name is one the certificate does not carry: only the server id is checked
    const elsewhere = { 'grpc.ssl_target_name_override': 'srv01.elsewhere.invalid' };
    const ok = await unary(open(agentServer.port, clientCredentials(files('agent-srv02'), { expectServerId: 'srv01' }), elsewhere));
    assert.equal(ok?.id, 'srv02');
    await assert.rejects(unary(open(agentServer.port, clientCredentials(files('agent-srv02')), elsewhere)), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
    await assert.rejects(
      unary(open(agentServer.port, clientCredentials(files('agent-srv02'), { expectServerId: 'srv03' }))),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /expected ecguard server srv03.*names server srv01/.test(e.details),
    );
  });

  it('peerIdentity is undefined on an insecure connection, and --insecure says so loudly', async () => {
    const plain = await startServer(grpc.ServerCredentials.createInsecure());
    servers.push(plain.server);
    assert.equal(await unary(open(plain.port, grpc.credentials.createInsecure())), null);
    const text = insecureWarning('coordinator');
    assert.match(text, /INSECURE: ecguard coordinator/);
    assert.match(text, /loopback/);
    assert.ok(isLoopbackAddress('127.0.0.1:7000') && isLoopbackAddress('[::1]:7000') && isLoopbackAddress('localhost:1'));
    assert.ok(!isLoopbackAddress('0.0.0.0:7000') && !isLoopbackAddress('coord.example.org:7000') && !isLoopbackAddress('[::]:7000'));
  });

  it('missing, unreadable or mismatched files fail with TLS_FILES naming the file and the script', () => {
    const missing = { ...files('coordinator'), key: join(certs, 'nope.key') };
    assert.throws(
      () => serverCredentials(missing),
      (e: unknown) => e instanceof EcguardError && e.code === 'TLS_FILES' && e.message.includes('nope.key') && e.message.includes('deploy/make-certs.sh'),
    );
    const mismatched = { ...files('agent-srv01'), key: join(certs, 'agent-srv02.key') };
    assert.throws(() => clientCredentials(mismatched), (e: unknown) => e instanceof EcguardError && e.code === 'TLS_FILES' && /do not fit/.test(e.message));
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    assert.throws(() => clientCredentials({ ...files('agent-srv01'), ca: notPem }), /not PEM/);
  });

  it('make-certs.sh is idempotent: keeps the CA, adds only missing certificates', () => {
    const caBefore = sha256(join(certs, 'ca.pem'));
    const agentBefore = readFileSync(join(certs, 'agent-srv01.pem'), 'utf8');
    const r = makeCerts(certs, '--coordinator', 'localhost', '--agents', 'srv01,srv03');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /made: agent-srv03\.pem/);
    assert.match(r.stdout, /kept: agent-srv01\.pem/);
    assert.doesNotMatch(r.stdout, /made: ca\.pem/);
    assert.equal(sha256(join(certs, 'ca.pem')), caBefore);
    assert.equal(readFileSync(join(certs, 'agent-srv01.pem'), 'utf8'), agentBefore);
    const srv03 = new X509Certificate(readFileSync(join(certs, 'agent-srv03.pem')));
    assert.ok(srv03.checkIssued(new X509Certificate(readFileSync(join(certs, 'ca.pem')))));
  });

  it('make-certs.sh refuses to overwrite an existing key', () => {
    const key = join(certs, 'agent-srv09.key');
    writeFileSync(key, 'precious', { mode: 0o600 });
    const r = makeCerts(certs, '--agents', 'srv09');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refusing to overwrite the key/);
    assert.equal(readFileSync(key, 'utf8'), 'precious');
  });
});
