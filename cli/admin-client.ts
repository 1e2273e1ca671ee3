// Connection to a coordinator's Admin API for operator commands: address and TLS files from
// flags or environment (ECGUARD_COORDINATOR, ECGUARD_TLS_CA, ECGUARD_TLS_CERT, ECGUARD_TLS_KEY),
// or --insecure for a loopback demo. Calls are promisified with a deadline.
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import { AdminClient } from '../proto/gen/ecguard/v1/admin.js';
import { EcguardError, UsageError } from '../shared/errors.js';
import { clientCredentials } from '../shared/tls/tls-identity.js';

export interface AdminFlags {
  coordinator?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  json?: boolean;
}

export function addAdminOptions(cmd: Command): Command {
  return addConnectionOptions(cmd).option('--json', 'machine-readable output');
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--coordinator <host:port>', 'coordinator address (env ECGUARD_COORDINATOR, default localhost:7443)')
    .option('--tls-ca <pem>', 'CA certificate (env ECGUARD_TLS_CA)')
    .option('--tls-cert <pem>', 'admin certificate (env ECGUARD_TLS_CERT)')
    .option('--tls-key <pem>', 'admin key (env ECGUARD_TLS_KEY)')
    .option('--insecure', 'no TLS (loopback demos only)');
}

// The address each client was made for, so a failed call can name it.
const addresses = new WeakMap<AdminClient, string>();

export function adminClient(f: AdminFlags): AdminClient {
  const address = f.coordinator ?? process.env.ECGUARD_COORDINATOR ?? 'localhost:7443';
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):[0-9]{1,5}$/.test(address) || Number(address.slice(address.lastIndexOf(':') + 1)) > 65535) {
    throw new UsageError(`${f.coordinator !== undefined ? '--coordinator' : 'ECGUARD_COORDINATOR'} wants HOST:PORT (e.g. coord.example.org:7443), got ${JSON.stringify(address)}`);
  }
  if (f.insecure) {
    const c = new AdminClient(address, grpc.credentials.createInsecure());
    addresses.set(c, address);
    return c;
  }
  const ca = f.tlsCa ?? process.env.ECGUARD_TLS_CA;
  const cert = f.tlsCert ?? process.env.ECGUARD_TLS_CERT;
  const key = f.tlsKey ?? process.env.ECGUARD_TLS_KEY;
  if (!ca || !cert || !key) throw new UsageError('the coordinator needs TLS: give --tls-ca, --tls-cert and --tls-key (an admin certificate from deploy/make-certs.sh --admin NAME), or --insecure for a loopback demo');
  const c = new AdminClient(address, clientCredentials({ ca, cert, key }));
  addresses.set(c, address);
  return c;
}

type Method<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;

/** Calls one Admin method; errors become EcguardErrors that say what to do. */
export function call<Req, Res>(client: AdminClient, method: Method<Req, Res>, req: Req, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (!err) return resolve(res);
      const address = addresses.get(client) ?? 'the given address';
      if (err.code === grpc.status.UNAVAILABLE) {
        // gRPC's own text ("No connection established. Last error: …") says neither where nor what next
        reject(new EcguardError('COORDINATOR_UNREACHABLE', `cannot reach the coordinator at ${address} (${(err.details || err.message).replace(/\s*Resolution note:\s*$/, '')}): start it (ecguard coordinator) or give the right --coordinator HOST:PORT (env ECGUARD_COORDINATOR) and TLS files`, { cause: err }));
        return;
      }
      // the Admin API sends "CODE: message" for its own errors: keep that stable code for scripts
      const own = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/.exec(err.details ?? '');
      reject(new EcguardError(own?.[1] ?? 'COORDINATOR', `coordinator at ${address}: ${own?.[2] ?? (err.details || err.message)}`, { cause: err }));
    });
  });
}
