// Every line of a FileSource's files, once, through the exactly-once FileSink as "line,subtask".
// The source is bounded, or endless with monitorContinuously(<discoveryMs>). A map chained after it
// spends `slowUs` per line on source subtask 0 and `fastUs` on the others, so the subtasks read at
// different speeds; it fails once (first attempt) when a subtask has mapped `failAt` lines or more
// and a checkpoint completed. `restart` is 'fixed' (fixedDelayRestart(10, 200)) or 'none'.
//   args: <outDir> <bounded|discoveryMs> <checkpointIntervalMs> <slowUs> <fastUs> <failAt|-1> <fixed|none> <path>...
import {
  FileSink,
  FileSource,
  OnCheckpointRollingPolicy,
  RestartStrategies,
  RichMapFunction,
  TextLineInputFormat,
  WatermarkStrategy,
  type CheckpointListener,
  type StreamExecutionEnvironment,
} from 'weir';

class Tagged extends RichMapFunction<string, string> implements CheckpointListener {
  private checkpointed = false;
  private mapped = 0;

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

  map(line: string): string {
    const ctx = this.getRuntimeContext();
    const subtask = ctx.getIndexOfThisSubtask();
    this.mapped++;
    if (this.failAt >= 0 && this.mapped >= this.failAt && this.checkpointed && ctx.getAttemptNumber() === 0)
      throw new Error(`planned failure at line ${line}`);
    const until = performance.now() + (subtask === 0 ? this.slowUs : this.fastUs) / 1000;
    while (performance.now() < until);
    return `${line},${subtask}`;
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, discovery, interval, slowUs, fastUs, failAt, restart, ...paths] = args;
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(
    restart === 'none' ? RestartStrategies.noRestart() : RestartStrategies.fixedDelayRestart(10, 200),
  );
  const builder = FileSource.forRecordStreamFormat(new TextLineInputFormat(), ...paths);
  if (discovery !== 'bounded') builder.monitorContinuously(Number(discovery));
  env
    .fromSource(builder.build(), WatermarkStrategy.noWatermarks(), 'Lines')
    .uid('lines')
    .map(new Tagged(Number(slowUs), Number(fastUs), Number(failAt)))
    .uid('tagged')
    .name('Tagged')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Lines out');
}
