// A broken new version of sp-count.ts for deployment rollbacks: the same operators and uids (so it
// restores the savepoint), but its counter throws at the first record, so the job keeps restarting
// (fixed-delay, 3 attempts) and then fails, before any of its checkpoints could complete.
//   args: as sp-count.ts
import {
  FileSink,
  OnCheckpointRollingPolicy,
  RichMapFunction,
  ValueStateDescriptor,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';
import { events, type Ev } from './sp-count.js';

class BrokenCounter extends RichMapFunction<Ev, string> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  map(e: Ev): string {
    throw new Error(`broken version: cannot count key ${e.key} (count so far ${this.count.value() ?? 0})`);
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  events(env, args)
    .keyBy((e) => e.key)
    .map(new BrokenCounter())
    .uid('counter')
    .name('Counter')
    .sinkTo(FileSink.forRowFormat<string>(args[0]!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Counts');
}
