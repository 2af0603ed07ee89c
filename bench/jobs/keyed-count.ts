// Benchmark job: running count per key over generated {key, value} records, or [key, value] tuples.
//   args: [records = 1000000, keys = 10000, objects|tuples = objects] [warm <events> <file>]
//   (warm: each source subtask appends to file the time it passes index <events>: bench/jobs/warm-mark.ts)
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
import { withWarmMark, type WarmOption } from './warm-mark.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const records = Number(args[0] ?? 1_000_000);
  const keys = Number(args[1] ?? DEFAULT_KEYS);
  const shape = args[2] ?? 'objects';
  const warm = warmOption(args.slice(3));
  if (shape === 'objects')
    runningCount(
      env,
      records,
      withWarmMark((i) => eventAt(i, keys), warm),
      (e: CountEvent) => e.key,
      countReduce,
      consume,
    );
  else if (shape === 'tuples')
    runningCount(
      env,
      records,
      withWarmMark((i) => tupleAt(i, keys), warm),
      (e: CountTuple) => e[0],
      countTupleReduce,
      consumeTuple,
    );
  else throw new Error(`unknown record shape '${shape}' (objects or tuples)`);
  void env.execute('Bench: keyed count');
}

function warmOption(rest: string[]): WarmOption | undefined {
  if (rest.length === 0) return undefined;
  const [word, events, file] = rest;
  if (word !== 'warm' || events === undefined || file === undefined || rest.length > 3)
    throw new Error(`unknown arguments after the record shape: ${rest.join(' ')} (warm <events> <file>)`);
  return { events: Number(events), file };
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
