// The Kafka requests Weir's connectors send, over the shared wire-protocol codec: cluster metadata,
// connections per broker, coordinators, and version negotiation. The connectors need two things
// no JavaScript Kafka client offers: reading assigned partitions without a consumer group (as
// Flink's KafkaSource assigns them) and committing a transaction of another process by its
// producer id and epoch (as Flink's KafkaSink recovers); both are plain Kafka requests here.
import type { SaslPlainCredentials } from '../../../common/kafka/protocol/connection.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiKeys, isRetriable, KafkaConnection, KafkaProtocolError } from '../../../common/kafka/protocol/index.js';

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionMetadata {
  partition: number;
  leader: number;
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  errorCode: number;
  partitions: PartitionMetadata[];
}

export interface ClusterMetadata {
  brokers: Map<number, BrokerAddress>;
  topics: Map<string, TopicMetadata>;
}

/** Versions Weir's requests are written for (non-flexible ones), intersected with the broker's. */
const OWN_VERSIONS: Partial<Record<number, [number, number]>> = {
  [ApiKeys.Produce]: [3, 8],
  [ApiKeys.Fetch]: [4, 11],
  [ApiKeys.ListOffsets]: [1, 5],
  [ApiKeys.Metadata]: [1, 8],
  [ApiKeys.OffsetCommit]: [2, 7],
  [ApiKeys.OffsetFetch]: [1, 5],
  [ApiKeys.FindCoordinator]: [1, 2],
  [ApiKeys.InitProducerId]: [0, 1],
  [ApiKeys.AddPartitionsToTxn]: [0, 2],
  [ApiKeys.EndTxn]: [0, 2],
};

/** Throws a KafkaProtocolError for a non-zero error code. */
export function check(errorCode: number | undefined, what: string): void {
  if (errorCode && errorCode !== 0) throw new KafkaProtocolError(errorCode, what);
}

export interface KafkaClientOptions {
  bootstrapServers: readonly string[];
  clientId: string;
  requestTimeoutMs: number;
  /** SASL/PLAIN credentials every connection logs in with (security.protocol SASL_PLAINTEXT; see kafka-security.ts). */
  sasl?: SaslPlainCredentials;
}

export class KafkaClient {
  private readonly connections = new Map<string, Promise<KafkaConnection>>();
  private versions: Map<number, number> | undefined;
  private brokers = new Map<number, BrokerAddress>();
  private closed = false;

  constructor(readonly options: KafkaClientOptions) {}

  /** A connection to host:port, made once and reused; a broken one is replaced on the next call. */
  private async connection(host: string, port: number): Promise<KafkaConnection> {
    if (this.closed) throw new Error('Kafka client closed');
    const key = `${host}:${port}`;
    const existing = this.connections.get(key);
    if (existing) {
      const conn = await existing.catch(() => undefined);
      if (conn && !conn.closed) return conn;
      if (this.connections.get(key) === existing) this.connections.delete(key);
      return this.connection(host, port);
    }
    const c = KafkaConnection.connect(host, port, {
      clientId: this.options.clientId,
      timeoutMs: this.options.requestTimeoutMs,
      sasl: this.options.sasl,
    });
    this.connections.set(key, c);
    try {
      return await c;
    } catch (e) {
      if (this.connections.get(key) === c) this.connections.delete(key);
      throw e;
    }
  }

  /** A connection to any bootstrap server that answers. */
  private async bootstrap(): Promise<KafkaConnection> {
    let last: unknown;
    for (const b of this.options.bootstrapServers) {
      const [host, port] = splitHostPort(b);
      try {
        return await this.connection(host, port);
      } catch (e) {
        // A refused login (wrong credentials, no SASL on the broker) is not an unreachable server.
        if (e instanceof KafkaProtocolError && !e.retriable) throw e;
        last = e;
      }
    }
    throw new Error(
      `cannot reach any Kafka bootstrap server (${this.options.bootstrapServers.join(', ')}): ${last instanceof Error ? last.message : String(last)}`,
    );
  }

  private async negotiate(conn: KafkaConnection): Promise<Map<number, number>> {
    if (this.versions) return this.versions;
    const res = await conn.request<{
      errorCode: number;
      apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
    }>(ApiKeys.ApiVersions, 0, {});
    check(res.errorCode, 'ApiVersions');
    const versions = new Map<number, number>();
    for (const k of res.apiKeys) {
      const own = OWN_VERSIONS[k.apiKey];
      if (!own) continue;
      const v = Math.min(own[1], k.maxVersion);
      if (v >= Math.max(own[0], k.minVersion)) versions.set(k.apiKey, v);
    }
    this.versions = versions;
    return versions;
  }

  /** Sends one request at the highest version both sides know. */
  async send<T>(conn: KafkaConnection, apiKey: number, body: object): Promise<T> {
    const versions = await this.negotiate(conn);
    const v = versions.get(apiKey);
    if (v === undefined)
      throw new Error(
        `the Kafka broker does not support ${ApiKeys[apiKey] ?? apiKey} at a version Weir speaks (${OWN_VERSIONS[apiKey]?.join('..')})`,
      );
    return conn.request<T>(apiKey, v, { ...body });
  }

  version(apiKey: number): number {
    return this.versions?.get(apiKey) ?? -1;
  }

  /** Metadata of the given topics (all topics: undefined). */
  async metadata(topics?: readonly string[], allowAutoTopicCreation = false): Promise<ClusterMetadata> {
    const conn = await this.bootstrap();
    const res = await this.send<{
      brokers: { nodeId: number; host: string; port: number }[];
      topics: {
        errorCode: number;
        name: string;
        partitions: { errorCode: number; partitionIndex: number; leaderId: number }[];
      }[];
    }>(conn, ApiKeys.Metadata, {
      topics: topics === undefined ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const brokers = new Map<number, BrokerAddress>();
    for (const b of res.brokers) brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port });
    this.brokers = brokers;
    const out = new Map<string, TopicMetadata>();
    for (const t of res.topics) {
      out.set(t.name, {
        name: t.name,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, errorCode: p.errorCode }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    for (const t of out.values()) {
      if (t.errorCode === 0 && t.partitions.length > 0)
        this.topics.set(t.name, { meta: t, partitions: t.partitions.map((p) => p.partition) });
      else this.topics.delete(t.name);
    }
    return { brokers, topics: out };
  }

  /** Topics as the last metadata request for them answered (healthy ones only), shared by the producers of a sink. */
  private readonly topics = new Map<string, { meta: TopicMetadata; partitions: number[] }>();

  /** The partitions of `topic` from the last metadata (undefined: not asked for yet, or in error). */
  knownPartitions(topic: string): number[] | undefined {
    return this.topics.get(topic)?.partitions;
  }

  /** The leader of a partition from the last metadata (-1: unknown). */
  leaderOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.meta.partitions.find((p) => p.partition === partition)?.leader ?? -1;
  }

  /** A connection to broker `nodeId` (metadata must have named it). */
  async broker(nodeId: number): Promise<KafkaConnection> {
    let b = this.brokers.get(nodeId);
    if (!b) {
      await this.metadata([]);
      b = this.brokers.get(nodeId);
    }
    if (!b) throw new Error(`Kafka broker ${nodeId} is not in the cluster metadata`);
    const conn = await this.connection(b.host, b.port);
    await this.negotiate(conn);
    return conn;
  }

  private readonly coordinators = new Map<string, BrokerAddress>();

  /** A coordinator answered that it is not (or no longer) the one: ask again next time. */
  forgetCoordinator(key: string, keyType: 0 | 1): void {
    this.coordinators.delete(`${keyType}:${key}`);
  }

  /** The group (keyType 0) or transaction (keyType 1) coordinator of `key`, remembered until forgotten. */
  async coordinator(key: string, keyType: 0 | 1): Promise<KafkaConnection> {
    const known = this.coordinators.get(`${keyType}:${key}`);
    if (known) {
      const c = await this.connection(known.host, known.port).catch(() => undefined);
      if (c) return c;
      this.forgetCoordinator(key, keyType);
    }
    const conn = await this.bootstrap();
    const deadline = Date.now() + this.options.requestTimeoutMs;
    for (;;) {
      const res = await this.send<{ errorCode: number; nodeId: number; host: string; port: number }>(
        conn,
        ApiKeys.FindCoordinator,
        { key, keyType },
      );
      if (res.errorCode === 0) {
        this.brokers.set(res.nodeId, { nodeId: res.nodeId, host: res.host, port: res.port });
        this.coordinators.set(`${keyType}:${key}`, { nodeId: res.nodeId, host: res.host, port: res.port });
        const c = await this.connection(res.host, res.port);
        await this.negotiate(c);
        return c;
      }
      // COORDINATOR_NOT_AVAILABLE while the coordinator loads: wait and ask again.
      if (!isRetriable(res.errorCode) || Date.now() > deadline) check(res.errorCode, `FindCoordinator for '${key}'`);
      await sleep(100);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values())
      c.then(
        (conn) => conn.close(),
        () => undefined,
      );
    this.connections.clear();
  }
}

export function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}
