// gRPC helpers shared by both sides: proto loading, server start, promise-style unary calls.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import { lazyRequire } from './lazy-require.js';
import { packageRoot } from './package-root.js';

// The control plane needs it, a slot thread (whose data plane has its own codec) does not, and
// loading it with protobufjs is a tenth of a second.
const protoLoader = lazyRequire<typeof ProtoLoader>('@grpc/proto-loader');

const cache = new Map<string, grpc.GrpcObject>();

/** Loads proto/<file> with the options both sides must agree on. */
export function loadProto(file: string): grpc.GrpcObject {
  let pkg = cache.get(file);
  if (!pkg) {
    const def = protoLoader().loadSync(join(packageRoot(), 'proto', file), {
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    pkg = grpc.loadPackageDefinition(def);
    cache.set(file, pkg);
  }
  return pkg;
}

/** Resolves a dotted name such as 'weir.control.JobManagerGateway' inside a loaded package. */
export function serviceClient(pkg: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  let cur: unknown = pkg;
  for (const part of name.split('.')) cur = (cur as Record<string, unknown>)[part];
  if (typeof cur !== 'function') throw new Error(`gRPC service ${name} not found`);
  return cur as grpc.ServiceClientConstructor;
}

/** Channel options for both planes: large messages, quick reconnects, keepalive to notice dead peers. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
  // Channelz keeps per-call and per-message statistics for a channelz service, which Weir does not
  // serve: for every call between Weir processes, work nobody reads.
  'grpc.enable_channelz': 0,
};

/** Binds `server`; `credentials` from common/security (serverCredentials) between Weir processes. */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  credentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
      if (err) reject(new Error(`cannot bind gRPC server on ${host}:${port}: ${err.message}`));
      else resolve(bound);
    });
  });
}

/** Calls a unary method with a deadline and returns a promise. */
export function unary<Req, Res>(client: grpc.Client, method: string, req: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>)[method];
    if (!fn) return reject(new Error(`no gRPC method ${method}`));
    fn.call(client, req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: Res) => {
      if (err) reject(err);
      else resolve(res);
    });
  });
}

/** The peer cannot be reached (refused or dropped connection): gRPC's UNAVAILABLE, by code not message. */
export function isUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as grpc.ServiceError).code === grpc.status.UNAVAILABLE;
}

export function shutdownServer(server: grpc.Server, graceMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
