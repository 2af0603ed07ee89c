// Benchmark job: Kafka in, a map, Kafka out. Values are small JSON objects ({"seq":..,"t":..,...});
// the map parses each, adds a field and writes it back as JSON. Records keep their Kafka timestamp
// (the source emits it as the record timestamp, the sink writes it).
//   args: <bootstrap> <inTopic> <outTopic> <deliveryGuarantee> <checkpointIntervalMs> <bounded: 1|0> <transactionalIdPrefix>
// bounded=1 stops each partition at its end offset when the job starts (the job FINISHES);
// bounded=0 reads on until the job is canceled. No restarts: a failure fails the measurement.
import {
  DeliveryGuarantee,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  OffsetsInitializer,
  RestartStrategies,
  SimpleStringSchema,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [bootstrap, inTopic, outTopic, guarantee, interval, bounded, prefix] = args;
  if (!bootstrap || !inTopic || !outTopic || !guarantee || !prefix) {
    throw new Error(
      'usage: kafka-map <bootstrap> <inTopic> <outTopic> <guarantee> <checkpointIntervalMs> <bounded 1|0> <transactionalIdPrefix>',
    );
  }
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(RestartStrategies.noRestart());
  const builder = KafkaSource.builder<string>()
    .setBootstrapServers(bootstrap)
    .setTopics(inTopic)
    .setGroupId(`${prefix}-group`)
    .setStartingOffsets(OffsetsInitializer.earliest())
    .setValueOnlyDeserializer(new SimpleStringSchema());
  if (bounded === '1') builder.setBounded(OffsetsInitializer.latest());
  const sink = KafkaSink.builder<string>()
    .setBootstrapServers(bootstrap)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<string>()
        .setTopic(outTopic)
        .setValueSerializationSchema(new SimpleStringSchema())
        .build(),
    )
    .setDeliveryGuarantee(guarantee as DeliveryGuarantee)
    .setTransactionalIdPrefix(prefix)
    .build();
  env
    .fromSource(builder.build(), WatermarkStrategy.noWatermarks<string>(), 'Kafka in')
    .uid('kafka-in')
    .map((value: string) => {
      const r = JSON.parse(value) as Record<string, unknown>;
      r.mapped = true;
      return JSON.stringify(r);
    })
    .name('Map')
    .uid('map')
    .sinkTo(sink)
    .name('Kafka out')
    .uid('kafka-out');
  void env.execute(`Bench: kafka map (${guarantee})`);
}
