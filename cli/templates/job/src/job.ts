// The job: clicks from a generator, a running click count per user (keyed state) and the views
// of each page per 10 seconds of event time (tumbling windows). Functions and the pipeline are
// exported so that the tests can run them on their own input.
//   weir run --local src/job.ts -- 50        (clicks per second; default 100)
import {
  DataGeneratorSource, KeyedProcessFunction, RateLimiterStrategy, TumblingEventTimeWindows, ValueStateDescriptor, WatermarkStrategy,
  type Collector, type DataStream, type KeyedProcessContext, type StreamExecutionEnvironment, type ValueState,
} from 'weir';

export interface Click {
  user: string;
  page: string;
  /** Event time, in milliseconds. */
  ts: number;
}

const USERS = 20;
const PAGES = ['/', '/products', '/cart', '/checkout', '/help'];

/** The index-th generated click: users and pages spread by a multiplicative hash, 100 ms apart, a little out of order. */
export function click(index: number): Click {
  const h = Math.imul(index + 1, 2654435761) >>> 0;
  return { user: `user-${h % USERS}`, page: PAGES[(h >>> 8) % PAGES.length]!, ts: index * 100 + (h % 500) };
}

/** A running count of each user's clicks, kept in keyed state. */
export class ClicksPerUser extends KeyedProcessFunction<string, Click, string> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('clicks', 0));
  }

  processElement(click: Click, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(`${ctx.getCurrentKey()} clicked ${n} times`);
  }
}

export const WINDOW_MS = 10_000;

/** Views per page and 10 s window of event time ("<page> <window end> <views>"), late by up to 1 s. */
export function pageViews(clicks: DataStream<Click>): DataStream<string> {
  return clicks
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(1000).withTimestampAssigner((c) => c.ts))
    .keyBy((c) => c.page)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .aggregate(
      { createAccumulator: () => 0, add: (_c: Click, n: number) => n + 1, getResult: (n: number) => n, merge: (a: number, b: number) => a + b },
      (page: string, ctx, views: Iterable<number>, out: Collector<string>) => {
        for (const n of views) out.collect(`${page} ${ctx.window.end} ${n}`);
      },
    )
    .uid('page-views');
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const perSecond = Number(args[0] ?? 100);
  const clicks = env.fromSource(new DataGeneratorSource(click, Infinity, RateLimiterStrategy.perSecond(perSecond)), WatermarkStrategy.noWatermarks(), 'Clicks').uid('clicks');
  clicks.keyBy((c) => c.user).process(new ClicksPerUser()).uid('clicks-per-user').print('users');
  pageViews(clicks).print('pages');
  await env.execute('{{name}}');
}
