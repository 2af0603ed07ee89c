// Benchmark job: running count per key over generated {key, value} records, or [key, value] tuples.
//   args: [records = 1000000, keys = 10000, objects|tuples = objects]
// DataGeneratorSource → keyBy(key) → reduce (running count) → no-op sink. At parallelism 1 the
// hash edge chains, so the whole pipeline is one task.
import { DataGeneratorSource, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';
import {
  consume,
  consumeTuple,
  countReduce,
  countTupleReduce,
  DEFAULT_KEYS,
  eventAt,
  tupleAt,
  type CountEvent,
  type CountTuple,
} from '../lib/keyed-records.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const records = Number(args[0] ?? 1_000_000);
  const keys = Number(args[1] ?? DEFAULT_KEYS);
  const shape = args[2] ?? 'objects';
  if (shape === 'objects')
    runningCount(
      env,
      records,
      (i) => eventAt(i, keys),
      (e: CountEvent) => e.key,
      countReduce,
      consume,
    );
  else if (shape === 'tuples')
    runningCount(
      env,
      records,
      (i) => tupleAt(i, keys),
      (e: CountTuple) => e[0],
      countTupleReduce,
      consumeTuple,
    );
  else throw new Error(`unknown record shape '${shape}' (objects or tuples)`);
  void env.execute('Bench: keyed count');
}

function runningCount<T>(
  env: StreamExecutionEnvironment,
  records: number,
  generate: (i: number) => T,
  key: (e: T) => number,
  reduce: (acc: T, e: T) => T,
  sink: (e: T) => void,
): void {
  env
    .fromSource(new DataGeneratorSource(generate, records), WatermarkStrategy.noWatermarks(), 'Events')
    .keyBy(key)
    .reduce(reduce)
    .uid('running-count')
    .name('Running count')
    .addSink(sink)
    .name('Discard');
}
