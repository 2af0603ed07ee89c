// Generated clicks into Kafka: a rate-limited generator written as JSON into the topic 'clicks',
// keyed by page, through an exactly-once KafkaSink. `npm start` runs it beside the development
// broker; examples/kafka-page-counts.ts reads what it writes.
//   weir run kafka-clicks-producer.weir -- <bootstrap host:port> [clicks per second, default 100]
import {
  DataGeneratorSource,
  DeliveryGuarantee,
  JsonSerializationSchema,
  KafkaRecordSerializationSchema,
  KafkaSink,
  RateLimiterStrategy,
  SimpleStringSchema,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

interface Click {
  page: string;
  user: string;
  ts: number;
}

const PAGES = ['/', '/products', '/cart', '/checkout', '/help', '/about'];

function click(index: number): Click {
  const h = Math.imul(index + 1, 2654435761) >>> 0;
  return { page: PAGES[h % PAGES.length]!, user: `user-${(h >>> 8) % 50}`, ts: Date.now() };
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const bootstrap = args[0] ?? 'localhost:9092';
  const rate = Number(args[1] ?? 100);
  env.enableCheckpointing(2000);
  const keyOf = new SimpleStringSchema();
  const sink = KafkaSink.builder<Click>()
    .setBootstrapServers(bootstrap)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<Click>()
        .setTopic('clicks')
        .setKeySerializationSchema({ serialize: (c) => keyOf.serialize(c.page) })
        .setValueSerializationSchema(new JsonSerializationSchema<Click>())
        .build(),
    )
    .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
    .setTransactionalIdPrefix('example-clicks')
    .build();
  env
    .fromSource(
      new DataGeneratorSource(click, Infinity, RateLimiterStrategy.perSecond(rate)),
      WatermarkStrategy.noWatermarks(),
      'Generated clicks',
    )
    .uid('generated-clicks')
    .sinkTo(sink)
    .uid('clicks-to-kafka')
    .name('Kafka: clicks');
  await env.execute('Clicks into Kafka');
}
