// Benchmark job: keyed state of a known size, then steady updates while checkpoints are taken.
//   args: <keys> <valueBytes> <ratePerSecond> <checkpointIntervalMs>
// An endless DataGeneratorSource: records 0 .. keys-1 fill one ValueState entry per key as fast
// as the job can; from then on records cycle over the keys at <ratePerSecond> (paced), each
// replacing its key's value. Every value is a string of exactly <valueBytes> ASCII characters,
// so the canonical state is about keys × valueBytes. keyBy is a shuffle between the two source
// and the two keyed subtasks, so barriers are aligned over a local and a remote channel.
import {
  DataGeneratorSource,
  KeyedProcessFunction,
  RestartStrategies,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';
import { Pacer } from '../lib/pacer.js';

interface Update {
  index: number;
  key: number;
}

/**
 * Replaces the key's value by "<updates of the key>:" padded to the fixed size. A
 * KeyedProcessFunction rather than a RichMapFunction: its operator reports the state-entries
 * metric the benchmark watches to see the fill complete.
 */
class FixedSizeValue extends KeyedProcessFunction<number, Update, number> {
  private value!: ValueState<string>;

  constructor(private readonly valueBytes: number) {
    super();
  }

  override open(): void {
    this.value = this.getRuntimeContext().getState(new ValueStateDescriptor<string>('value'));
  }

  processElement(u: Update, _ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    const prev = this.value.value();
    const updates = prev === null ? 1 : parseInt(prev, 10) + 1;
    this.value.update(`${updates}:`.padEnd(this.valueBytes, '.'));
    out.collect(updates);
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [keys, valueBytes, rate, interval] = args.map(Number);
  if (!(keys! > 0 && valueBytes! >= 16 && rate! > 0 && interval! > 0))
    throw new Error('usage: state-fill <keys> <valueBytes> <ratePerSecond> <checkpointIntervalMs>');
  env.enableCheckpointing(interval!);
  env.setRestartStrategy(RestartStrategies.noRestart());
  const updates = env
    .fromSource(
      new DataGeneratorSource((i: number): Update => ({ index: i, key: i % keys! }), Infinity),
      WatermarkStrategy.noWatermarks(),
      'Updates',
    )
    .uid('updates');
  updates.addSink(new Pacer<Update>((u) => u.index, { freeRecords: keys!, ratePerSecond: rate! })).name('Pace');
  updates
    .keyBy((u: Update) => u.key)
    .process(new FixedSizeValue(valueBytes!))
    .uid('fixed-size-value')
    .name('Fixed-size value')
    .addSink(() => {})
    .name('Discard');
  void env.execute(`Bench: ${keys} keys × ${valueBytes} B of state`);
}
