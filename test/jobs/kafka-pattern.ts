// Copies every topic matching a pattern into one output topic, discovering new topics as they
// appear; commits its offsets to a consumer group on each checkpoint (for lag monitoring).
//   args: <bootstrap> <topicPatternSource> <outTopic> <groupId>
import {
  DeliveryGuarantee,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  OffsetsInitializer,
  SimpleStringSchema,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [bootstrap, pattern, outTopic, group] = args;
  env.enableCheckpointing(500);
  const source = KafkaSource.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setTopicPattern(new RegExp(pattern!))
    .setGroupId(group!)
    .setStartingOffsets(OffsetsInitializer.earliest())
    .setValueOnlyDeserializer(new SimpleStringSchema())
    .setProperty('partition.discovery.interval.ms', 500)
    .build();
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
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Kafka pattern')
    .map((v) => v.toUpperCase())
    .sinkTo(sink);
}
