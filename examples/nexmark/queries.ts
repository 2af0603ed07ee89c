// Pieces the Nexmark query jobs share: the bid stream, the results' shapes, and their JSON lines.
import type { DataStream } from 'weir';
import type { Bid, NexmarkEvent } from 'weir/nexmark';

/** Query 5 result: an auction with the most bids in one sliding window. */
export interface HotItem {
  windowStart: number;
  windowEnd: number;
  auction: number;
  count: number;
}

/** Query 7 result: a bid with the highest price in one tumbling window. */
export interface HighestBid {
  windowStart: number;
  windowEnd: number;
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
}

/** Field order fixed, so equal results are equal lines. */
export function hotItemLine(r: HotItem): string {
  return JSON.stringify({ windowStart: r.windowStart, windowEnd: r.windowEnd, auction: r.auction, count: r.count });
}

export function highestBidLine(r: HighestBid): string {
  return JSON.stringify({
    windowStart: r.windowStart,
    windowEnd: r.windowEnd,
    auction: r.auction,
    bidder: r.bidder,
    price: r.price,
    dateTime: r.dateTime,
  });
}

export function bidsOf(events: DataStream<NexmarkEvent>): DataStream<Bid> {
  return events
    .flatMap((e: NexmarkEvent, out: { collect(b: Bid): void }) => {
      if (e.type === 'bid') out.collect(e.bid);
    })
    .name('Bids');
}

/** Positive integer program argument `args[i]`, or `fallback` when absent or "-". */
export function intArg(args: string[], i: number, fallback: number, what: string): number {
  const raw = args[i];
  if (raw === undefined || raw === '-' || raw === '') return fallback;
  const n = Number(raw);
  if (!(Number.isSafeInteger(n) && n >= 0))
    throw new RangeError(`${what} must be a non-negative integer, got '${raw}'`);
  return n;
}
