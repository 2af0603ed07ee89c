// The Kafka connectors' pure parts: Kafka's murmur2 and Flink's partition assignment (so data and
// partitions land where Kafka and Flink put them), and watermarks per partition.
import { describe, expect, it } from 'vitest';
import { DeliveryGuarantee, KafkaRecordSerializationSchema, KafkaSink } from '../../api/kafka-sink.js';
import { KafkaSource, OffsetsInitializer } from '../../api/kafka-source.js';
import { SimpleStringSchema } from '../../api/serialization-schemas.js';
import { WatermarkStrategy } from '../../api/watermark-strategy.js';
import {
  defaultKeyPartition,
  javaStringHashCode,
  kafkaSplitOwner,
  murmur2,
} from '../../taskmanager/connectors/kafka/kafka-partitioning.js';
import { SplitWatermarks } from '../../taskmanager/runtime/split-watermarks.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { ManualTime } from '../helpers/manual-time.js';
import { fakeTaskServices } from '../helpers/task-services.js';

describe('Kafka partitioning', () => {
  it("computes Kafka's murmur2 (Kafka's own test vectors)", () => {
    const e = new TextEncoder();
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of cases) expect(murmur2(e.encode(s)), s).toBe(h);
    expect(defaultKeyPartition(e.encode('foobar'), 3)).toBe((-790332482 & 0x7fffffff) % 3);
  });

  it("assigns partitions to readers as Flink's enumerator: consecutive partitions to consecutive readers", () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello world')).toBe(1794106052);
    const owners = Array.from({ length: 6 }, (_, p) => kafkaSplitOwner('orders', p, 3));
    for (let p = 1; p < 6; p++) expect(owners[p]).toBe((owners[p - 1]! + 1) % 3);
    const counts = [0, 0, 0];
    for (const o of owners) counts[o]!++;
    expect(counts).toEqual([2, 2, 2]);
  });
});

function recorder(): Output & { watermarks: number[]; records: [unknown, number | undefined][]; idle: boolean[] } {
  const o = {
    watermarks: [] as number[],
    records: [] as [unknown, number | undefined][],
    idle: [] as boolean[],
    collect: (v: unknown, t: number | undefined) => void o.records.push([v, t]),
    collectSide: () => {},
    emitWatermark: (w: number) => void o.watermarks.push(w),
  };
  return o;
}

describe('watermarks per partition', () => {
  const strategy = (idleMs?: number) => {
    const s = WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((v) => v);
    return (idleMs === undefined ? s : s.withIdleness(idleMs)) as never;
  };

  it('holds the watermark at the lagging partition, and lets it go once that partition catches up', () => {
    const time = new ManualTime();
    const out = recorder();
    const w = new SplitWatermarks(strategy(), out, fakeTaskServices({ processingTime: time }), 100, (i) =>
      out.idle.push(i),
    );
    w.addSplit('t-0');
    w.addSplit('t-1');
    w.start();
    for (let ts = 1000; ts <= 20_000; ts += 1000) w.collect('t-0', ts, undefined);
    w.collect('t-1', 1500, undefined);
    time.advance(100);
    expect(Math.max(...out.watermarks)).toBe(1499);
    w.collect('t-1', 30_000, undefined);
    time.advance(200);
    expect(Math.max(...out.watermarks)).toBe(19_999);
    expect(out.records).toHaveLength(22);
  });

  it('leaves an idle partition out, and marks a reader without partitions idle', () => {
    const time = new ManualTime();
    const out = recorder();
    const w = new SplitWatermarks(strategy(500), out, fakeTaskServices({ processingTime: time }), 100, (i) =>
      out.idle.push(i),
    );
    w.start();
    expect(out.idle).toEqual([true]);
    w.addSplit('t-0');
    w.addSplit('t-1');
    expect(out.idle).toEqual([true, false]);
    w.collect('t-0', 1000, undefined);
    w.collect('t-1', 500, undefined);
    time.advance(100);
    expect(Math.max(...out.watermarks)).toBe(499);
    // t-1 goes quiet; t-0 keeps going: after the idleness timeout only t-0 counts.
    for (let t = 200; t <= 1000; t += 100) {
      w.collect('t-0', 1000 + t * 10, undefined);
      time.advance(t);
    }
    expect(Math.max(...out.watermarks)).toBe(10_999);
    w.endOfInput();
    expect(out.watermarks.at(-1)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('Kafka builders', () => {
  const schema = new SimpleStringSchema();

  it('refuse what cannot work, naming what is missing', () => {
    expect(() => KafkaSource.builder<string>().setBootstrapServers('nohost').build()).toThrow(
      /'nohost' is not host:port/,
    );
    expect(() =>
      KafkaSource.builder<string>().setBootstrapServers('h:1').setValueOnlyDeserializer(schema).build(),
    ).toThrow(/exactly one of setTopics/);
    expect(() => KafkaSource.builder<string>().setBootstrapServers('h:1').setTopics('t').build()).toThrow(
      /no deserializer/,
    );
    expect(() =>
      KafkaSource.builder<string>()
        .setBootstrapServers('h:1')
        .setTopics('t')
        .setValueOnlyDeserializer(schema)
        .setStartingOffsets(OffsetsInitializer.committedOffsets())
        .build(),
    ).toThrow(/group id/);
    expect(() => KafkaSource.builder<string>().setBounded(OffsetsInitializer.earliest())).toThrow(
      /cannot be stopping offsets/,
    );
    expect(() =>
      KafkaSource.builder<string>()
        .setProperty('isolation.level', 'x')
        .setBootstrapServers('h:1')
        .setTopics('t')
        .setValueOnlyDeserializer(schema)
        .build(),
    ).toThrow(/isolation.level/);
    const serializer = KafkaRecordSerializationSchema.builder<string>()
      .setTopic('out')
      .setValueSerializationSchema(schema)
      .build();
    expect(() =>
      KafkaSink.builder<string>()
        .setBootstrapServers('h:1')
        .setRecordSerializer(serializer)
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .build(),
    ).toThrow(/transactional id prefix/);
    expect(() => KafkaRecordSerializationSchema.builder<string>().setValueSerializationSchema(schema).build()).toThrow(
      /no topic/,
    );
  });

  it('build descriptors the TaskManager reads: bounded or not, topics, serialized records', () => {
    const bounded = KafkaSource.builder<string>()
      .setBootstrapServers('a:1, b:2')
      .setTopics('x', 'y')
      .setValueOnlyDeserializer(schema)
      .setBounded(OffsetsInitializer.latest())
      .build();
    expect(bounded.boundedness).toBe('BOUNDED');
    expect(bounded.bootstrapServers).toEqual(['a:1', 'b:2']);
    expect(bounded.topics).toEqual(['x', 'y']);
    const out: string[] = [];
    bounded.deserializer.deserialize(
      {
        topic: 'x',
        partition: 0,
        offset: 0,
        timestamp: 0,
        key: null,
        value: new TextEncoder().encode('héllo'),
        headers: [],
      },
      { collect: (v) => out.push(v) },
    );
    bounded.deserializer.deserialize(
      { topic: 'x', partition: 0, offset: 1, timestamp: 0, key: null, value: null, headers: [] },
      { collect: (v) => out.push(v) },
    );
    expect(out).toEqual(['héllo']);
    const rec = KafkaRecordSerializationSchema.builder<string>()
      .setTopic('out')
      .setValueSerializationSchema(schema)
      .setKeySerializationSchema(schema)
      .build()
      .serialize('k', { timestamp: 5 });
    expect(rec.topic).toBe('out');
    expect(new TextDecoder().decode(rec.key!)).toBe('k');
    expect(rec.timestamp).toBe(5);
  });
});
