// Running counts per key in user keyed state (ValueState in a RichMapFunction after keyBy),
// checkpointed and written through the exactly-once FileSink; optionally fails once, on the first
// attempt, at the first record from <failAtRecord> on once a checkpoint completed. The test checks every key's updates are exactly 1..N. The sink rolls a
// part at every checkpoint (OnCheckpointRollingPolicy), so tests see counts committed while the
// job runs.
//   args: <outDir> <count> <keys> <ratePerSecond> <failAtRecord|-1> <checkpointIntervalMs> [EXACTLY_ONCE|AT_LEAST_ONCE]
import {
  CheckpointingMode,
  FileSink,
  OnCheckpointRollingPolicy,
  RestartStrategies,
  RichMapFunction,
  ValueStateDescriptor,
  type CheckpointListener,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';
import { keyedEvents, type Ev } from './keyed-count.js';

class Counter extends RichMapFunction<Ev, string> implements CheckpointListener {
  private count!: ValueState<number>;
  /** The planned failure waits for a completed checkpoint, so the restart always has one to restore (whatever the machine's load). */
  private checkpointed = false;

  constructor(private readonly failAt: number) {
    super();
  }

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  notifyCheckpointComplete(): void {
    this.checkpointed = true;
  }

  map(e: Ev): string {
    if (
      this.failAt >= 0 &&
      e.value >= this.failAt &&
      this.checkpointed &&
      this.getRuntimeContext().getAttemptNumber() === 0
    )
      throw new Error(`planned failure at record ${this.failAt}`);
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    return `${e.key},${n}`;
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, count, keys, rate, failAt, interval, mode = 'EXACTLY_ONCE'] = args;
  env.enableCheckpointing(
    Number(interval),
    mode === 'AT_LEAST_ONCE' ? CheckpointingMode.AT_LEAST_ONCE : CheckpointingMode.EXACTLY_ONCE,
  );
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(10, 200));
  keyedEvents(env, Number(count), Number(keys), Number(rate))
    .keyBy((e) => e.key)
    .map(new Counter(Number(failAt)))
    .uid('counter')
    .name('Counter')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Counts');
}
