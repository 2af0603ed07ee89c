// A Kafka producer for the KafkaSink: records accumulate per partition and go out in record batches,
// one request in flight per leader so sequence numbers stay in order. Idempotent (producer id,
// epoch, sequence) for AT_LEAST_ONCE, transactional for EXACTLY_ONCE; a transaction another
// process prepared is committed by its producer id and epoch (resumeAndCommit), as Flink recovers.
import {
  ApiKeys,
  encodeRecordBatch,
  ErrorCode,
  errorName,
  isRetriable,
  KafkaProtocolError,
} from '../../../common/kafka/protocol/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { check, KafkaClient } from './kafka-client.js';
import { tpKey } from './kafka-offsets.js';

export interface OutRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  timestamp: number;
  headers: { key: string; value: Uint8Array | null }[];
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  records: OutRecord[];
  bytes: number;
  nextSequence: number;
}

export interface ProducerOptions {
  transactionalId?: string;
  idempotent: boolean;
  acks: number;
  lingerMs: number;
  batchBytes: number;
  requestTimeoutMs: number;
  transactionTimeoutMs: number;
  /** Ask the broker to create unknown topics (Kafka's allow.auto.create.topics). */
  autoCreateTopics: boolean;
}

export interface ProducerIdentity {
  producerId: number;
  epoch: number;
}

/** InitProducerId for `transactionalId` (or an idempotent producer): fences older producers of the id and aborts their open transaction. */
export async function initProducerId(
  client: KafkaClient,
  transactionalId: string | null,
  transactionTimeoutMs: number,
): Promise<ProducerIdentity> {
  const deadline = Date.now() + client.options.requestTimeoutMs;
  for (;;) {
    const conn = transactionalId
      ? await client.coordinator(transactionalId, 1)
      : await client.metadata([]).then(async (m) => client.broker([...m.brokers.keys()][0]!));
    const res = await client.send<{ errorCode: number; producerId: number | bigint; producerEpoch: number }>(
      conn,
      ApiKeys.InitProducerId,
      {
        transactionalId,
        transactionTimeoutMs,
        producerId: -1,
        producerEpoch: -1,
      },
    );
    if (res.errorCode === 0) return { producerId: Number(res.producerId), epoch: res.producerEpoch };
    if (!isRetriable(res.errorCode) || Date.now() > deadline)
      check(res.errorCode, `InitProducerId for '${transactionalId ?? 'idempotent producer'}'`);
    if (transactionalId) client.forgetCoordinator(transactionalId, 1);
    await sleep(100);
  }
}

/** EndTxn for a transaction by id, producer id and epoch (committing one a failed process prepared). */
export async function endTransaction(
  client: KafkaClient,
  transactionalId: string,
  who: ProducerIdentity,
  commit: boolean,
): Promise<void> {
  const deadline = Date.now() + client.options.requestTimeoutMs;
  for (;;) {
    const conn = await client.coordinator(transactionalId, 1);
    const res = await client.send<{ errorCode: number }>(conn, ApiKeys.EndTxn, {
      transactionalId,
      producerId: who.producerId,
      producerEpoch: who.epoch,
      committed: commit,
    });
    if (res.errorCode === 0) return;
    if (!isRetriable(res.errorCode) || Date.now() > deadline)
      check(res.errorCode, `${commit ? 'committing' : 'aborting'} transaction '${transactionalId}'`);
    client.forgetCoordinator(transactionalId, 1);
    await sleep(100);
  }
}

export class KafkaProducer {
  private readonly buffers = new Map<string, PartitionBuffer>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly txnPartitions = new Set<string>();
  private bufferedBytes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private identity: ProducerIdentity = { producerId: -1, epoch: -1 };
  private inTransaction = false;
  /** Records acknowledged by the broker. */
  acked = 0;
  bytesOut = 0;

  constructor(
    private readonly client: KafkaClient,
    readonly options: ProducerOptions,
  ) {}

  get producerIdentity(): ProducerIdentity {
    return this.identity;
  }

  get transactionalId(): string | undefined {
    return this.options.transactionalId;
  }

  async init(): Promise<void> {
    if (this.options.transactionalId !== undefined || this.options.idempotent) {
      this.identity = await initProducerId(
        this.client,
        this.options.transactionalId ?? null,
        this.options.transactionTimeoutMs,
      );
    }
  }

  /** Whether the open transaction holds anything (Kafka refuses to end an empty one). */
  get transactionHasData(): boolean {
    return this.txnPartitions.size > 0;
  }

  beginTransaction(): void {
    this.inTransaction = true;
    this.txnPartitions.clear();
  }

  /** Partitions of `topic`, asking for metadata (the client keeps it) when the topic is not known yet. */
  async partitionsOf(topic: string): Promise<number[]> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    for (;;) {
      const known = this.client.knownPartitions(topic);
      if (known) return known;
      // As Kafka producers do (allow.auto.create.topics): a broker that auto-creates topics creates it.
      const t = (await this.client.metadata([topic], this.options.autoCreateTopics)).topics.get(topic);
      if (this.client.knownPartitions(topic)) continue;
      if (Date.now() > deadline)
        throw new Error(
          `topic '${topic}' not found on ${this.client.options.bootstrapServers.join(',')}${t ? ` (${errorName(t.errorCode)})` : ''}`,
        );
      await sleep(200);
    }
  }

  knownPartitions(topic: string): number[] | undefined {
    return this.client.knownPartitions(topic);
  }

  /** Buffers one record; true when the buffer is full and the caller should await flush(). */
  send(topic: string, partition: number, record: OutRecord): boolean {
    if (this.failure) throw this.failure;
    const k = tpKey(topic, partition);
    let b = this.buffers.get(k);
    if (!b) this.buffers.set(k, (b = { topic, partition, records: [], bytes: 0, nextSequence: 0 }));
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + 16;
    b.records.push(record);
    b.bytes += size;
    this.bufferedBytes += size;
    if (b.bytes >= this.options.batchBytes) this.drain();
    else
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = undefined;
        this.drain();
      }, this.options.lingerMs);
    return this.bufferedBytes >= this.options.batchBytes * 8;
  }

  /** Starts a request to each leader that has none in flight. */
  private drain(): void {
    if (this.failure) return;
    const byLeader = new Map<number, PartitionBuffer[]>();
    for (const b of this.buffers.values()) {
      if (b.records.length === 0) continue;
      const leader = this.client.leaderOf(b.topic, b.partition);
      let l = byLeader.get(leader);
      if (!l) byLeader.set(leader, (l = []));
      l.push(b);
    }
    for (const [leader, bufs] of byLeader) {
      if (this.inFlight.has(leader)) continue;
      const batches = bufs.map((b) => {
        const records = b.records;
        b.records = [];
        this.bufferedBytes -= b.bytes;
        b.bytes = 0;
        const seq = b.nextSequence;
        b.nextSequence = (b.nextSequence + records.length) | 0;
        return { buf: b, records, seq };
      });
      const p = this.produce(leader, batches).then(
        () => {
          this.inFlight.delete(leader);
          this.drain();
        },
        (e: unknown) => {
          this.inFlight.delete(leader);
          this.failure = e instanceof Error ? e : new Error(String(e));
        },
      );
      this.inFlight.set(leader, p);
    }
  }

  private async produce(
    leader: number,
    batches: { buf: PartitionBuffer; records: OutRecord[]; seq: number }[],
  ): Promise<void> {
    const o = this.options;
    const transactional = o.transactionalId !== undefined;
    if (transactional) await this.addPartitionsToTxn(batches.map((b) => b.buf));
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    let bytes = 0;
    for (const b of batches) {
      const base = b.records[0]!.timestamp;
      const encoded = encodeRecordBatch({
        baseOffset: 0,
        partitionLeaderEpoch: -1,
        producerId: this.identity.producerId,
        producerEpoch: this.identity.epoch,
        baseSequence: this.identity.producerId >= 0 ? b.seq : -1,
        isTransactional: transactional,
        isControl: false,
        records: b.records.map((r) => ({
          key: toBuffer(r.key),
          value: toBuffer(r.value),
          headers: r.headers.map((h) => ({ key: h.key, value: toBuffer(h.value) })),
          timestamp: r.timestamp ?? base,
        })),
      });
      bytes += encoded.length;
      let l = byTopic.get(b.buf.topic);
      if (!l) byTopic.set(b.buf.topic, (l = []));
      l.push({ index: b.buf.partition, records: encoded });
    }
    const body = {
      transactionalId: o.transactionalId ?? null,
      acks: o.acks,
      timeoutMs: o.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
    };
    const deadline = Date.now() + o.requestTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const conn = await this.client.broker(leader);
      if (o.acks === 0) {
        await this.client.send(conn, ApiKeys.Produce, body);
        break;
      }
      const res = await this.client.send<{
        responses: { name: string; partitionResponses: { index: number; errorCode: number }[] }[];
      }>(conn, ApiKeys.Produce, body);
      let retry = false;
      for (const t of res.responses) {
        for (const p of t.partitionResponses) {
          // A duplicate means an earlier attempt of this very batch was written: success.
          if (p.errorCode === 0 || p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) continue;
          if (isRetriable(p.errorCode) && Date.now() < deadline) retry = true;
          else throw new KafkaProtocolError(p.errorCode, `producing to ${t.name}-${p.index} failed`);
        }
      }
      if (!retry) break;
      await sleep(Math.min(100 * 2 ** attempt, 2_000));
      await this.client.metadata([...byTopic.keys()]);
    }
    this.acked += batches.reduce((n, b) => n + b.records.length, 0);
    this.bytesOut += bytes;
  }

  private async addPartitionsToTxn(bufs: PartitionBuffer[]): Promise<void> {
    const fresh = bufs.filter((b) => !this.txnPartitions.has(tpKey(b.topic, b.partition)));
    if (fresh.length === 0) return;
    const id = this.options.transactionalId!;
    const topics = new Map<string, number[]>();
    for (const b of fresh) {
      let l = topics.get(b.topic);
      if (!l) topics.set(b.topic, (l = []));
      l.push(b.partition);
    }
    const deadline = Date.now() + this.options.requestTimeoutMs;
    for (;;) {
      const conn = await this.client.coordinator(id, 1);
      // Field names of Kafka's message definition, which renamed the v0-3 fields when v4 came.
      const res = await this.client.send<{
        resultsByTopicV3AndBelow: {
          name: string;
          resultsByPartition: { partitionIndex: number; partitionErrorCode: number }[];
        }[];
      }>(conn, ApiKeys.AddPartitionsToTxn, {
        v3AndBelowTransactionalId: id,
        v3AndBelowProducerId: this.identity.producerId,
        v3AndBelowProducerEpoch: this.identity.epoch,
        v3AndBelowTopics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      });
      let retry = false;
      for (const t of res.resultsByTopicV3AndBelow)
        for (const p of t.resultsByPartition) {
          if (p.partitionErrorCode === 0) continue;
          if (isRetriable(p.partitionErrorCode) && Date.now() < deadline) {
            retry = true;
            this.client.forgetCoordinator(id, 1);
          } else check(p.partitionErrorCode, `adding ${t.name}-${p.partitionIndex} to transaction '${id}'`);
        }
      if (!retry) break;
      await sleep(50);
    }
    for (const b of fresh) this.txnPartitions.add(tpKey(b.topic, b.partition));
  }

  /** Sends everything buffered and waits until the broker acknowledged it. */
  async flush(): Promise<void> {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    for (;;) {
      if (this.failure) throw this.failure;
      this.drain();
      if (this.inFlight.size === 0) {
        if (this.failure) throw this.failure;
        if (this.bufferedBytes === 0 || [...this.buffers.values()].every((b) => b.records.length === 0)) return;
        continue;
      }
      await Promise.all(this.inFlight.values());
    }
  }

  async commitTransaction(): Promise<void> {
    await this.flush();
    if (this.transactionHasData) await endTransaction(this.client, this.options.transactionalId!, this.identity, true);
    this.inTransaction = false;
  }

  /** Aborts the open transaction, best effort (a new InitProducerId would abort it too). */
  async abortTransaction(): Promise<void> {
    if (!this.inTransaction || this.txnPartitions.size === 0) return;
    this.inTransaction = false;
    await endTransaction(this.client, this.options.transactionalId!, this.identity, false);
  }

  close(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }
}

function toBuffer(v: Uint8Array | null): Buffer | null {
  if (v === null) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
