// Benchmark job: running count per key over generated {key, value} records.
//   args: [records = 1000000, keys = 10000]
// DataGeneratorSource → keyBy(key) → reduce (running count) → no-op sink. At parallelism 1 the
// hash edge chains, so the whole pipeline is one task.
import { DataGeneratorSource, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';
import { consume, countReduce, DEFAULT_KEYS, eventAt, type CountEvent } from '../lib/keyed-records.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const records = Number(args[0] ?? 1_000_000);
  const keys = Number(args[1] ?? DEFAULT_KEYS);
  env
    .fromSource(
      new DataGeneratorSource((i: number) => eventAt(i, keys), records),
      WatermarkStrategy.noWatermarks(),
      'Events',
    )
    .keyBy((e: CountEvent) => e.key)
    .reduce(countReduce)
    .uid('running-count')
    .name('Running count')
    .addSink((e: CountEvent) => consume(e))
    .name('Discard');
  void env.execute('Bench: keyed count');
}
