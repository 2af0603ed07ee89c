// Weir's development Kafka broker: a single node (id 0) speaking the Kafka wire protocol well
// enough for kafkajs, librdkafka and Weir's own connectors, for local runs and tests. It is not
// a production Kafka: one replica, no security but optional SASL/PLAIN logins (sasl.ts), no quotas,
// no log retention.
//
// Each connection's requests are handled one at a time, in order (as a Kafka broker does);
// requests it cannot decode are logged and the connection is closed, never the broker.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ApiKeys, apiKeyName } from '../../common/kafka/protocol/api-keys.js';
import {
  decodeRequest,
  decodeRequestHeader,
  encodeResponse,
  supportedApiVersions,
  UnsupportedVersionError,
} from '../../common/kafka/protocol/codec.js';
import { ErrorCode } from '../../common/kafka/protocol/errors.js';
import { FrameReader } from '../../common/kafka/protocol/framing.js';
import type { Logger } from '../../common/logging.js';
import { GroupCoordinator } from './group-coordinator.js';
import { Handlers } from './handlers.js';
import { LogManager } from './log-manager.js';
import { TxnCoordinator } from './txn-coordinator.js';
import { SaslAuthenticator } from './sasl.js';

export interface KafkaBrokerOptions {
  /** Address to bind (default 127.0.0.1). */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Data directory: logs, topics, offsets, transactions. */
  dir: string;
  /** Host advertised in metadata (default: the bind host, or 127.0.0.1 when binding 0.0.0.0). */
  advertisedHost?: string;
  /** num.partitions: partitions of auto-created topics and of CreateTopics with -1. */
  partitions: number;
  /** auto.create.topics.enable */
  autoCreateTopics: boolean;
  /** group.initial.rebalance.delay.ms (Kafka's default 3000; 0 here, for dev use). */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** log.segment.bytes */
  segmentBytes: number;
  /** log.flush.interval.ms: how often written data is fsynced. */
  flushIntervalMs: number;
  /** transaction.max.timeout.ms */
  transactionMaxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms (expired transactional ids are removed on the same tick) */
  transactionAbortCheckIntervalMs: number;
  /** transactional.id.expiration.ms: how long a transactional id with no ongoing transaction is kept unused. */
  transactionalIdExpirationMs: number;
  /** producer.id.expiration.ms: how long a partition keeps the idempotence state of an idle producer. */
  producerIdExpirationMs: number;
  /** producer.id.expiration.check.interval.ms */
  producerIdExpirationCheckIntervalMs: number;
  /** SASL/PLAIN users (name → password): when set, clients must log in (Kafka's SASL_PLAINTEXT). */
  saslUsers?: ReadonlyMap<string, string>;
  log: Logger;
}

export const DEFAULT_BROKER_OPTIONS: Omit<KafkaBrokerOptions, 'dir' | 'log'> = {
  host: '127.0.0.1',
  port: 9092,
  partitions: 1,
  autoCreateTopics: true,
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 1_800_000,
  segmentBytes: 1024 * 1024 * 1024,
  flushIntervalMs: 1000,
  transactionMaxTimeoutMs: 900_000,
  transactionAbortCheckIntervalMs: 1000,
  transactionalIdExpirationMs: 7 * 24 * 3600 * 1000,
  producerIdExpirationMs: 24 * 3600 * 1000,
  producerIdExpirationCheckIntervalMs: 600_000,
};

export interface KafkaBroker {
  host: string;
  port: number;
  dir: string;
  close(): Promise<void>;
}

function clusterIdOf(dir: string): string {
  const file = join(dir, 'cluster-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = randomBytes(16).toString('base64url');
  writeFileSync(file, id + '\n');
  return id;
}

export async function startKafkaBroker(opts: KafkaBrokerOptions): Promise<KafkaBroker> {
  const log = opts.log;
  mkdirSync(opts.dir, { recursive: true });
  const logs = new LogManager(join(opts.dir, 'logs'), opts.segmentBytes, log);
  const groups = new GroupCoordinator(opts.dir, logs, opts, log);
  const txns = new TxnCoordinator(
    opts.dir,
    logs,
    groups,
    {
      maxTimeoutMs: opts.transactionMaxTimeoutMs,
      abortCheckIntervalMs: opts.transactionAbortCheckIntervalMs,
      transactionalIdExpirationMs: opts.transactionalIdExpirationMs,
    },
    log,
  );
  const advertisedHost =
    opts.advertisedHost ?? (opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host);
  const settings = {
    nodeId: 0,
    advertisedHost,
    port: opts.port,
    clusterId: clusterIdOf(opts.dir),
    defaultPartitions: opts.partitions,
    autoCreateTopics: opts.autoCreateTopics,
  };
  const handlers = new Handlers(settings, logs, groups, txns, log);
  const sasl = new SaslAuthenticator(opts.saslUsers);
  const sockets = new Set<Socket>();
  let connections = 0;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, ++connections, handlers, log, sasl);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ err: e }, 'server error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  settings.port = port;

  const flusher = setInterval(() => {
    logs.flush();
    groups.flush();
    txns.flush();
  }, opts.flushIntervalMs);
  flusher.unref();
  const producerExpirer = setInterval(
    () => logs.expireProducers(opts.producerIdExpirationMs),
    opts.producerIdExpirationCheckIntervalMs,
  );
  producerExpirer.unref();

  let closed: Promise<void> | undefined;
  return {
    host: opts.host,
    port,
    dir: opts.dir,
    close() {
      closed ??= (async () => {
        clearInterval(flusher);
        clearInterval(producerExpirer);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        txns.close();
        groups.close();
        logs.close();
      })();
      return closed;
    },
  };
}

function serveConnection(socket: Socket, id: number, handlers: Handlers, log: Logger, sasl: SaslAuthenticator): void {
  socket.setNoDelay(true);
  const frames = new FrameReader();
  const queue: Buffer[] = [];
  let busy = false;
  const clientHost = socket.remoteAddress ?? '';
  const clog = log.child({ connection: id, remote: `${clientHost}:${socket.remotePort}` });
  const auth = sasl.session(socket, clog);

  const drop = (msg: string, err?: unknown) => {
    clog.warn({ err }, `${msg}; closing the connection`);
    queue.length = 0;
    socket.destroy();
  };

  const handle = async (frame: Buffer): Promise<void> => {
    if (!auth.admit(frame)) return; // SASL: ApiVersions, SaslHandshake, SaslAuthenticate come first
    let req;
    try {
      req = decodeRequest(frame);
    } catch (e) {
      if (e instanceof UnsupportedVersionError) {
        if (e.header.apiKey === ApiKeys.ApiVersions) {
          // KIP-511: answer with a v0 body carrying UNSUPPORTED_VERSION and our versions, so the
          // client retries with one it shares with us.
          socket.write(
            encodeResponse(ApiKeys.ApiVersions, 0, e.header.correlationId, {
              errorCode: ErrorCode.UNSUPPORTED_VERSION,
              apiKeys: supportedApiVersions(),
            }),
          );
          return;
        }
        return drop(
          `unsupported request ${apiKeyName(e.header.apiKey)} v${e.header.apiVersion} from client '${e.header.clientId}'`,
        );
      }
      let what = 'a malformed request';
      try {
        const h = decodeRequestHeader(frame);
        what = `a malformed ${apiKeyName(h.apiKey)} v${h.apiVersion} request`;
      } catch {
        // not even a header
      }
      return drop(`cannot decode ${what}: ${(e as Error).message}`);
    }
    const { header, body } = req;
    const handler = handlers.byKey.get(header.apiKey);
    if (!handler) return drop(`no handler for ${apiKeyName(header.apiKey)}`);
    let response: unknown;
    try {
      response = await handler(body, { clientId: header.clientId ?? '', clientHost, apiVersion: header.apiVersion });
    } catch (e) {
      return drop(`${apiKeyName(header.apiKey)} v${header.apiVersion} failed`, e);
    }
    if (response === undefined || socket.destroyed) return; // Produce with acks=0 has no response
    try {
      socket.write(encodeResponse(header.apiKey, header.apiVersion, header.correlationId, response as object));
    } catch (e) {
      drop(`cannot encode the ${apiKeyName(header.apiKey)} v${header.apiVersion} response`, e);
    }
  };

  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0 && !socket.destroyed) await handle(queue.shift()!);
    } finally {
      busy = false;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    let got: Buffer[];
    try {
      got = frames.push(chunk);
    } catch (e) {
      return drop('invalid frame', e);
    }
    if (got.length === 0) return;
    queue.push(...got);
    void pump();
  });
  socket.on('error', (e) => clog.debug({ err: e }, 'connection error'));
}
