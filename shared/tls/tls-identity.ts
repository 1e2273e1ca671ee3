// Mutual TLS for ecguard's gRPC links: credentials from the PEM files deploy/make-certs.sh
// writes, and the peer identity a server handler reads from the verified client certificate.
// Identities live in the SAN URI (ecguard://server/<id>, ecguard://admin/<name>) so a
// certificate names exactly one role; the CN is only a fallback for foreign certificates.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { EcguardError, errnoCode, errorText } from '../errors.js';

/** PEM file paths: the CA that signs every ecguard certificate, and this process's own pair. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export type PeerKind = 'server' | 'admin' | 'unknown';

export interface PeerIdentity {
  kind: PeerKind;
  /** Server id for 'server', operator name for 'admin', CN (or '') for 'unknown'. */
  id: string;
  /** Certificate subject on one line, for logs. */
  subject: string;
}

/** What peerIdentity needs from a grpc-js server call (unary and streaming calls all have it). */
export interface AuthContextCall {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
}

const MAKE_CERTS_HINT =
  'create them with deploy/make-certs.sh OUTDIR --coordinator HOST --agents ID,... [--admin NAME] ' +
  '(see deploy/README.md), or use --insecure for a loopback demo';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const URI_RE = /^ecguard:\/\/(server|admin)\/(.+)$/;

interface LoadedPems {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readPem(role: string, path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new EcguardError('TLS_FILES', `TLS ${role} file ${path} cannot be read (${errnoCode(err) ?? errorText(err)}); ${MAKE_CERTS_HINT}`, { cause: err });
  }
  if (!data.includes('-----BEGIN ')) {
    throw new EcguardError('TLS_FILES', `TLS ${role} file ${path} is not PEM; ${MAKE_CERTS_HINT}`);
  }
  return data;
}

// Reads and checks the files now, so a wrong path or a mismatched pair fails at start-up with a
// clear message instead of as an opaque handshake failure on the first connection.
function loadPems(files: TlsFiles): LoadedPems {
  const pems = { ca: readPem('CA certificate', files.ca), cert: readPem('certificate', files.cert), key: readPem('private key', files.key) };
  try {
    createSecureContext({ ca: pems.ca, cert: pems.cert, key: pems.key });
  } catch (err) {
    throw new EcguardError('TLS_FILES', `TLS files do not fit together (ca ${files.ca}, cert ${files.cert}, key ${files.key}): ${errorText(err)}; ${MAKE_CERTS_HINT}`, { cause: err });
  }
  const cert = new X509Certificate(pems.cert);
  if (Date.parse(cert.validTo) < Date.now()) {
    throw new EcguardError('TLS_FILES', `TLS certificate ${files.cert} expired on ${cert.validTo}; issue a new one with deploy/make-certs.sh`);
  }
  return pems;
}

/** Server credentials that require a client certificate signed by files.ca (refused in the handshake otherwise). */
export function serverCredentials(files: TlsFiles): grpc.ServerCredentials {
  const pems = loadPems(files);
  return grpc.ServerCredentials.createSsl(pems.ca, [{ cert_chain: pems.cert, private_key: pems.key }], true);
}

export interface ClientTlsOptions {
  /**
   * Accept the server only if its certificate names this ecguard server id (SAN URI), instead of
   * checking the dialled host name: agent certificates carry ids, not site host names.
   */
  expectServerId?: string;
}

/** Channel credentials for an agent or admin client: trusts only files.ca and presents files.cert. */
export function clientCredentials(files: TlsFiles, options: ClientTlsOptions = {}): grpc.ChannelCredentials {
  const pems = loadPems(files);
  const expected = options.expectServerId;
  const verify: grpc.VerifyOptions = {};
  if (expected !== undefined) {
    // The chain is still verified against the CA; this replaces only the host-name check.
    verify.checkServerIdentity = (_host, cert) => {
      const peer = identityOf(cert);
      if (peer?.kind === 'server' && peer.id === expected) return undefined;
      return new EcguardError('PEER_IDENTITY', `expected ecguard server ${expected}, but its certificate names ${describe(peer)}`);
    };
  }
  return grpc.credentials.createSsl(pems.ca, pems.key, pems.cert, verify);
}

/**
 * The verified client certificate's identity on a server call, or undefined when the connection
 * is not TLS (insecure mode). grpc-js 1.14 exposes only certificates that passed verification.
 */
export function peerIdentity(call: AuthContextCall): PeerIdentity | undefined {
  return identityOf(call.getAuthContext().sslPeerCertificate);
}

function identityOf(peer: PeerCertificate | undefined): PeerIdentity | undefined {
  if (peer?.raw === undefined || peer.raw.length === 0) return undefined;
  const cert = new X509Certificate(peer.raw);
  const subject = cert.subject.split('\n').join(', ');
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
  const uris = sanUris(cert.subjectAltName).flatMap((u) => {
    const m = URI_RE.exec(u);
    return m !== null && ID_RE.test(m[2] ?? '') ? [{ kind: m[1] as 'server' | 'admin', id: m[2] as string }] : [];
  });
  // Exactly one ecguard URI: a certificate claiming two roles is not trusted for either.
  const only = uris.length === 1 ? uris[0] : undefined;
  if (only !== undefined) return { kind: only.kind, id: only.id, subject };
  return { kind: 'unknown', id: cn, subject };
}

// Node prints SANs as "URI:a, DNS:b"; values holding separators are JSON-quoted, and those are
// never ids we issue, so they are skipped rather than unquoted.
function sanUris(san: string | undefined): string[] {
  if (san === undefined) return [];
  return san
    .split(', ')
    .filter((e) => e.startsWith('URI:') && !e.startsWith('URI:"'))
    .map((e) => e.slice(4));
}

function describe(peer: PeerIdentity | undefined): string {
  if (peer === undefined) return 'no certificate';
  if (peer.kind === 'unknown') return `no ecguard identity (subject ${peer.subject})`;
  return `${peer.kind} ${peer.id}`;
}

/**
 * Checks that an agent's certificate names the server id it claims (Hello). Throws
 * EcguardError 'PEER_IDENTITY' with the reason; peer undefined passes only when insecure.
 */
export function requireServerPeer(peer: PeerIdentity | undefined, claimedServerId: string, insecure: boolean): void {
  if (peer === undefined) {
    if (insecure) return;
    throw new EcguardError('PEER_IDENTITY', `agent claiming server ${claimedServerId} presented no verified certificate`);
  }
  if (peer.kind === 'server' && peer.id === claimedServerId) return;
  throw new EcguardError('PEER_IDENTITY', `agent claims server ${claimedServerId} but its certificate names ${describe(peer)}; refusing the session (impersonation or a misconfigured agent certificate)`);
}

/** True when a host or host:port names the loopback interface: the only place --insecure belongs. */
export function isLoopbackAddress(address: string): boolean {
  let host = address.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracket !== null) host = bracket[1] ?? '';
  else if (isIP(host) === 0) host = host.replace(/:\d+$/, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** The loud text every component prints (and logs at warn) when started with --insecure. */
export function insecureWarning(component: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! INSECURE: ecguard ${component} is running WITHOUT TLS (--insecure).`,
    '!! Nothing is encrypted and no peer is authenticated: anyone who can reach this port can',
    '!! pose as any agent or operator and change what ecguard believes about your storage.',
    '!! Use it only on loopback (127.0.0.1 / ::1) for demos and tests. For real use, create',
    '!! certificates with deploy/make-certs.sh and drop --insecure.',
    bar,
  ].join('\n');
}
