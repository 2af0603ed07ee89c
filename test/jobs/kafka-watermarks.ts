// Event-time windows over a Kafka topic with a watermark per partition: counts per one-second
// window of the timestamps in the records ("<partition>,<ts>"), written as "<windowStart>,<count>".
//   args: <bootstrap> <inTopic> <outTopic> <idlenessMs or 0>
import {
  DeliveryGuarantee,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  OffsetsInitializer,
  SimpleStringSchema,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [bootstrap, inTopic, outTopic, idleness] = args;
  const source = KafkaSource.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setTopics(inTopic!)
    .setStartingOffsets(OffsetsInitializer.earliest())
    .setValueOnlyDeserializer(new SimpleStringSchema())
    .build();
  let strategy = WatermarkStrategy.forBoundedOutOfOrderness<string>(0).withTimestampAssigner((line) =>
    Number(line.split(',')[1]),
  );
  if (Number(idleness) > 0) strategy = strategy.withIdleness(Number(idleness));
  const sink = KafkaSink.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<string>()
        .setTopic(outTopic!)
        .setValueSerializationSchema(new SimpleStringSchema())
        .build(),
    )
    .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
    .build();
  env
    .fromSource(source, strategy, 'Kafka timestamps')
    .setParallelism(1)
    .map((line) => ({ n: 1, ts: Number(line.split(',')[1]) }))
    .windowAll(TumblingEventTimeWindows.of(1000))
    .process({
      process(ctx: { window: { start: number } }, items: Iterable<{ n: number }>, out: { collect(v: string): void }) {
        let n = 0;
        for (const i of items) n += i.n;
        out.collect(`${ctx.window.start},${n}`);
      },
    })
    .sinkTo(sink);
}
