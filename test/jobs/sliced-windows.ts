// Keyed event-time windows the WindowOperator slices (window-slicing.ts), checkpointed, for
// savepoint restores at another parallelism and on the other state backend:
//   sliding windows with an AggregateFunction (several slices per window) and allowed lateness,
//     "S,key,start,end,count,sum" per window;
//   tumbling windows with a ProcessWindowFunction over all elements (a window is one slice),
//     "T,key,start,count,sum" per window.
// Records come out of order by up to DISORDER_MS, and the watermark's bound covers that, so no
// record is late and every window fires exactly once whatever the timing.
//   args: <slidingOut> <tumblingOut> <count> <keys> <ratePerSecond> <checkpointIntervalMs>
import {
  DataGeneratorSource,
  FileSink,
  OnCheckpointRollingPolicy,
  RateLimiterStrategy,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type AggregateFunction,
  type Collector,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';

export const STEP_MS = 10;
export const DISORDER_MS = 150;
export const SLIDING = { size: 600, slide: 200, lateness: 300 };
export const TUMBLING_MS = 500;

export interface Rec {
  key: string;
  v: number;
  ts: number;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Record i: a seeded key and value, and a timestamp up to DISORDER_MS before its position. */
export function recordOf(i: number, keys: number): Rec {
  return {
    key: `k${mix(i + 0x51ed) % keys}`,
    v: 1 + (mix(i ^ 0x7a3c1) % 100),
    ts: i * STEP_MS - (mix(i * 31 + 7) % (DISORDER_MS + 1)),
  };
}

const countSum: AggregateFunction<Rec, { count: number; sum: number }, { count: number; sum: number }> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (r, acc) => {
    acc.count++;
    acc.sum += r.v;
    return acc;
  },
  getResult: (acc) => acc,
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
};

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [slidingOut, tumblingOut, count, keys, rate, interval] = args;
  const k = Number(keys);
  env.enableCheckpointing(Number(interval));
  const records = env
    .fromSource(
      new DataGeneratorSource(
        (i: number) => recordOf(i, k),
        Number(count),
        RateLimiterStrategy.perSecond(Number(rate)),
      ),
      WatermarkStrategy.forBoundedOutOfOrderness<Rec>(DISORDER_MS).withTimestampAssigner((r) => r.ts),
      'Records',
    )
    .uid('records');
  const sink = (dir: string) =>
    FileSink.forRowFormat<string>(dir).withRollingPolicy(OnCheckpointRollingPolicy.build()).build();
  records
    .keyBy((r: Rec) => r.key)
    .window(SlidingEventTimeWindows.of(SLIDING.size, SLIDING.slide))
    .allowedLateness(SLIDING.lateness)
    .aggregate(
      countSum,
      (
        key: string,
        ctx: ProcessWindowContext<TimeWindow>,
        results: Iterable<{ count: number; sum: number }>,
        out: Collector<string>,
      ) => {
        for (const r of results) out.collect(`S,${key},${ctx.window.start},${ctx.window.end},${r.count},${r.sum}`);
      },
    )
    .uid('sliding')
    .sinkTo(sink(slidingOut!))
    .uid('sliding-sink');
  records
    .keyBy((r: Rec) => r.key)
    .window(TumblingEventTimeWindows.of(TUMBLING_MS))
    .process((key: string, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Rec>, out: Collector<string>) => {
      const all = [...elements];
      out.collect(`T,${key},${ctx.window.start},${all.length},${all.reduce((s, r) => s + r.v, 0)}`);
    })
    .uid('tumbling')
    .sinkTo(sink(tumblingOut!))
    .uid('tumbling-sink');
}
