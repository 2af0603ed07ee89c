// Kafka in, Kafka out over SASL_PLAINTEXT with mechanism PLAIN: copies a topic (bounded: up to its
// end at the start) through an EXACTLY_ONCE KafkaSink, both logging in with the given credentials
// as Flink users configure them. No restarts: wrong credentials fail the job.
//   args: <bootstrap> <inTopic> <outTopic> <username> <password> <transactionalIdPrefix>
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

/** A JAAS quoted string: backslashes and double quotes escaped. */
function quoted(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [bootstrap, inTopic, outTopic, username, password, prefix] = args;
  env.enableCheckpointing(300);
  env.setRestartStrategy(RestartStrategies.noRestart());
  const security = {
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username=${quoted(username!)} password=${quoted(password!)};`,
  };
  const source = KafkaSource.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setTopics(inTopic!)
    .setStartingOffsets(OffsetsInitializer.earliest())
    .setBounded(OffsetsInitializer.latest())
    .setValueOnlyDeserializer(new SimpleStringSchema())
    .setProperties(security)
    .setProperty('request.timeout.ms', 10_000)
    .build();
  const sink = KafkaSink.builder<string>()
    .setBootstrapServers(bootstrap!)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<string>()
        .setTopic(outTopic!)
        .setValueSerializationSchema(new SimpleStringSchema())
        .build(),
    )
    .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
    .setTransactionalIdPrefix(prefix!)
    .setProperty('security.protocol', security['security.protocol'])
    .setProperty('sasl.mechanism', security['sasl.mechanism'])
    .setProperty('sasl.jaas.config', security['sasl.jaas.config'])
    .build();
  env
    .fromSource(source, WatermarkStrategy.noWatermarks<string>(), 'SASL input')
    .uid('sasl-source')
    .map((line: string) => `copied:${line}`)
    .name('Copy')
    .sinkTo(sink)
    .uid('sasl-sink');
}
