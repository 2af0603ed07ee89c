// Nexmark query 5, hot items: per sliding window, the auction(s) with the most bids.
//   weir run q5.weir -- [outDir|-] [events=1000000] [sizeMs=10000] [slideMs=2000] [outOfOrdernessMs=200] [eventsPerSecond|-]
// As Flink's nexmark q5: bids are counted per auction and sliding window (aggregate with a window
// function adding the window's bounds), then the counts of one window meet in a second, keyed
// window that keeps the maximum (an aggregate too, so both are split around their exchanges).
// Results go to a FileSink as JSON lines, or to stdout.
import {
  FileSink,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  type AggregateFunction,
  type Collector,
  type DataStream,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';
import { NexmarkSource, type Bid } from 'weir/nexmark';
import { bidsOf, hotItemLine, intArg, type HotItem } from './queries.js';

export const countBids: AggregateFunction<Bid, number, number> = {
  createAccumulator: () => 0,
  add: (_bid, acc) => acc + 1,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

/** The highest count of a window and every auction with it. */
export interface Leaders {
  count: number;
  auctions: number[];
}

export const mostBids: AggregateFunction<HotItem, Leaders, Leaders> = {
  createAccumulator: () => ({ count: 0, auctions: [] }),
  add: (r, acc) => {
    if (r.count > acc.count) return { count: r.count, auctions: [r.auction] };
    if (r.count === acc.count) acc.auctions.push(r.auction);
    return acc;
  },
  getResult: (acc) => acc,
  merge: (a, b) =>
    a.count > b.count ? a : b.count > a.count ? b : { count: a.count, auctions: [...a.auctions, ...b.auctions] },
};

export function hotItems(bids: DataStream<Bid>, sizeMs: number, slideMs: number): DataStream<HotItem> {
  if (!(sizeMs > 0 && slideMs > 0))
    throw new RangeError(`q5: window size and slide must be positive, got ${sizeMs} and ${slideMs}`);
  return (
    bids
      .keyBy((b: Bid) => b.auction)
      .window(SlidingEventTimeWindows.of(sizeMs, slideMs))
      .aggregate(
        countBids,
        (auction: number, ctx: ProcessWindowContext<TimeWindow>, counts: Iterable<number>, out: Collector<HotItem>) => {
          for (const count of counts)
            out.collect({ windowStart: ctx.window.start, windowEnd: ctx.window.end, auction, count });
        },
      )
      .uid('q5-bids-per-auction')
      .name('Bids per auction')
      // A window's counts carry timestamp end - 1; the tumbling window of `slide` that ends at `end`
      // (shifted by size % slide) holds exactly one window's counts. An aggregate with merge(), so
      // the maximum is split around the exchange too: each subtask sends its own window's leaders.
      .keyBy((r: HotItem) => r.windowEnd)
      .window(TumblingEventTimeWindows.of(slideMs, sizeMs % slideMs))
      .aggregate(
        mostBids,
        (end: number, _ctx: ProcessWindowContext<TimeWindow>, leaders: Iterable<Leaders>, out: Collector<HotItem>) => {
          for (const l of leaders)
            for (const auction of [...l.auctions].sort((a, b) => a - b))
              out.collect({ windowStart: end - sizeMs, windowEnd: end, auction, count: l.count });
        },
      )
      .uid('q5-leaders-per-window')
      .name('Hot items')
  );
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const outDir = args[0] && args[0] !== '-' ? args[0] : undefined;
  const count = intArg(args, 1, 1_000_000, 'events');
  const sizeMs = intArg(args, 2, 10_000, 'sizeMs');
  const slideMs = intArg(args, 3, 2_000, 'slideMs');
  const outOfOrdernessMs = intArg(args, 4, 200, 'outOfOrdernessMs');
  const rate = args[5] && args[5] !== '-' ? intArg(args, 5, 0, 'eventsPerSecond') : undefined;
  const { source, watermarkStrategy } = NexmarkSource.create({ count, outOfOrdernessMs, eventsPerSecond: rate });
  const events = env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source');
  const lines = hotItems(bidsOf(events), sizeMs, slideMs).map(hotItemLine).name('To JSON');
  if (outDir) lines.sinkTo(FileSink.forRowFormat<string>(outDir).build()).name('Results');
  else lines.print();
  void env.execute('Nexmark q5: hot items');
}
