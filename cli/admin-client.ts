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

export function adminClient(f: AdminFlags): AdminClient {
  const address = f.coordinator ?? process.env.ECGUARD_COORDINATOR ?? 'localhost:7443';
  if (f.insecure) return new AdminClient(address, grpc.credentials.createInsecure());
  const ca = f.tlsCa ?? process.env.ECGUARD_TLS_CA;
  const cert = f.tlsCert ?? process.env.ECGUARD_TLS_CERT;
  const key = f.tlsKey ?? process.env.ECGUARD_TLS_KEY;
  if (!ca || !cert || !key) throw new UsageError('the coordinator needs TLS: give --tls-ca, --tls-cert and --tls-key (an admin certificate from deploy/make-certs.sh --admin NAME), or --insecure for a loopback demo');
  return new AdminClient(address, clientCredentials({ ca, cert, key }));
}

type Method<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;

/** Calls one Admin method; errors become EcguardErrors that say what to do. */
export function call<Req, Res>(client: AdminClient, method: Method<Req, Res>, req: Req, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (!err) return resolve(res);
      const hint = err.code === grpc.status.UNAVAILABLE ? ' (is the coordinator running, and are the address and TLS files right?)' : '';
      reject(new EcguardError('COORDINATOR', `${err.details || err.message}${hint}`, { cause: err }));
    });
  });
}
