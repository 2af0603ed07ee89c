// The one place gRPC servers and clients between processes get their security: server
// credentials and interceptors, channel credentials and the client interceptor that adds the
// proof of the internal secret. Both control plane (JobManager <-> TaskManager) and data plane
// (slot thread <-> slot thread) build their servers and clients here.
import { checkServerIdentity as checkIdentity, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logging.js';
import { CHANNEL_OPTIONS } from '../rpc.js';
import { AUTH_HEADER, createCallProof, REPLAYED } from './call-proof.js';
import type { InternalSecurity } from './internal-security.js';
import { internalAuthInterceptor, REFUSAL_PREFIX } from './server-auth.js';

const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * TLS server name sent by every client. Servers dialled by IP would otherwise get an IP as SNI,
 * which RFC 6066 forbids (Node warns); the certificate is checked against the address actually
 * dialled (subjectAltName IP or DNS entries) by our own check instead.
 */
const TLS_SERVER_NAME = 'weir-internal';

/** The host part of "host:port" or "[v6]:port". */
function hostOf(address: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(address) ?? /^([^:]+)(?::\d+)?$/.exec(address);
  return m ? m[1]! : address;
}

function proofInterceptor(secret: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(AUTH_HEADER, createCallProof(secret, options.method_definition.path));
        next(metadata, listener);
      },
    });
}

// One TLS context per process, settings and host dialled (the identity check is per host).
const credentialsCache = new WeakMap<InternalSecurity, Map<string, grpc.ChannelCredentials>>();

export function channelCredentials(sec: InternalSecurity, address: string): grpc.ChannelCredentials {
  const tls = sec.tls;
  if (!tls) return grpc.credentials.createInsecure();
  const host = hostOf(address);
  let byHost = credentialsCache.get(sec);
  if (!byHost) credentialsCache.set(sec, (byHost = new Map()));
  let creds = byHost.get(host);
  if (!creds) {
    // verify-hostname false: any certificate of the internal CA will do (the CA is the cluster's identity).
    const checkServerIdentity = tls.verifyHostname
      ? (_sni: string, cert: PeerCertificate) => checkIdentity(host, cert)
      : () => undefined;
    creds = grpc.credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert), {
      checkServerIdentity,
    });
    byHost.set(host, creds);
  }
  return creds;
}

export function clientOptions(sec: InternalSecurity, extra: grpc.ChannelOptions = {}): grpc.ClientOptions {
  return {
    ...CHANNEL_OPTIONS,
    ...extra,
    ...(sec.tls ? { 'grpc.ssl_target_name_override': TLS_SERVER_NAME } : {}),
    ...(sec.secret !== undefined ? { interceptors: [proofInterceptor(sec.secret)] } : {}),
  };
}

/** A client of another Weir process at `address` (host:port). */
export function createClient(
  Ctor: grpc.ServiceClientConstructor,
  address: string,
  sec: InternalSecurity,
  extra: grpc.ChannelOptions = {},
): grpc.Client {
  return new Ctor(address, channelCredentials(sec, address), clientOptions(sec, extra));
}

/** A gRPC server that refuses calls without proof of the secret (when one is set). */
export function createRpcServer(sec: InternalSecurity, log: Logger): grpc.Server {
  return new grpc.Server({
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
    'grpc.enable_channelz': CHANNEL_OPTIONS['grpc.enable_channelz'],
    ...(sec.secret !== undefined ? { interceptors: [internalAuthInterceptor(sec.secret, log)] } : {}),
  });
}

/** With TLS: the process's certificate, and only clients with a certificate from the CA. */
export function serverCredentials(sec: InternalSecurity): grpc.ServerCredentials {
  const tls = sec.tls;
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    Buffer.from(tls.ca),
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    true,
  );
}

/**
 * A call refused for good by the other process's security, as one line: a wrong or missing
 * internal secret, or (with TLS) a server certificate this process does not trust. undefined for
 * anything that may pass when asked again. (A server that refuses our certificate only drops the
 * connection, which looks like any other failure to connect.)
 */
export function permanentRefusal(err: unknown): string | undefined {
  const e = err as Partial<grpc.ServiceError>;
  const details = e?.details ?? '';
  if (e?.code === grpc.status.UNAUTHENTICATED)
    return details.startsWith(REFUSAL_PREFIX) && !details.endsWith(REPLAYED) ? details : undefined;
  if (e?.code !== grpc.status.UNAVAILABLE) return undefined;
  const last = /Last error: (?:Error(?: \[\w+\])?: )?(.*?)\.?\s*(?:Resolution note|$)/.exec(details)?.[1] ?? details;
  return /certificate|altnames/i.test(last)
    ? `its TLS certificate is not trusted here: ${last} (check security.ssl.internal.ca and the certificate's subjectAltName)`
    : undefined;
}
