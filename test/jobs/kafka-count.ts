// Kafka in, Kafka out: a keyed running count of "key,seq" records from a topic, written as
// "key,count" through a KafkaSink. Exactly once, the output holds each key's counts 1..n once.
//   args: <bootstrap> <inTopic> <outTopic> <transactionalIdPrefix> <checkpointIntervalMs> [deliveryGuarantee] [bounded]
import {
  DeliveryGuarantee,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  OffsetsInitializer,
  RestartStrategies,
  SimpleStringSchema,
  ValueStateDescriptor,
  WatermarkStrategy,
  KeyedProcessFunction,
  type Collector,
  type KeyedProcessContext,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';

class RunningCount extends KeyedProcessFunction<string, string, string> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count'));
  }

  processElement(line: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(`${ctx.getCurrentKey()},${n}`);
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [bootstrap, inTopic, outTopic, prefix, interval, guarantee, bounded] = args;
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(100, 200));
  const source = KafkaSource.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setTopics(inTopic!)
    .setGroupId(`${prefix}-group`)
    .setStartingOffsets(OffsetsInitializer.earliest())
    .setValueOnlyDeserializer(new SimpleStringSchema())
    .setProperty('partition.discovery.interval.ms', 1000);
  // Bounded: read up to the end the topic has when the job starts, then FINISH.
  if (bounded === 'bounded') source.setBounded(OffsetsInitializer.latest());
  const built = source.build();
  const sink = KafkaSink.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<string>()
        .setTopic(outTopic!)
        .setValueSerializationSchema(new SimpleStringSchema())
        .build(),
    )
    .setDeliveryGuarantee(guarantee ? (guarantee as DeliveryGuarantee) : DeliveryGuarantee.EXACTLY_ONCE)
    .setTransactionalIdPrefix(prefix!)
    .build();
  env
    .fromSource(built, WatermarkStrategy.noWatermarks<string>(), 'Kafka orders')
    .uid('kafka-source')
    .keyBy((line) => line.split(',')[0]!)
    .process(new RunningCount())
    .uid('running-count')
    .name('RunningCount')
    .sinkTo(sink)
    .uid('kafka-sink');
}
