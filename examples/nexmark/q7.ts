// Nexmark query 7, highest bid: per tumbling window, the bid(s) with the highest price.
//   weir run q7.weir -- [outDir|-] [events=1000000] [sizeMs=10000] [outOfOrdernessMs=200] [eventsPerSecond|-] [keyed|all]
// keyed (default): bids are keyed by their window, whose aggregation is split around the exchange,
// so every subtask reduces its share of a window in parallel. all: one windowAll over every bid
// (a single subtask), as Flink's DataStream q7.
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

/**
 * Keyed by the window a bid falls in, so a window's highest bids are one aggregate. Split around
 * its exchange (local window aggregation), each subtask keeps one accumulator per open window and
 * sends it on when the window ends, as Flink's SQL plans MAX over a tumbling window (local-global
 * aggregation); no state per auction is needed.
 */
export function highestBids(bids: DataStream<Bid>, sizeMs: number): DataStream<HighestBid> {
  if (!(sizeMs > 0)) throw new RangeError(`q7: window size must be positive, got ${sizeMs}`);
  return bids
    .keyBy((b: Bid) => Math.floor(b.dateTime / sizeMs))
    .window(TumblingEventTimeWindows.of(sizeMs))
    .aggregate(
      maxBids,
      (
        _window: number,
        ctx: ProcessWindowContext<TimeWindow>,
        results: Iterable<MaxBids>,
        out: Collector<HighestBid>,
      ) => {
        for (const r of results) for (const b of r.bids) out.collect(highestBid(ctx.window, b));
      },
    )
    .uid('q7-max-by-window')
    .name('Highest bid');
}

function highestBid(window: TimeWindow, b: Bid): HighestBid {
  return {
    windowStart: window.start,
    windowEnd: window.end,
    auction: b.auction,
    bidder: b.bidder,
    price: b.price,
    dateTime: b.dateTime,
  };
}

/** The same results from one non-parallel windowAll. */
export function highestBidsAll(bids: DataStream<Bid>, sizeMs: number): DataStream<HighestBid> {
  return bids
    .windowAll(TumblingEventTimeWindows.of(sizeMs))
    .aggregate(
      maxBids,
      (ctx: ProcessWindowContext<TimeWindow>, results: Iterable<MaxBids>, out: Collector<HighestBid>) => {
        for (const r of results) for (const b of r.bids) out.collect(highestBid(ctx.window, b));
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
