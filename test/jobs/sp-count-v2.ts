// Version 2 of sp-count.ts: the counter's function changed (it formats through another path) and
// a new stateful operator (uid 'since-upgrade') counts per key from the upgrade on, into a second
// sink. With variant 'no-counter' the counter is gone (its state has no home); with 'list-state'
// it declares its state as a list under the old name.
//   args: <outDir> <count> <keys> <ratePerSecond> <checkpointIntervalMs|0> <maxParallelism|''> <sinceDir> [normal|no-counter|list-state]
import {
  FileSink,
  ListStateDescriptor,
  OnCheckpointRollingPolicy,
  RichMapFunction,
  ValueStateDescriptor,
  type ListState,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';
import { events, KeyCounter, type Ev } from './sp-count.js';

class SinceUpgrade extends RichMapFunction<string, string> {
  private seen!: ValueState<number>;

  override open(): void {
    this.seen = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('seen', 0));
  }

  map(line: string): string {
    const n = (this.seen.value() ?? 0) + 1;
    this.seen.update(n);
    return `${line.split(',')[0]},${n}`;
  }
}

/** The counter with its state declared as a list under the same name: an incompatible change. */
class ListCounter extends RichMapFunction<Ev, string> {
  private count!: ListState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getListState(new ListStateDescriptor<number>('count'));
  }

  map(e: Ev): string {
    this.count.add(1);
    return `${e.key},${[...this.count.get()].length}`;
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, , , , , , sinceDir, variant = 'normal'] = args;
  const source = events(env, args);
  const counted =
    variant === 'no-counter'
      ? source.map((e) => `${e.key},0`).name('Stateless')
      : source
          .keyBy((e) => e.key)
          .map(variant === 'list-state' ? new ListCounter() : new KeyCounter((k, n) => [k, n].join(',')))
          .uid('counter')
          .name('Counter v2');
  counted
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Counts');
  counted
    .keyBy((l) => l.split(',')[0]!)
    .map(new SinceUpgrade())
    .uid('since-upgrade')
    .name('Since upgrade')
    .sinkTo(FileSink.forRowFormat<string>(sinceDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Since');
}
