// Plain references for Nexmark q5 and q7: group every bid of the input into its windows, then
// pick the maxima. With the generator's disorder within the watermark bound no bid is late, so
// these are the exact results whatever the timing.
import { nexmarkEvent, type Bid, type NexmarkConfig } from 'weir/nexmark';
import { highestBidLine, hotItemLine } from '../../examples/nexmark/queries.js';
import { assignWindows } from './windows.js';

export function bids(count: number, config: NexmarkConfig): Bid[] {
  const out: Bid[] = [];
  for (let i = 0; i < count; i++) {
    const e = nexmarkEvent(i, config);
    if (e.type === 'bid') out.push(e.bid);
  }
  return out;
}

/** q5: per sliding window, the auctions with the most bids, as JSON lines. */
export function referenceQ5(input: readonly Bid[], sizeMs: number, slideMs: number): string[] {
  const windows = new Map<string, { start: number; end: number; counts: Map<number, number> }>();
  for (const b of input) {
    for (const w of assignWindows({ kind: 'sliding', size: sizeMs, slide: slideMs }, b.dateTime)) {
      const id = `${w.start}:${w.end}`;
      let entry = windows.get(id);
      if (!entry) windows.set(id, (entry = { ...w, counts: new Map() }));
      entry.counts.set(b.auction, (entry.counts.get(b.auction) ?? 0) + 1);
    }
  }
  const lines: string[] = [];
  for (const w of windows.values()) {
    const max = Math.max(...w.counts.values());
    for (const [auction, count] of w.counts)
      if (count === max) lines.push(hotItemLine({ windowStart: w.start, windowEnd: w.end, auction, count }));
  }
  return lines;
}

/** q7: per tumbling window, the bids with the highest price, as JSON lines. */
export function referenceQ7(input: readonly Bid[], sizeMs: number): string[] {
  const windows = new Map<number, Bid[]>();
  for (const b of input) {
    const start = assignWindows({ kind: 'tumbling', size: sizeMs }, b.dateTime)[0]!.start;
    (windows.get(start) ?? windows.set(start, []).get(start)!).push(b);
  }
  const lines: string[] = [];
  for (const [start, all] of windows) {
    const max = Math.max(...all.map((b) => b.price));
    for (const b of all) {
      if (b.price === max)
        lines.push(
          highestBidLine({
            windowStart: start,
            windowEnd: start + sizeMs,
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            dateTime: b.dateTime,
          }),
        );
    }
  }
  return lines;
}
