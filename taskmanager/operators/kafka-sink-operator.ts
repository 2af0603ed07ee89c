// The KafkaSink (Flink's KafkaWriter and committer in one operator). NONE: fire and forget;
// AT_LEAST_ONCE: an idempotent producer flushed at every barrier; EXACTLY_ONCE: one transaction per
// subtask per checkpoint, flushed and recorded in the checkpoint at the barrier, committed when
// the checkpoint completes, committed again (or found committed) on restore.
import type {
  DeliveryGuarantee,
  KafkaPartitioner,
  KafkaProducerRecord,
  KafkaRecordSerializationSchema,
} from '../../api/kafka-sink.js';
import { ListStateDescriptor, type ListState } from '../../api/state.js';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { KafkaClient } from '../connectors/kafka/kafka-client.js';
import { defaultKeyPartition } from '../connectors/kafka/kafka-partitioning.js';
import { kafkaSecurity } from '../connectors/kafka/kafka-security.js';
import { KafkaProducer, type OutRecord } from '../connectors/kafka/kafka-producer.js';
import {
  commitPrepared,
  isWriterState,
  recoverKafkaWriter,
  transactionalId,
  type KafkaWriterState,
  type PreparedTransaction,
} from '../connectors/kafka/kafka-sink-recovery.js';
import {
  StreamOperator,
  type OperatorSetup,
  type SnapshotContext,
  type StateInitializationContext,
} from './operator.js';

interface KafkaSinkLike {
  sinkKind: 'kafka';
  bootstrapServers: readonly string[];
  serializer: KafkaRecordSerializationSchema<unknown> & {
    partitioner?: KafkaPartitioner<unknown> & { fixed?: boolean };
  };
  deliveryGuarantee: DeliveryGuarantee;
  transactionalIdPrefix: string | undefined;
  properties: Readonly<Record<string, string>>;
}

const DEFAULTS: Record<string, string> = {
  'transaction.timeout.ms': '900000',
  'request.timeout.ms': '30000',
  'linger.ms': '5',
  'batch.size': '65536',
};

export class KafkaSinkOperator extends StreamOperator {
  private readonly sink: KafkaSinkLike;
  private readonly guarantee: DeliveryGuarantee;
  private readonly twoPhase: boolean;
  private readonly props: Record<string, string>;
  private client: KafkaClient | undefined;
  private producer: KafkaProducer | undefined;
  private state: ListState<KafkaWriterState> | undefined;
  private restoredStates: KafkaWriterState[] | undefined;
  private counter = 0;
  private pending: PreparedTransaction[] = [];
  private roundRobin = 0;

  constructor(setup: OperatorSetup) {
    super(setup);
    const sink = setup.userCode as KafkaSinkLike | undefined;
    if (
      !sink ||
      sink.sinkKind !== 'kafka' ||
      !Array.isArray(sink.bootstrapServers) ||
      typeof sink.serializer?.serialize !== 'function'
    ) {
      throw new Error(`operator '${this.name}': the bundle's KafkaSink is malformed`);
    }
    this.sink = sink;
    this.guarantee = sink.deliveryGuarantee;
    this.props = { ...DEFAULTS, ...sink.properties };
    // A job that only takes savepoints commits at each snapshot (and at the end) instead.
    this.twoPhase = setup.services.checkpointing?.periodic === true;
  }

  private num(key: string): number {
    const v = Number(this.props[key]);
    if (!Number.isFinite(v) || v < 0)
      throw new Error(
        `KafkaSink '${this.name}': property ${key} must be a non-negative number, got '${this.props[key]}'`,
      );
    return v;
  }

  private get prefix(): string {
    return this.sink.transactionalIdPrefix!;
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    await super.initializeState(context);
    this.state = context
      .getOperatorStateStore()
      .getUnionListState(new ListStateDescriptor<KafkaWriterState>('_kafka-sink-writer'));
    if (context.isRestored()) {
      const states = this.state.get();
      for (const s of states)
        if (!isWriterState(s))
          throw new Error(`operator '${this.name}': restored KafkaSink state ${JSON.stringify(s)} is malformed`);
      this.restoredStates = states;
    }
  }

  override async open(): Promise<void> {
    await super.open();
    const { subtaskIndex, parallelism } = this.services;
    this.client = new KafkaClient({
      bootstrapServers: this.sink.bootstrapServers,
      clientId: `weir-kafka-sink-${subtaskIndex}`,
      requestTimeoutMs: this.num('request.timeout.ms'),
      ...kafkaSecurity(this.props, `KafkaSink '${this.name}'`),
    });
    if (this.guarantee === 'EXACTLY_ONCE') {
      this.counter = await recoverKafkaWriter(this.client, {
        prefix: this.prefix,
        subtaskIndex,
        parallelism,
        states: this.restoredStates ?? [],
        transactionTimeoutMs: this.num('transaction.timeout.ms'),
        log: this.services.log,
      });
      // The first transaction begins with the first record (as every later one: nothing at the barrier).
    } else {
      this.producer = this.newProducer(undefined);
      await this.producer.init();
    }
  }

  private newProducer(txnId: string | undefined): KafkaProducer {
    return new KafkaProducer(this.client!, {
      transactionalId: txnId,
      idempotent: this.guarantee !== 'NONE',
      acks: this.guarantee === 'NONE' ? Number(this.props['acks'] ?? 1) : -1,
      lingerMs: this.num('linger.ms'),
      batchBytes: this.num('batch.size'),
      requestTimeoutMs: this.num('request.timeout.ms'),
      transactionTimeoutMs: this.num('transaction.timeout.ms'),
      autoCreateTopics: this.props['allow.auto.create.topics'] !== 'false',
    });
  }

  /** The transaction's producer is done with (prepared, committed or aborted): keep its counts. */
  private retireProducer(): void {
    const p = this.producer;
    if (!p) return;
    this.sentBefore.records += p.acked;
    this.sentBefore.bytes += p.bytesOut;
    p.close();
    this.producer = undefined;
  }

  private async beginTransaction(): Promise<void> {
    this.counter++;
    const p = this.newProducer(transactionalId(this.prefix, this.services.subtaskIndex, this.counter));
    await p.init();
    p.beginTransaction();
    this.producer = p;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    const s = this.services;
    s.sinkRecords++;
    if (timestamp !== undefined) s.sinkLag.record(timestamp);
    let rec: KafkaProducerRecord;
    try {
      rec = this.sink.serializer.serialize(value, { timestamp: timestamp ?? null });
    } catch (e) {
      this.fail(e);
    }
    const partitions = this.producer?.knownPartitions(rec.topic);
    if (partitions !== undefined) this.write(value, rec, timestamp, partitions);
    // A new transaction (EXACTLY_ONCE, first record after a barrier), or a topic without metadata
    // yet: the task holds the next record until this one is written.
    else s.pending = this.writeAfterSetUp(value, rec, timestamp);
  }

  private async writeAfterSetUp(
    value: unknown,
    rec: KafkaProducerRecord,
    timestamp: number | undefined,
  ): Promise<void> {
    if (!this.producer) await this.beginTransaction();
    this.write(value, rec, timestamp, await this.producer!.partitionsOf(rec.topic));
  }

  private write(value: unknown, rec: KafkaProducerRecord, timestamp: number | undefined, partitions: number[]): void {
    const producer = this.producer!;
    const key = rec.key ?? null;
    const v = rec.value ?? null;
    const partitioner = this.sink.serializer.partitioner;
    let partition: number;
    if (rec.partition !== undefined || (partitioner && !partitioner.fixed)) {
      // Chosen by user code: checked.
      partition = rec.partition ?? this.userPartition(partitioner!, value, key, v, rec.topic, partitions);
      if (!partitions.includes(partition))
        throw new Error(
          `KafkaSink '${this.name}': topic '${rec.topic}' has no partition ${partition} (it has ${partitions.length})`,
        );
    } else if (partitioner) partition = partitions[this.services.subtaskIndex % partitions.length]!;
    else if (key !== null) partition = partitions[defaultKeyPartition(key, partitions.length)]!;
    else partition = partitions[this.roundRobin++ % partitions.length]!;
    const out: OutRecord = {
      key,
      value: v,
      timestamp: rec.timestamp ?? timestamp ?? Date.now(),
      headers: rec.headers ?? [],
    };
    if (producer.send(rec.topic, partition, out)) {
      const before = this.services.pending;
      this.services.pending = before ? before.then(() => producer.flush()) : producer.flush();
    }
  }

  private userPartition(
    p: KafkaPartitioner<unknown>,
    value: unknown,
    key: Uint8Array | null,
    v: Uint8Array | null,
    topic: string,
    partitions: number[],
  ): number {
    try {
      return p.partition(value, key, v, topic, partitions);
    } catch (e) {
      this.fail(e);
    }
  }

  override async snapshotState(context: SnapshotContext): Promise<void> {
    await super.snapshotState(context);
    if (this.guarantee === 'NONE') return;
    const producer = this.producer;
    // No producer: no record since the last barrier (or the input ended); only the state is written.
    if (producer) await producer.flush();
    if (this.guarantee === 'EXACTLY_ONCE') {
      if (producer) {
        if (!this.twoPhase) await producer.commitTransaction();
        // An empty transaction has nothing to commit (and Kafka would refuse to end it).
        else if (producer.transactionHasData)
          this.pending = [
            ...this.pending,
            {
              transactionalId: producer.transactionalId!,
              ...producer.producerIdentity,
              checkpointId: context.checkpointId,
            },
          ];
        this.retireProducer();
      }
      // Transactions up to `counter` are in this checkpoint; the next record begins counter + 1.
      const { subtaskIndex, parallelism } = this.services;
      this.state?.update([{ subtaskIndex, parallelism, counter: this.counter, pending: this.pending }]);
    }
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await super.notifyCheckpointComplete(checkpointId);
    if (this.guarantee !== 'EXACTLY_ONCE') return;
    const due = this.pending.filter(
      (t) =>
        checkpointId === FINAL_CHECKPOINT_ID ||
        (t.checkpointId !== FINAL_CHECKPOINT_ID && t.checkpointId <= checkpointId),
    );
    if (due.length === 0) return;
    try {
      for (const t of due) await commitPrepared(this.client!, t, this.services.log);
    } catch (e) {
      this.commitFailures++;
      throw e;
    }
    this.pending = this.pending.filter((t) => !due.includes(t));
  }

  private commitFailures = 0;
  private sentBefore = { records: 0, bytes: 0 };

  override connectorMetrics(): Record<string, number> {
    const p = this.producer;
    return {
      numRecordsSend: this.sentBefore.records + (p?.acked ?? 0),
      numBytesSend: this.sentBefore.bytes + (p?.bytesOut ?? 0),
      numCommitFailures: this.commitFailures,
    };
  }

  override async finish(): Promise<void> {
    const producer = this.producer;
    if (!producer) return;
    await producer.flush();
    // With periodic checkpoints the final checkpoint prepares the last transaction and its completion commits it.
    if (this.guarantee === 'EXACTLY_ONCE' && !this.twoPhase) {
      await producer.commitTransaction();
      this.retireProducer();
    }
  }

  override async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) {
      producer.close();
      // An open transaction would hold back read_committed readers until it times out.
      if (this.guarantee === 'EXACTLY_ONCE') {
        await producer
          .abortTransaction()
          .catch((e: unknown) =>
            this.services.log.warn(
              { err: String(e) },
              'KafkaSink: aborting the open transaction failed (a restart aborts it)',
            ),
          );
      }
    }
    this.client?.close();
    await super.close();
  }
}
