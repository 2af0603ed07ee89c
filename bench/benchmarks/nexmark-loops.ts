// The hand-written baselines of the Nexmark benchmark: one loop each over the same generated
// events, applying the same watermark (bounded out-of-orderness) to close windows, producing the
// same results as the q5 and q7 jobs.
import { nexmarkEvent, type Bid, type NexmarkConfig } from 'weir/nexmark';

let checksum = 0;

/** Both the loops and the jobs' sinks consume each result here. */
export function consumeResult(r: unknown): void {
  checksum = (checksum + ((r as { windowEnd?: number }).windowEnd ?? 1)) | 0;
}

export function resultChecksum(): number {
  return checksum;
}

function windowStart(ts: number, size: number): number {
  return ts - (((ts % size) + size) % size);
}

/** Windows keyed by start, closed when the watermark passes end - 1. */
class OpenWindows<S> {
  private readonly open = new Map<number, S>();
  private nextEnd = Infinity;

  constructor(
    private readonly size: number,
    private readonly create: () => S,
    private readonly fire: (start: number, state: S) => void,
  ) {}

  get(start: number): S {
    let s = this.open.get(start);
    if (s === undefined) {
      this.open.set(start, (s = this.create()));
      if (start + this.size < this.nextEnd) this.nextEnd = start + this.size;
    }
    return s;
  }

  advance(watermark: number): void {
    if (watermark < this.nextEnd - 1) return;
    let next = Infinity;
    for (const [start, s] of [...this.open].sort((a, b) => a[0] - b[0])) {
      if (start + this.size - 1 <= watermark) {
        this.open.delete(start);
        this.fire(start, s);
      } else if (start + this.size < next) next = start + this.size;
    }
    this.nextEnd = next;
  }
}

/** q5: bid counts per auction and sliding window, then the auctions with the most. Returns the number of results. */
export function q5Loop(count: number, config: NexmarkConfig, sizeMs: number, slideMs: number): number {
  let results = 0;
  const windows = new OpenWindows<Map<number, number>>(
    sizeMs,
    () => new Map(),
    (start, counts) => {
      let max = 0;
      for (const n of counts.values()) if (n > max) max = n;
      const top: number[] = [];
      for (const [auction, n] of counts) if (n === max) top.push(auction);
      top.sort((a, b) => a - b);
      for (const auction of top) {
        consumeResult({ windowStart: start, windowEnd: start + sizeMs, auction, count: max });
        results++;
      }
    },
  );
  let maxTs = -Infinity;
  for (let i = 0; i < count; i++) {
    const e = nexmarkEvent(i, config);
    if (e.type !== 'bid') continue;
    const ts = e.bid.dateTime;
    for (let start = windowStart(ts, slideMs); start > ts - sizeMs; start -= slideMs) {
      const counts = windows.get(start);
      counts.set(e.bid.auction, (counts.get(e.bid.auction) ?? 0) + 1);
    }
    if (ts > maxTs) {
      maxTs = ts;
      windows.advance(maxTs - config.outOfOrdernessMs - 1);
    }
  }
  windows.advance(Number.MAX_SAFE_INTEGER);
  return results;
}

/** q7: the highest bids per tumbling window. Returns the number of results. */
export function q7Loop(count: number, config: NexmarkConfig, sizeMs: number): number {
  let results = 0;
  const windows = new OpenWindows<{ price: number; bids: Bid[] }>(
    sizeMs,
    () => ({ price: -Infinity, bids: [] }),
    (start, w) => {
      for (const b of w.bids) {
        consumeResult({
          windowStart: start,
          windowEnd: start + sizeMs,
          auction: b.auction,
          bidder: b.bidder,
          price: b.price,
          dateTime: b.dateTime,
        });
        results++;
      }
    },
  );
  let maxTs = -Infinity;
  for (let i = 0; i < count; i++) {
    const e = nexmarkEvent(i, config);
    if (e.type !== 'bid') continue;
    const b = e.bid;
    const w = windows.get(windowStart(b.dateTime, sizeMs));
    if (b.price > w.price) {
      w.price = b.price;
      w.bids = [b];
    } else if (b.price === w.price) w.bids.push(b);
    if (b.dateTime > maxTs) {
      maxTs = b.dateTime;
      windows.advance(maxTs - config.outOfOrdernessMs - 1);
    }
  }
  windows.advance(Number.MAX_SAFE_INTEGER);
  return results;
}
