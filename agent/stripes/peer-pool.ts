// One Stripes client per peer, so every read stream and placement to that peer shares one
// HTTP/2 connection (many repairs at once must not open a connection storm). With TLS a peer
// must prove it is the server id we dialled (its certificate's SAN URI).
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { StripesClient } from '../../proto/gen/ecguard/v1/stripes.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { FLOW_WINDOW_BYTES } from '../../shared/grpc/receive-window.js';
import { clientCredentials, isLoopbackAddress, type TlsFiles } from '../../shared/tls/tls-identity.js';
import { CODE_TRAILER } from './archive-ref.js';
import { FastStripesClient } from './stripes-service.js';

export interface PeerPoolOptions {
  readonly tls?: TlsFiles;
  /** No TLS: only loopback peers (demos, tests). */
  readonly insecure?: boolean;
  /** Default 16 MiB, like the servers. */
  readonly maxMessageBytes?: number;
}

export class PeerPool {
  private readonly clients = new Map<string, { address: string; client: StripesClient }>();
  private closed = false;

  constructor(private readonly o: PeerPoolOptions) {
    if (!o.insecure && !o.tls) throw new EcguardError('TLS_REQUIRED', 'talking to peers needs TLS files (deploy/make-certs.sh) or insecure mode on loopback');
  }

  /** The client for `serverId` at `address`; a new address replaces (and closes) the old client. */
  client(serverId: string, address: string): StripesClient {
    if (this.closed) throw new EcguardError('POOL_CLOSED', 'the peer pool is closed');
    const have = this.clients.get(serverId);
    if (have?.address === address) return have.client;
    if (this.o.insecure && !isLoopbackAddress(address)) {
      throw new EcguardError('INSECURE_NON_LOOPBACK', `insecure mode only talks to loopback peers, not ${serverId} at ${address}`);
    }
    const creds = this.o.insecure ? grpc.credentials.createInsecure() : clientCredentials(this.o.tls as TlsFiles, { expectServerId: serverId });
    const max = this.o.maxMessageBytes ?? 16 * 1024 * 1024;
    const client = new FastStripesClient(address, creds, {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 0,
      // Our own subchannel: never shared with (or torn down by) another client.
      'grpc.use_local_subchannel_pool': 1,
      // Entries are up to a chunk (often 1 MiB): with HTTP/2's default 64 KiB receive window a
      // peer streaming them waits for a WINDOW_UPDATE every 64 KiB.
      'grpc-node.flow_control_window': FLOW_WINDOW_BYTES,
      // The peer is checked by server id, not name; an IP as TLS ServerName only draws a warning.
      ...(!this.o.insecure && isIP(hostOf(address)) !== 0 ? { 'grpc.ssl_target_name_override': 'ecguard-agent' } : {}),
    });
    // Calls already running on the old channel finish; new ones use the new address.
    have?.client.close();
    this.clients.set(serverId, { address, client });
    return client;
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    this.closed = true;
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}

function hostOf(address: string): string {
  const bracket = /^\[([^\]]+)\]/.exec(address);
  if (bracket) return bracket[1] ?? '';
  return address.includes(':') ? address.slice(0, address.lastIndexOf(':')) : address;
}

/** What a failed call to a peer means to a repair: try elsewhere later, or the peer said no. */
export class PeerError extends EcguardError {
  constructor(
    code: 'PEER_UNAVAILABLE' | 'PEER_REFUSED' | 'PEER_BAD_REPLY',
    message: string,
    readonly serverId: string,
    /** The gRPC status, and the ecguard code the peer gave (e.g. UNKNOWN_ENTRY), when known. */
    readonly status?: grpc.status,
    readonly peerCode?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

const UNAVAILABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.CANCELLED]);

/** Maps a grpc-js error of a call to `serverId` to a PeerError naming the peer and what it said. */
export function peerError(err: unknown, serverId: string, what: string): EcguardError {
  if (err instanceof EcguardError) return err;
  const se = err as Partial<grpc.ServiceError>;
  if (typeof se.code !== 'number') return new PeerError('PEER_UNAVAILABLE', `${what} on ${serverId}: ${errorText(err)}`, serverId, undefined, undefined, { cause: err });
  const peerCode = se.metadata?.get(CODE_TRAILER)[0];
  const code = UNAVAILABLE.has(se.code) ? 'PEER_UNAVAILABLE' : 'PEER_REFUSED';
  const details = se.details ?? errorText(err);
  return new PeerError(code, `${what} on ${serverId}: ${grpc.status[se.code]}: ${details}`, serverId, se.code, typeof peerCode === 'string' ? peerCode : undefined, { cause: err });
}
