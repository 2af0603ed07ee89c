// Running counts per key (keyed ValueState) written through two exactly-once FileSinks while the
// job checkpoints often: one with Flink's default rolling policy (parts roll after 60 s, so a run
// of ~20 s commits one part per subtask, at its end), one rolling every few seconds into
// per-minute DateTimeBucketAssigner buckets with its own part names. The test compares both
// outputs with a plain count and checks the number of part files follows the rolling policy, not
// the number of checkpoints.
//   args: <outDir> <count> <keys> <ratePerSecond> <checkpointIntervalMs> <rolloverMs>
import {
  DateTimeBucketAssigner,
  DefaultRollingPolicy,
  FileSink,
  OutputFileConfig,
  RestartStrategies,
  type StreamExecutionEnvironment,
} from 'weir';
import { keyedEvents } from './keyed-count.js';
import { KeyCounter } from './sp-count.js';

export const DEFAULT_SINK_DIR = 'default';
export const ROLLING_SINK_DIR = 'rolling';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, count, keys, rate, interval, rollover] = args;
  env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(10, 300));
  const counts = keyedEvents(env, Number(count), Number(keys), Number(rate))
    .keyBy((e) => e.key)
    .map(new KeyCounter())
    .uid('counter')
    .name('Counter');
  counts
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/${DEFAULT_SINK_DIR}`).build())
    .name('Default rolling')
    .uid('default-sink');
  counts
    .sinkTo(
      FileSink.forRowFormat<string>(`${outDir}/${ROLLING_SINK_DIR}`)
        .withRollingPolicy(
          DefaultRollingPolicy.builder()
            .withRolloverInterval(Number(rollover))
            .withInactivityInterval(Number(rollover))
            .build(),
        )
        .withBucketCheckInterval(Math.max(100, Math.floor(Number(rollover) / 6)))
        .withBucketAssigner(new DateTimeBucketAssigner('yyyy-MM-dd--HH-mm', 'UTC'))
        .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix('counts').withPartSuffix('.csv').build())
        .build(),
    )
    .name('Rolling buckets')
    .uid('rolling-sink');
}
