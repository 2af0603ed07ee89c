// KafkaSink descriptor (Flink's KafkaSink builder). With EXACTLY_ONCE each subtask writes into one
// Kafka transaction per checkpoint, prepared at the barrier and committed when the checkpoint
// completes; producing, committing and recovering happen in the TaskManager.
import { parseBootstrapServers } from './kafka-source.js';
import { isSerializationSchema, type SerializationSchema } from './serialization-schemas.js';

export type DeliveryGuarantee = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE' | 'NONE';
export const DeliveryGuarantee = {
  EXACTLY_ONCE: 'EXACTLY_ONCE',
  AT_LEAST_ONCE: 'AT_LEAST_ONCE',
  NONE: 'NONE',
} as const;

/** A record as the sink writes it; partition undefined: by key hash (murmur2, as Kafka), else spread. */
export interface KafkaProducerRecord {
  topic: string;
  partition?: number;
  key?: Uint8Array | null;
  value: Uint8Array | null;
  timestamp?: number;
  headers?: { key: string; value: Uint8Array | null }[];
}

/** Chooses the partition of a record (Flink's FlinkKafkaPartitioner). */
export interface KafkaPartitioner<T> {
  partition(
    record: T,
    key: Uint8Array | null,
    value: Uint8Array | null,
    topic: string,
    partitions: readonly number[],
  ): number;
}

/** Turns a record into a Kafka record (Flink's KafkaRecordSerializationSchema). */
export interface KafkaRecordSerializationSchema<T> {
  serialize(element: T, context: { timestamp: number | null }): KafkaProducerRecord;
}

/** Every sink subtask writes to one fixed partition (subtask index modulo partitions), as Flink's FlinkFixedPartitioner. */
export class FlinkFixedPartitioner<T> implements KafkaPartitioner<T> {
  readonly fixed = true;

  partition(): number {
    throw new Error('FlinkFixedPartitioner picks the partition from the subtask index; the sink applies it');
  }
}

export class KafkaRecordSerializationSchemaBuilder<T> {
  private topic: string | ((element: T) => string) | undefined;
  private valueSchema: SerializationSchema<T> | undefined;
  private keySchema: SerializationSchema<T> | undefined;
  private partitioner: KafkaPartitioner<T> | undefined;

  setTopic(topic: string): this {
    if (typeof topic !== 'string' || topic.length === 0)
      throw new TypeError('KafkaRecordSerializationSchema.setTopic() needs a topic name');
    this.topic = topic;
    return this;
  }

  /** The topic of each record (Flink's setTopicSelector). */
  setTopicSelector(selector: (element: T) => string): this {
    if (typeof selector !== 'function')
      throw new TypeError('KafkaRecordSerializationSchema.setTopicSelector() needs a function');
    this.topic = selector;
    return this;
  }

  setValueSerializationSchema(schema: SerializationSchema<T>): this {
    if (!isSerializationSchema(schema))
      throw new TypeError(
        'setValueSerializationSchema() needs a SerializationSchema (an object with serialize(element))',
      );
    this.valueSchema = schema;
    return this;
  }

  setKeySerializationSchema(schema: SerializationSchema<T>): this {
    if (!isSerializationSchema(schema))
      throw new TypeError(
        'setKeySerializationSchema() needs a SerializationSchema (an object with serialize(element))',
      );
    this.keySchema = schema;
    return this;
  }

  setPartitioner(partitioner: KafkaPartitioner<T>): this {
    if (typeof partitioner !== 'object' || partitioner === null || typeof partitioner.partition !== 'function') {
      throw new TypeError('setPartitioner() needs an object with partition(record, key, value, topic, partitions)');
    }
    this.partitioner = partitioner;
    return this;
  }

  build(): KafkaRecordSerializationSchema<T> & { readonly partitioner?: KafkaPartitioner<T> } {
    const topic = this.topic;
    const valueSchema = this.valueSchema;
    const keySchema = this.keySchema;
    if (topic === undefined)
      throw new TypeError('KafkaRecordSerializationSchema: no topic (setTopic or setTopicSelector)');
    if (!valueSchema)
      throw new TypeError(
        'KafkaRecordSerializationSchema: no value serialization schema (setValueSerializationSchema)',
      );
    return {
      partitioner: this.partitioner,
      serialize(element: T, context: { timestamp: number | null }): KafkaProducerRecord {
        return {
          topic: typeof topic === 'string' ? topic : topic(element),
          key: keySchema ? keySchema.serialize(element) : null,
          value: valueSchema.serialize(element),
          ...(context.timestamp !== null ? { timestamp: context.timestamp } : {}),
        };
      },
    };
  }
}

export const KafkaRecordSerializationSchema = {
  builder<T>(): KafkaRecordSerializationSchemaBuilder<T> {
    return new KafkaRecordSerializationSchemaBuilder<T>();
  },
};

export class KafkaSink<T> {
  readonly sinkKind = 'kafka' as const;
  declare private readonly __record?: T;

  constructor(
    readonly bootstrapServers: readonly string[],
    readonly serializer: KafkaRecordSerializationSchema<T> & { readonly partitioner?: KafkaPartitioner<T> },
    readonly deliveryGuarantee: DeliveryGuarantee,
    readonly transactionalIdPrefix: string | undefined,
    readonly properties: Readonly<Record<string, string>>,
  ) {}

  static builder<T>(): KafkaSinkBuilder<T> {
    return new KafkaSinkBuilder<T>();
  }
}

export class KafkaSinkBuilder<T> {
  private bootstrap: string[] | undefined;
  private serializer: (KafkaRecordSerializationSchema<T> & { readonly partitioner?: KafkaPartitioner<T> }) | undefined;
  private guarantee: DeliveryGuarantee = 'NONE';
  private prefix: string | undefined;
  private readonly props: Record<string, string> = {};

  setBootstrapServers(servers: string): this {
    this.bootstrap = parseBootstrapServers('KafkaSink', servers);
    return this;
  }

  setRecordSerializer(serializer: KafkaRecordSerializationSchema<T>): this {
    if (typeof serializer !== 'object' || serializer === null || typeof serializer.serialize !== 'function') {
      throw new TypeError(
        'KafkaSink.setRecordSerializer() needs a KafkaRecordSerializationSchema (KafkaRecordSerializationSchema.builder()...build())',
      );
    }
    this.serializer = serializer;
    return this;
  }

  setDeliveryGuarantee(guarantee: DeliveryGuarantee): this {
    if (!(guarantee in DeliveryGuarantee))
      throw new RangeError(`KafkaSink.setDeliveryGuarantee(): unknown guarantee ${String(guarantee)}`);
    this.guarantee = guarantee;
    return this;
  }

  setTransactionalIdPrefix(prefix: string): this {
    if (typeof prefix !== 'string' || prefix.length === 0)
      throw new TypeError('KafkaSink.setTransactionalIdPrefix() needs a non-empty prefix');
    this.prefix = prefix;
    return this;
  }

  setProperty(key: string, value: string | number | boolean): this {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('KafkaSink.setProperty() needs a key');
    this.props[key] = String(value);
    return this;
  }

  build(): KafkaSink<T> {
    if (!this.bootstrap) throw new TypeError('KafkaSink: bootstrap servers are not set (setBootstrapServers)');
    if (!this.serializer) throw new TypeError('KafkaSink: no record serializer (setRecordSerializer)');
    if (this.guarantee === 'EXACTLY_ONCE' && !this.prefix) {
      throw new TypeError(
        'KafkaSink: EXACTLY_ONCE needs a transactional id prefix unique to this sink (setTransactionalIdPrefix)',
      );
    }
    return new KafkaSink<T>(this.bootstrap, this.serializer, this.guarantee, this.prefix, { ...this.props });
  }
}
