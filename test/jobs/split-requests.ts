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
  RichMapFunction,
  WatermarkStrategy,
  type CheckpointListener,
  type StreamExecutionEnvironment,
} from 'weir';

class Paced extends RichMapFunction<number, string> implements CheckpointListener {
  private checkpointed = false;

  constructor(
    private readonly slowUs: number,
    private readonly fastUs: number,
    private readonly failAt: number,
  ) {
    super();
  }

  notifyCheckpointComplete(): void {
    this.checkpointed = true;
  }

  map(i: number): string {
    const ctx = this.getRuntimeContext();
    const subtask = ctx.getIndexOfThisSubtask();
    if (this.failAt >= 0 && i >= this.failAt && this.checkpointed && ctx.getAttemptNumber() === 0)
      throw new Error(`planned failure at index ${i}`);
    const until = performance.now() + (subtask === 0 ? this.slowUs : this.fastUs) / 1000;
    while (performance.now() < until);
    return `${i},${subtask}`;
  }
}

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
    .map(new Paced(Number(slowUs), Number(fastUs), Number(failAt)))
    .uid('paced')
    .name('Paced')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Indexes out');
}
