// Kafka to Kafka: reads the JSON clicks of the topic 'clicks', counts them per page in tumbling
// one-minute event-time windows (a watermark per partition, the click's own timestamp), and writes
// "page,windowStart,count" into the topic 'page-counts' exactly once.
//   weir run kafka-page-counts.weir -- <bootstrap host:port>
import {
  DeliveryGuarantee,
  JsonDeserializationSchema,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  OffsetsInitializer,
  ProcessWindowFunction,
  SimpleStringSchema,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';

interface Click {
  page: string;
  user: string;
  ts: number;
}

class CountPerPage extends ProcessWindowFunction<Click, string, string, TimeWindow> {
  process(page: string, ctx: ProcessWindowContext<TimeWindow>, clicks: Iterable<Click>, out: Collector<string>): void {
    let n = 0;
    for (const _ of clicks) n++;
    out.collect(`${page},${new Date(ctx.window.start).toISOString()},${n}`);
  }
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const bootstrap = args[0] ?? 'localhost:9092';
  env.enableCheckpointing(2000);
  const source = KafkaSource.builder<Click>()
    .setBootstrapServers(bootstrap)
    .setTopics('clicks')
    .setGroupId('example-page-counts')
    .setStartingOffsets(OffsetsInitializer.committedOffsets('EARLIEST'))
    .setValueOnlyDeserializer(new JsonDeserializationSchema<Click>())
    .setProperty('isolation.level', 'read_committed')
    .build();
  const sink = KafkaSink.builder<string>()
    .setBootstrapServers(bootstrap)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<string>()
        .setTopic('page-counts')
        .setValueSerializationSchema(new SimpleStringSchema())
        .build(),
    )
    .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
    .setTransactionalIdPrefix('example-page-counts')
    .build();
  env
    .fromSource(
      source,
      WatermarkStrategy.forBoundedOutOfOrderness<Click>(2000)
        .withTimestampAssigner((c) => c.ts)
        .withIdleness(10_000),
      'Kafka: clicks',
    )
    .uid('clicks-from-kafka')
    .keyBy((c) => c.page)
    .window(TumblingEventTimeWindows.of(60_000))
    .process(new CountPerPage())
    .uid('count-per-page')
    .name('Clicks per page and minute')
    .sinkTo(sink)
    .uid('page-counts-to-kafka')
    .name('Kafka: page-counts');
  await env.execute('Page counts from Kafka');
}
