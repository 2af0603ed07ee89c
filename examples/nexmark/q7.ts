// Nexmark query 7, highest bid: per tumbling window, the bid(s) with the highest price.
//   weir run q7.weir -- [outDir|-] [events=1000000] [sizeMs=10000] [outOfOrdernessMs=200] [eventsPerSecond|-] [keyed|all]
// keyed (default): bids are keyed by auction and reduced to each auction's highest bids per
// window, in parallel; a second window keyed by the window's end then keeps the overall highest.
// all: one windowAll over every bid (a single subtask), as Flink's DataStream q7.
import {
  FileSink,
  TumblingEventTimeWindows,
  type AggregateFunction,
  type Collector,
  type DataStream,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';
import { NexmarkSource, type Bid } from 'weir/nexmark';
import { bidsOf, highestBidLine, intArg, type HighestBid } from './queries.js';

/** The highest price seen and every bid at that price. */
export interface MaxBids {
  price: number;
  bids: Bid[];
}

export const maxBids: AggregateFunction<Bid, MaxBids, MaxBids> = {
  createAccumulator: () => ({ price: -Infinity, bids: [] }),
  add: (bid, acc) => {
    if (bid.price > acc.price) return { price: bid.price, bids: [bid] };
    if (bid.price === acc.price) acc.bids.push(bid);
    return acc;
  },
  getResult: (acc) => acc,
  merge: (a, b) => (a.price > b.price ? a : b.price > a.price ? b : { price: a.price, bids: [...a.bids, ...b.bids] }),
};

interface WindowMax extends MaxBids {
  windowStart: number;
  windowEnd: number;
}

export function highestBids(bids: DataStream<Bid>, sizeMs: number): DataStream<HighestBid> {
  if (!(sizeMs > 0)) throw new RangeError(`q7: window size must be positive, got ${sizeMs}`);
  return bids
    .keyBy((b: Bid) => b.auction)
    .window(TumblingEventTimeWindows.of(sizeMs))
    .aggregate(
      maxBids,
      (
        _auction: number,
        ctx: ProcessWindowContext<TimeWindow>,
        results: Iterable<MaxBids>,
        out: Collector<WindowMax>,
      ) => {
        for (const r of results)
          out.collect({ windowStart: ctx.window.start, windowEnd: ctx.window.end, price: r.price, bids: r.bids });
      },
    )
    .uid('q7-max-per-auction')
    .name('Highest bid per auction')
    .keyBy((r: WindowMax) => r.windowEnd)
    .window(TumblingEventTimeWindows.of(sizeMs))
    .process(
      (
        _end: number,
        _ctx: ProcessWindowContext<TimeWindow>,
        partial: Iterable<WindowMax>,
        out: Collector<HighestBid>,
      ) => {
        const all = [...partial];
        let max = -Infinity;
        for (const r of all) if (r.price > max) max = r.price;
        for (const r of all) {
          if (r.price !== max) continue;
          for (const b of r.bids) {
            out.collect({
              windowStart: r.windowStart,
              windowEnd: r.windowEnd,
              auction: b.auction,
              bidder: b.bidder,
              price: b.price,
              dateTime: b.dateTime,
            });
          }
        }
      },
    )
    .uid('q7-max-per-window')
    .name('Highest bid');
}

/** The same results from one non-parallel windowAll. */
export function highestBidsAll(bids: DataStream<Bid>, sizeMs: number): DataStream<HighestBid> {
  return bids
    .windowAll(TumblingEventTimeWindows.of(sizeMs))
    .aggregate(
      maxBids,
      (ctx: ProcessWindowContext<TimeWindow>, results: Iterable<MaxBids>, out: Collector<HighestBid>) => {
        for (const r of results) {
          for (const b of r.bids) {
            out.collect({
              windowStart: ctx.window.start,
              windowEnd: ctx.window.end,
              auction: b.auction,
              bidder: b.bidder,
              price: b.price,
              dateTime: b.dateTime,
            });
          }
        }
      },
    )
    .uid('q7-max-all')
    .name('Highest bid (all)');
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const outDir = args[0] && args[0] !== '-' ? args[0] : undefined;
  const count = intArg(args, 1, 1_000_000, 'events');
  const sizeMs = intArg(args, 2, 10_000, 'sizeMs');
  const outOfOrdernessMs = intArg(args, 3, 200, 'outOfOrdernessMs');
  const rate = args[4] && args[4] !== '-' ? intArg(args, 4, 0, 'eventsPerSecond') : undefined;
  const mode = args[5] ?? 'keyed';
  if (mode !== 'keyed' && mode !== 'all') throw new RangeError(`q7: mode must be 'keyed' or 'all', got '${mode}'`);
  const { source, watermarkStrategy } = NexmarkSource.create({ count, outOfOrdernessMs, eventsPerSecond: rate });
  const events = env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source');
  const bids = bidsOf(events);
  const lines = (mode === 'all' ? highestBidsAll(bids, sizeMs) : highestBids(bids, sizeMs))
    .map(highestBidLine)
    .name('To JSON');
  if (outDir) lines.sinkTo(FileSink.forRowFormat<string>(outDir).build()).name('Results');
  else lines.print();
  void env.execute('Nexmark q7: highest bid');
}
