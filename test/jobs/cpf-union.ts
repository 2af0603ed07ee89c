// Reference data from a bounded source unioned with an endless stream of events (Flink's
// checkpoints after tasks finished, FLIP-147): running counts per key in keyed state, written
// through the exactly-once FileSink, which rolls a part at every checkpoint so committed files
// appear while the job runs. Keys are a seeded hash of each record's source and index, so the
// test's reference loop (test/reference/union-counts.ts) sees the same input.
//   args: <outDir> <refCount> <refPerSecond> <eventCount|inf> <eventsPerSecond> <keys> <seed> <checkpointIntervalMs>
import {
  DataGeneratorSource,
  FileSink,
  OnCheckpointRollingPolicy,
  RateLimiterStrategy,
  RestartStrategies,
  RichMapFunction,
  ValueStateDescriptor,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';

export interface Keyed {
  key: number;
}

/** Seeded integer hash of (source, index) onto 0..keys-1. */
export function unionKeyOf(source: number, i: number, keys: number, seed: number): number {
  let x = Math.imul((i + 1) ^ Math.imul(seed, 0x9e3779b9) ^ Math.imul(source + 1, 0x7feb352d), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) % keys;
}

export const REFERENCE_SOURCE = 0;
export const EVENT_SOURCE = 1;

class Counter extends RichMapFunction<Keyed, string> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  map(e: Keyed): string {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    return `${e.key},${n}`;
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, refCount, refRate, eventCount, eventRate, keysArg, seedArg, interval] = args;
  const keys = Number(keysArg);
  const seed = Number(seedArg);
  env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(10, 200));
  const reference = env
    .fromSource(
      new DataGeneratorSource(
        (i: number): Keyed => ({ key: unionKeyOf(REFERENCE_SOURCE, i, keys, seed) }),
        Number(refCount),
        RateLimiterStrategy.perSecond(Number(refRate)),
      ),
      WatermarkStrategy.noWatermarks(),
      'Reference data',
    )
    .uid('reference');
  const events = env
    .fromSource(
      new DataGeneratorSource(
        (i: number): Keyed => ({ key: unionKeyOf(EVENT_SOURCE, i, keys, seed) }),
        eventCount === 'inf' ? Infinity : Number(eventCount),
        RateLimiterStrategy.perSecond(Number(eventRate)),
      ),
      WatermarkStrategy.noWatermarks(),
      'Events',
    )
    .uid('events');
  reference
    .union(events)
    .keyBy((e) => e.key)
    .map(new Counter())
    .uid('counter')
    .name('Counter')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Counts')
    .uid('counts');
}
