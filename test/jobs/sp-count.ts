// Version 1 of a job upgraded through savepoints: running counts per key in keyed ValueState,
// written through the exactly-once FileSink. Every stateful operator has a uid, so a newer bundle
// (sp-count-v2.ts) finds its state. The sink rolls a part at every checkpoint
// (OnCheckpointRollingPolicy), so tests see counts committed while the job runs.
//   args: <outDir> <count> <keys> <ratePerSecond> <checkpointIntervalMs|0> [maxParallelism]
import {
  FileSink,
  OnCheckpointRollingPolicy,
  RestartStrategies,
  RichMapFunction,
  ValueStateDescriptor,
  type DataStream,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';
import { keyedEvents, type Ev } from './keyed-count.js';

export type { Ev };

/** "key,n": the n-th record of its key. `format` lets a newer version change the function. */
export class KeyCounter extends RichMapFunction<Ev, string> {
  private count!: ValueState<number>;

  constructor(private readonly format: (key: number, n: number) => string = (k, n) => `${k},${n}`) {
    super();
  }

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  map(e: Ev): string {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    return this.format(e.key, n);
  }
}

/** The source every version shares (same uid, so its positions continue from a savepoint). */
export function events(env: StreamExecutionEnvironment, args: string[]): DataStream<Ev> {
  const [, count, keys, rate, interval, maxParallelism] = args;
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  if (maxParallelism) env.setMaxParallelism(Number(maxParallelism));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 200));
  return keyedEvents(env, Number(count), Number(keys), Number(rate));
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  events(env, args)
    .keyBy((e) => e.key)
    .map(new KeyCounter())
    .uid('counter')
    .name('Counter')
    .sinkTo(FileSink.forRowFormat<string>(args[0]!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Counts');
}
