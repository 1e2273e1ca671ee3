// Wraps an async Admin handler: admin certificates only (unless insecure), and errors mapped to
// gRPC statuses with the stable code in the details ("CODE: message") for the CLI.
import * as grpc from '@grpc/grpc-js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { peerIdentity } from '../../shared/tls/tls-identity.js';

export type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

const PRECONDITION = new Set(['USAGE', 'SERVER_CONNECTED', 'SAFE_MODE', 'TASK_NOT_FAILED']);

export type AdminWrap = <Req, Res>(fn: (req: Req) => Promise<Res>) => Unary<Req, Res>;

export function adminCall(insecure: boolean): AdminWrap {
  return <Req, Res>(fn: (req: Req) => Promise<Res>): Unary<Req, Res> => (call, cb) => {
    if (!insecure) {
      const id = peerIdentity(call as unknown as Parameters<typeof peerIdentity>[0]);
      if (id?.kind !== 'admin') {
        cb({ code: grpc.status.PERMISSION_DENIED, details: `the Admin API needs an admin certificate (got ${id ? `${id.kind} ${id.id}` : 'none'}); make one with deploy/make-certs.sh --admin NAME` });
        return;
      }
    }
    fn(call.request).then((r) => cb(null, r), (err: unknown) => {
      const code = err instanceof EcguardError && (PRECONDITION.has(err.code) || err.code.startsWith('UNKNOWN')) ? grpc.status.FAILED_PRECONDITION : grpc.status.INTERNAL;
      cb({ code, details: err instanceof EcguardError ? `${err.code}: ${err.message}` : errorText(err) });
    });
  };
}
