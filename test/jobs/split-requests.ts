// Every index of a bounded generator, once, through the exactly-once FileSink as "index,subtask".
// A chained map spends `slowUs` per record on source subtask 0 and `fastUs` on the others, so the
// subtasks read at different speeds; it fails once (first attempt) at the first index from
// `failAt` on after a checkpoint completed. With `rate` the generator is rate-limited (its indexes
// then interleave instead of being handed out on request).
//   args: <outDir> <count> <checkpointIntervalMs> <slowUs> <fastUs> <failAt|-1> [<rate|none>]
import {
  DataGeneratorSource,
  FileSink,
  OnCheckpointRollingPolicy,
  RateLimiterStrategy,
  RestartStrategies,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';
import { Paced } from './paced.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, count, interval, slowUs, fastUs, failAt, rate = 'none'] = args;
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(10, 200));
  const limiter = rate === 'none' ? RateLimiterStrategy.noOp() : RateLimiterStrategy.perSecond(Number(rate));
  env
    .fromSource(
      new DataGeneratorSource((i: number) => i, Number(count), limiter),
      WatermarkStrategy.noWatermarks(),
      'Indexes',
    )
    .uid('indexes')
    .map(new Paced<number>(Number(slowUs), Number(fastUs), Number(failAt), 'index', (i) => i))
    .uid('paced')
    .name('Paced')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Indexes out');
}
