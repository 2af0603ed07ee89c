// Benchmark job: running count per key in ValueState, with or without checkpoints.
//   args: <records> <keys> <checkpointIntervalMs, 0: no checkpoints>
// DataGeneratorSource (no rate limit) → keyBy(key) → CountPerKey (ValueState) → no-op sink.
// A failure fails the job: the benchmark measures throughput, not restarts.
import { DataGeneratorSource, RestartStrategies, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';
import { CountPerKey } from '../lib/count-per-key.js';
import { consume, eventAt, type CountEvent } from '../lib/keyed-records.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [records, keys, interval] = args.map(Number);
  if (!(records! > 0 && keys! > 0 && interval! >= 0))
    throw new Error('usage: checkpointed-count <records> <keys> <checkpointIntervalMs|0>');
  if (interval! > 0) env.enableCheckpointing(interval!);
  env.setRestartStrategy(RestartStrategies.noRestart());
  env
    .fromSource(
      new DataGeneratorSource((i: number) => eventAt(i, keys!), records!),
      WatermarkStrategy.noWatermarks(),
      'Events',
    )
    .uid('events')
    .keyBy((e: CountEvent) => e.key)
    .map(new CountPerKey())
    .uid('count-per-key')
    .name('Count per key')
    .addSink((e: CountEvent) => consume(e))
    .name('Discard');
  void env.execute(`Bench: keyed count, checkpoints ${interval ? `every ${interval} ms` : 'off'}`);
}
