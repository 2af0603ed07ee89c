// Pieces the Nexmark join queries (q3, q8) share: the person and auction streams, the results'
// shapes, and their JSON lines.
import type { DataStream } from 'weir';
import type { Auction, NexmarkEvent, Person } from 'weir/nexmark';

/** Query 3 result: a seller in one of the selected states and an auction of theirs in the selected category. */
export interface LocalItem {
  name: string;
  city: string;
  state: string;
  auction: number;
}

/** Query 8 result: a person who opened an auction in the tumbling window they registered in. */
export interface NewUser {
  id: number;
  name: string;
  windowStart: number;
}

export const Q3_STATES: readonly string[] = ['OR', 'ID', 'CA'];
export const Q3_CATEGORY = 10;

export function q3Person(p: Person): boolean {
  return Q3_STATES.includes(p.state);
}

export function q3Auction(a: Auction): boolean {
  return a.category === Q3_CATEGORY;
}

/** Field order fixed, so equal results are equal lines. */
export function localItemLine(r: LocalItem): string {
  return JSON.stringify({ name: r.name, city: r.city, state: r.state, auction: r.auction });
}

export function newUserLine(r: NewUser): string {
  return JSON.stringify({ id: r.id, name: r.name, windowStart: r.windowStart });
}

/** Start of the tumbling window (offset 0) that holds `timestamp`. */
export function tumblingStart(timestamp: number, sizeMs: number): number {
  return timestamp - (((timestamp % sizeMs) + sizeMs) % sizeMs);
}

export function personsOf(events: DataStream<NexmarkEvent>): DataStream<Person> {
  return events
    .flatMap((e: NexmarkEvent, out: { collect(p: Person): void }) => {
      if (e.type === 'person') out.collect(e.person);
    })
    .name('Persons');
}

export function auctionsOf(events: DataStream<NexmarkEvent>): DataStream<Auction> {
  return events
    .flatMap((e: NexmarkEvent, out: { collect(a: Auction): void }) => {
      if (e.type === 'auction') out.collect(e.auction);
    })
    .name('Auctions');
}
