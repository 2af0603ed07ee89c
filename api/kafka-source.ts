// KafkaSource descriptor (Flink's KafkaSource builder). Topic partitions are the splits: each
// subtask reads the partitions Flink's assignment formula gives it; their offsets are the source's
// operator state. Connecting, fetching and deserializing happen in the TaskManager.
import type { Collector } from './functions.js';
import { isDeserializationSchema, type DeserializationSchema } from './serialization-schemas.js';
import type { Boundedness } from './sources.js';

/** A record as the broker returned it. */
export interface KafkaConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch (CreateTime or LogAppendTime). */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly { key: string; value: Uint8Array | null }[];
}

/** Turns a whole Kafka record into zero or more records (Flink's KafkaRecordDeserializationSchema). */
export interface KafkaRecordDeserializationSchema<T> {
  deserialize(record: KafkaConsumerRecord, out: Collector<T>): void;
}

export const KafkaRecordDeserializationSchema = {
  /** Deserializes the value only; tombstones (null values) are skipped. */
  valueOnly<T>(schema: DeserializationSchema<T>): KafkaRecordDeserializationSchema<T> {
    if (!isDeserializationSchema(schema))
      throw new TypeError(
        'KafkaRecordDeserializationSchema.valueOnly() needs a DeserializationSchema (an object with deserialize(bytes))',
      );
    return {
      deserialize(record, out) {
        if (record.value !== null) out.collect(schema.deserialize(record.value));
      },
    };
  },
};

export type OffsetResetStrategy = 'EARLIEST' | 'LATEST' | 'NONE';
export const OffsetResetStrategy = { EARLIEST: 'EARLIEST', LATEST: 'LATEST', NONE: 'NONE' } as const;

/** Where reading starts (or, for setBounded, stops) in each partition. */
export type OffsetSpec =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'committed'; reset: OffsetResetStrategy }
  | { kind: 'timestamp'; timestamp: number }
  | { kind: 'offsets'; offsets: Record<string, number>; reset: OffsetResetStrategy };

export class OffsetsInitializer {
  private constructor(readonly spec: OffsetSpec) {}

  static earliest(): OffsetsInitializer {
    return new OffsetsInitializer({ kind: 'earliest' });
  }

  static latest(): OffsetsInitializer {
    return new OffsetsInitializer({ kind: 'latest' });
  }

  /** The group's committed offsets; partitions without one start per `reset` (NONE: fail). */
  static committedOffsets(reset: OffsetResetStrategy = 'NONE'): OffsetsInitializer {
    if (!(reset in OffsetResetStrategy))
      throw new RangeError(`OffsetsInitializer.committedOffsets(): unknown reset strategy ${String(reset)}`);
    return new OffsetsInitializer({ kind: 'committed', reset });
  }

  /** The first record whose timestamp is at or after `timestamp` (ms). */
  static timestamp(timestamp: number): OffsetsInitializer {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0)
      throw new RangeError(`OffsetsInitializer.timestamp() needs a non-negative integer, got ${String(timestamp)}`);
    return new OffsetsInitializer({ kind: 'timestamp', timestamp });
  }

  /** Explicit offsets keyed 'topic-partition' (e.g. 'orders-0'); other partitions start per `reset`. */
  static offsets(offsets: Record<string, number>, reset: OffsetResetStrategy = 'EARLIEST'): OffsetsInitializer {
    for (const [tp, o] of Object.entries(offsets)) {
      if (!/^.+-\d+$/.test(tp))
        throw new RangeError(`OffsetsInitializer.offsets(): keys are 'topic-partition', got '${tp}'`);
      if (!Number.isSafeInteger(o) || o < 0)
        throw new RangeError(
          `OffsetsInitializer.offsets(): offset of ${tp} must be a non-negative integer, got ${String(o)}`,
        );
    }
    return new OffsetsInitializer({ kind: 'offsets', offsets: { ...offsets }, reset });
  }
}

/** 'host:port[,host:port...]' as a list, checked. */
export function parseBootstrapServers(owner: string, servers: string): string[] {
  const list = String(servers)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new TypeError(`${owner}.setBootstrapServers() needs host:port[,host:port...]`);
  for (const s of list)
    if (!/^[^:\s]+:\d+$/.test(s)) throw new RangeError(`${owner}.setBootstrapServers(): '${s}' is not host:port`);
  return list;
}

/** Flink's defaults where the Kafka consumer's own do not apply. */
export const KAFKA_SOURCE_DEFAULTS = {
  'partition.discovery.interval.ms': '300000',
  'commit.offsets.on.checkpoint': 'true',
  'isolation.level': 'read_uncommitted',
  'client.id.prefix': 'weir-kafka-source',
  'fetch.max.wait.ms': '500',
  'max.partition.fetch.bytes': '1048576',
  'fetch.max.bytes': '52428800',
  'request.timeout.ms': '30000',
} as const;

export class KafkaSource<T> {
  readonly sourceKind = 'kafka' as const;
  declare private readonly __record?: T;

  constructor(
    readonly bootstrapServers: readonly string[],
    readonly topics: readonly string[] | undefined,
    readonly topicPattern: RegExp | undefined,
    readonly partitions: readonly { topic: string; partition: number }[] | undefined,
    readonly groupId: string | undefined,
    readonly startingOffsets: OffsetSpec,
    readonly stoppingOffsets: OffsetSpec | undefined,
    readonly deserializer: KafkaRecordDeserializationSchema<T>,
    readonly properties: Readonly<Record<string, string>>,
  ) {}

  get boundedness(): Boundedness {
    return this.stoppingOffsets ? 'BOUNDED' : 'CONTINUOUS_UNBOUNDED';
  }

  static builder<T>(): KafkaSourceBuilder<T> {
    return new KafkaSourceBuilder<T>();
  }
}

export class KafkaSourceBuilder<T> {
  private bootstrap: string[] | undefined;
  private topics: string[] | undefined;
  private pattern: RegExp | undefined;
  private partitions: { topic: string; partition: number }[] | undefined;
  private groupId: string | undefined;
  private starting: OffsetSpec = { kind: 'earliest' };
  private stopping: OffsetSpec | undefined;
  private deserializer: KafkaRecordDeserializationSchema<T> | undefined;
  private readonly props: Record<string, string> = {};

  setBootstrapServers(servers: string): this {
    this.bootstrap = parseBootstrapServers('KafkaSource', servers);
    return this;
  }

  setTopics(...topics: (string | string[])[]): this {
    const list = topics.flat();
    if (list.length === 0 || list.some((t) => typeof t !== 'string' || t.length === 0))
      throw new TypeError('KafkaSource.setTopics() needs one or more topic names');
    this.topics = list;
    return this;
  }

  setTopicPattern(pattern: RegExp): this {
    if (!(pattern instanceof RegExp)) throw new TypeError('KafkaSource.setTopicPattern() needs a RegExp');
    this.pattern = pattern;
    return this;
  }

  /** Reads exactly these partitions (Flink's setPartitions). */
  setPartitions(partitions: Iterable<{ topic: string; partition: number }>): this {
    const list = [...partitions].map((p) => ({ topic: String(p.topic), partition: Number(p.partition) }));
    if (list.length === 0 || list.some((p) => !p.topic || !Number.isInteger(p.partition) || p.partition < 0)) {
      throw new TypeError('KafkaSource.setPartitions() needs { topic, partition } pairs');
    }
    this.partitions = list;
    return this;
  }

  setGroupId(groupId: string): this {
    if (typeof groupId !== 'string' || groupId.length === 0)
      throw new TypeError('KafkaSource.setGroupId() needs a non-empty group id');
    this.groupId = groupId;
    return this;
  }

  setStartingOffsets(initializer: OffsetsInitializer): this {
    if (!(initializer instanceof OffsetsInitializer))
      throw new TypeError('KafkaSource.setStartingOffsets() needs an OffsetsInitializer');
    this.starting = initializer.spec;
    return this;
  }

  /** Stops each partition at these offsets: the source is bounded and the job can FINISH. */
  setBounded(stopping: OffsetsInitializer): this {
    if (!(stopping instanceof OffsetsInitializer))
      throw new TypeError('KafkaSource.setBounded() needs an OffsetsInitializer');
    if (stopping.spec.kind === 'committed' || stopping.spec.kind === 'earliest') {
      throw new RangeError(
        `KafkaSource.setBounded(): ${stopping.spec.kind} offsets cannot be stopping offsets (use latest(), timestamp() or offsets())`,
      );
    }
    this.stopping = stopping.spec;
    return this;
  }

  setUnbounded(stopping: OffsetsInitializer): this {
    return this.setBounded(stopping);
  }

  setValueOnlyDeserializer(schema: DeserializationSchema<T>): this {
    this.deserializer = KafkaRecordDeserializationSchema.valueOnly(schema);
    return this;
  }

  setDeserializer(schema: KafkaRecordDeserializationSchema<T>): this {
    if (typeof schema !== 'object' || schema === null || typeof schema.deserialize !== 'function') {
      throw new TypeError(
        'KafkaSource.setDeserializer() needs a KafkaRecordDeserializationSchema (an object with deserialize(record, out))',
      );
    }
    this.deserializer = schema;
    return this;
  }

  setClientIdPrefix(prefix: string): this {
    return this.setProperty('client.id.prefix', prefix);
  }

  setProperty(key: string, value: string | number | boolean): this {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('KafkaSource.setProperty() needs a key');
    this.props[key] = String(value);
    return this;
  }

  setProperties(props: Record<string, string | number | boolean>): this {
    for (const [k, v] of Object.entries(props)) this.setProperty(k, v);
    return this;
  }

  build(): KafkaSource<T> {
    if (!this.bootstrap) throw new TypeError('KafkaSource: bootstrap servers are not set (setBootstrapServers)');
    const ways = [this.topics, this.pattern, this.partitions].filter((x) => x !== undefined).length;
    if (ways !== 1)
      throw new TypeError('KafkaSource: set exactly one of setTopics(), setTopicPattern() or setPartitions()');
    if (!this.deserializer)
      throw new TypeError('KafkaSource: no deserializer (setValueOnlyDeserializer or setDeserializer)');
    if (this.starting.kind === 'committed' && !this.groupId)
      throw new TypeError('KafkaSource: committed offsets need a group id (setGroupId)');
    const discovery = Number(
      this.props['partition.discovery.interval.ms'] ?? KAFKA_SOURCE_DEFAULTS['partition.discovery.interval.ms'],
    );
    if (!Number.isFinite(discovery))
      throw new RangeError('KafkaSource: partition.discovery.interval.ms must be a number');
    const iso = this.props['isolation.level'];
    if (iso !== undefined && iso !== 'read_committed' && iso !== 'read_uncommitted')
      throw new RangeError(`KafkaSource: isolation.level must be read_committed or read_uncommitted, got '${iso}'`);
    return new KafkaSource<T>(
      this.bootstrap,
      this.topics,
      this.pattern,
      this.partitions,
      this.groupId,
      this.starting,
      this.stopping,
      this.deserializer,
      { ...this.props },
    );
  }
}
