// Keyed event-time tumbling windows over an ascending generator, checkpointed, for
// stop-with-savepoint with and without --drain: "key,windowStart,count" per fired window. The
// sink rolls a part at every checkpoint (OnCheckpointRollingPolicy), so tests see windows
// committed while the job runs.
//   args: <outDir> <count> <keys> <ratePerSecond> <checkpointIntervalMs>
import {
  DataGeneratorSource,
  FileSink,
  OnCheckpointRollingPolicy,
  RateLimiterStrategy,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';
import { keyOf } from './keyed-count.js';

/** Event time of record i: 10 ms apart, so a 1 s window holds 100 records. */
export const tsOf = (i: number) => i * 10;
export const WINDOW_MS = 1000;

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, count, keys, rate, interval] = args;
  const k = Number(keys);
  env.enableCheckpointing(Number(interval));
  env
    .fromSource(
      new DataGeneratorSource(
        (i: number) => ({ key: keyOf(i, k), ts: tsOf(i) }),
        Number(count),
        RateLimiterStrategy.perSecond(Number(rate)),
      ),
      WatermarkStrategy.forMonotonousTimestamps<{ key: number; ts: number }>().withTimestampAssigner((e) => e.ts),
      'Events',
    )
    .uid('events')
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .process(
      (key: number, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<unknown>, out: Collector<string>) => {
        out.collect(`${key},${ctx.window.start},${[...elements].length}`);
      },
    )
    .uid('windows')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build());
}
