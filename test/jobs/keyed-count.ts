// Keyed running counts over randomized keys; the test compares the last count per key with a
// plain loop over the same generator.
import {
  DataGeneratorSource,
  FileSink,
  RateLimiterStrategy,
  WatermarkStrategy,
  type DataStream,
  type StreamExecutionEnvironment,
} from 'weir';

/** Deterministic pseudo-random key of record i (seeded integer hash). */
export function keyOf(i: number, keys: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) % keys;
}

export interface Ev {
  key: number;
  value: number;
}

/** Records 0..count-1 as {key: keyOf(i), value: i} at `rate` per second, with the uid 'events' every version of a job keeps. */
export function keyedEvents(
  env: StreamExecutionEnvironment,
  count: number,
  keys: number,
  rate: number,
): DataStream<Ev> {
  return env
    .fromSource(
      new DataGeneratorSource(
        (i: number): Ev => ({ key: keyOf(i, keys), value: i }),
        count,
        RateLimiterStrategy.perSecond(rate),
      ),
      WatermarkStrategy.noWatermarks(),
      'Events',
    )
    .uid('events');
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const [outDir, count = '100000', keys = '500'] = args;
  const k = Number(keys);
  env
    .fromSource(
      new DataGeneratorSource((i: number) => ({ key: keyOf(i, k), value: i }), Number(count)),
      WatermarkStrategy.noWatermarks(),
      'Events',
    )
    .keyBy((e: { key: number }) => e.key)
    .reduce((a: { key: number; value: number; n?: number }, b: { key: number; value: number }) => ({
      key: a.key,
      value: a.value + b.value,
      n: (a.n ?? 1) + 1,
    }))
    .uid('sums')
    .map((r: { key: number; value: number; n?: number }) => `${r.key},${r.value},${r.n ?? 1}`)
    .sinkTo(FileSink.forRowFormat<string>(outDir!).build());
  await env.execute('Keyed count');
}
