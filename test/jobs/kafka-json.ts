// Reads JSON records from a topic and prints them; for the error cases (a record that is not JSON,
// a topic that does not exist, a broker that does not answer). No restarts: the first failure ends the job.
//   args: <bootstrap> <topic> [request.timeout.ms]
import {
  JsonDeserializationSchema,
  KafkaSource,
  OffsetsInitializer,
  RestartStrategies,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [bootstrap, topic, timeout] = args;
  env.setRestartStrategy(RestartStrategies.noRestart());
  const source = KafkaSource.builder<unknown>()
    .setBootstrapServers(bootstrap!)
    .setTopics(topic!)
    .setStartingOffsets(OffsetsInitializer.earliest())
    .setValueOnlyDeserializer(new JsonDeserializationSchema())
    .setProperty('request.timeout.ms', timeout ?? 30000)
    .build();
  env.fromSource(source, WatermarkStrategy.noWatermarks(), 'Kafka JSON').print();
}
