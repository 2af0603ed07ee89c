// The hand-written baseline of the q8 benchmark: one loop over the same generated events that
// keeps each open tumbling window's persons by id and auctions, applies the same watermark
// (bounded out-of-orderness) to close windows, and emits one result per auction whose seller
// registered in that window, as the window join does.
import { nexmarkEvent, type Auction, type NexmarkConfig, type Person } from 'weir/nexmark';
import type { NewUser } from '../../examples/nexmark/joins.js';

let checksum = 0;

/** Both the loop and the job's sink consume each result here. */
export function consumeNewUser(r: NewUser): void {
  checksum = (checksum + r.id + r.windowStart) | 0;
}

export function newUserChecksum(): number {
  return checksum;
}

interface WindowContents {
  persons: Map<number, Person>;
  auctions: Auction[];
}

/** q8 over events [0, count); returns the number of results. */
export function q8Loop(count: number, config: NexmarkConfig, sizeMs: number): number {
  const open = new Map<number, WindowContents>();
  let results = 0;
  let nextEnd = Infinity;
  const fire = (start: number, w: WindowContents) => {
    for (const a of w.auctions) {
      const p = w.persons.get(a.seller);
      if (p) {
        consumeNewUser({ id: p.id, name: p.name, windowStart: start });
        results++;
      }
    }
  };
  const advance = (watermark: number) => {
    if (watermark < nextEnd - 1) return;
    nextEnd = Infinity;
    for (const [start, w] of [...open].sort((a, b) => a[0] - b[0])) {
      if (start + sizeMs - 1 <= watermark) {
        open.delete(start);
        fire(start, w);
      } else if (start + sizeMs < nextEnd) nextEnd = start + sizeMs;
    }
  };
  const windowOf = (ts: number) => {
    const start = ts - (((ts % sizeMs) + sizeMs) % sizeMs);
    let w = open.get(start);
    if (!w) {
      open.set(start, (w = { persons: new Map(), auctions: [] }));
      if (start + sizeMs < nextEnd) nextEnd = start + sizeMs;
    }
    return w;
  };
  let maxTs = -Infinity;
  for (let i = 0; i < count; i++) {
    const e = nexmarkEvent(i, config);
    let ts: number;
    if (e.type === 'person') windowOf((ts = e.person.dateTime)).persons.set(e.person.id, e.person);
    else if (e.type === 'auction') windowOf((ts = e.auction.dateTime)).auctions.push(e.auction);
    else continue;
    if (ts > maxTs) {
      maxTs = ts;
      advance(maxTs - config.outOfOrdernessMs - 1);
    }
  }
  advance(Number.MAX_SAFE_INTEGER);
  return results;
}
