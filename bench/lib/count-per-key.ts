// The keyed function of the checkpointing benchmarks: a running count per key in user keyed
// state (ValueState in a RichMapFunction after keyBy), so checkpoints have state to write.
import { RichMapFunction, ValueStateDescriptor, type ValueState } from 'weir';
import type { CountEvent } from './keyed-records.js';

export class CountPerKey<E extends CountEvent> extends RichMapFunction<E, CountEvent> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count'));
  }

  map(e: E): CountEvent {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    return { key: e.key, value: e.value, count: n };
  }
}
