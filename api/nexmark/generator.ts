// A deterministic Nexmark event generator after Flink's nexmark (NexmarkGenerator): event n is a
// pure function of n and the configuration, so any subtask can produce any index and a reference
// loop sees exactly what the job saw. Per 50 events: 1 person, 3 auctions, 46 bids. Auctions and
// bids refer to recent people and auctions, a share of them to a few "hot" ones.
import type { Auction, Bid, NexmarkEvent, Person } from './model.js';

export interface NexmarkConfig {
  /** Event-time rate: consecutive events are 1e3 / eventsPerSecond ms of event time apart. */
  eventsPerSecond: number;
  /** An event's timestamp is up to this much earlier than its position implies (seeded per index). */
  outOfOrdernessMs: number;
  /** Event time of event 0. */
  baseTime: number;
  seed: number;
  /** People and auctions that new auctions and bids choose from. */
  numActivePeople: number;
  numInFlightAuctions: number;
  /** 1 - 1/ratio of bids go to a hot auction, of bids come from a hot bidder, of auctions from a hot seller. */
  hotAuctionRatio: number;
  hotBiddersRatio: number;
  hotSellersRatio: number;
}

export const DEFAULT_NEXMARK_CONFIG: NexmarkConfig = {
  eventsPerSecond: 10_000,
  outOfOrdernessMs: 0,
  // 2024-01-01T00:00:00Z: fixed, so runs are reproducible.
  baseTime: 1_704_067_200_000,
  seed: 0,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  hotAuctionRatio: 2,
  hotBiddersRatio: 4,
  hotSellersRatio: 4,
};

export function nexmarkConfig(overrides: Partial<NexmarkConfig> = {}): NexmarkConfig {
  const c = { ...DEFAULT_NEXMARK_CONFIG };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (c as Record<string, unknown>)[k] = v;
  if (!(c.eventsPerSecond > 0))
    throw new RangeError(`Nexmark eventsPerSecond must be positive, got ${c.eventsPerSecond}`);
  if (!(Number.isInteger(c.outOfOrdernessMs) && c.outOfOrdernessMs >= 0))
    throw new RangeError(`Nexmark outOfOrdernessMs must be a non-negative integer, got ${c.outOfOrdernessMs}`);
  return c;
}

export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const BID_PROPORTION = 46;
export const PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;

const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
// Ids may run a little ahead of what exists, as in Nexmark.
const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
// Hot entities are the multiples of these.
const HOT_AUCTION_RATIO = 100;
const HOT_SELLER_RATIO = 100;
const HOT_BIDDER_RATIO = 100;

const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = [
  'Phoenix',
  'Los Angeles',
  'San Francisco',
  'Boise',
  'Portland',
  'Bend',
  'Redmond',
  'Seattle',
  'Kent',
  'Cheyenne',
];
const CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];
// Built once, as Nexmark's own generator caches its channel URLs: a string built per bid would be
// a new rope that every consumer hashing or writing it first has to flatten.
const CHANNEL_URLS = CHANNELS.map((_, i) => `https://www.nexmark.com/item.htm?query=1&channel_id=${i}`);
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

// One generator state, reseeded per event: generation is synchronous, so no two events interleave.
let rngState = 0;

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seeded 32-bit hash of an event index (indexes beyond 2^32 keep their high bits). */
export function indexHash(index: number, seed: number, stream = 0): number {
  const hi = Math.floor(index / 0x1_0000_0000);
  return mix32(mix32((index >>> 0) ^ mix32(seed + stream * 0x9e3779b9)) ^ hi);
}

function reseed(index: number, seed: number): void {
  rngState = indexHash(index, seed, 1);
}

/** mulberry32: a uniform double in [0, 1). */
function nextDouble(): number {
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function nextInt(bound: number): number {
  return Math.floor(nextDouble() * bound);
}

function pick<T>(items: readonly T[]): T {
  return items[nextInt(items.length)]!;
}

function nextString(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += LETTERS[nextInt(26)];
  return s;
}

/** Nexmark's prices: log-uniform between 1 and 1e6, times 100 (cents). */
function nextPrice(): number {
  return Math.round(Math.pow(10, nextDouble() * 6) * 100);
}

/** Event time of `index` before disorder: baseTime plus index inter-event delays. */
export function positionTime(index: number, config: NexmarkConfig): number {
  return config.baseTime + Math.floor((index * 1000) / config.eventsPerSecond);
}

/** The event time of event `index`: its position, minus a seeded disorder in [0, outOfOrdernessMs]. */
export function nexmarkTimestamp(index: number, config: NexmarkConfig): number {
  const pos = positionTime(index, config);
  if (config.outOfOrdernessMs === 0) return pos;
  return pos - (indexHash(index, config.seed, 2) % (config.outOfOrdernessMs + 1));
}

export type NexmarkEventType = NexmarkEvent['type'];

export function eventTypeOf(index: number): NexmarkEventType {
  const offset = index % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) return 'person';
  if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) return 'auction';
  return 'bid';
}

/** Id (from 0) of the last person created at or before event `index`. */
function lastBase0PersonId(index: number): number {
  const epoch = Math.floor(index / PROPORTION_DENOMINATOR);
  let offset = index % PROPORTION_DENOMINATOR;
  if (offset >= PERSON_PROPORTION) offset = PERSON_PROPORTION - 1;
  return epoch * PERSON_PROPORTION + offset;
}

/** Id (from 0) of the last auction created at or before event `index`. */
function lastBase0AuctionId(index: number): number {
  let epoch = Math.floor(index / PROPORTION_DENOMINATOR);
  let offset = index % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) {
    epoch--;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else {
    offset -= PERSON_PROPORTION;
  }
  return epoch * AUCTION_PROPORTION + offset;
}

/** A recently active person (possibly one about to be created). */
function nextBase0PersonId(index: number, config: NexmarkConfig): number {
  const numPeople = lastBase0PersonId(index) + 1;
  const active = Math.min(numPeople, config.numActivePeople);
  return numPeople - active + nextInt(active + PERSON_ID_LEAD);
}

/** An auction still in flight (possibly one about to be created). */
function nextBase0AuctionId(index: number, config: NexmarkConfig): number {
  const maxAuction = Math.max(lastBase0AuctionId(index), 0);
  const minAuction = Math.max(maxAuction - config.numInFlightAuctions, 0);
  return minAuction + nextInt(maxAuction - minAuction + 1 + AUCTION_ID_LEAD);
}

function person(index: number, dateTime: number): Person {
  const id = lastBase0PersonId(index) + FIRST_PERSON_ID;
  const name = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
  const card = [nextInt(10_000), nextInt(10_000), nextInt(10_000), nextInt(10_000)]
    .map((n) => String(n).padStart(4, '0'))
    .join(' ');
  return {
    id,
    name,
    emailAddress: `${nextString(7)}@${nextString(5)}.com`,
    creditCard: card,
    city: pick(US_CITIES),
    state: pick(US_STATES),
    dateTime,
    extra: '',
  };
}

function auction(index: number, dateTime: number, config: NexmarkConfig): Auction {
  const id = lastBase0AuctionId(index) + FIRST_AUCTION_ID;
  const seller =
    nextInt(config.hotSellersRatio) > 0
      ? Math.floor(lastBase0PersonId(index) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
      : nextBase0PersonId(index, config);
  const initialBid = nextPrice();
  // Long enough that about numInFlightAuctions auctions are open at a time.
  const lifetimeEvents = (config.numInFlightAuctions * PROPORTION_DENOMINATOR) / AUCTION_PROPORTION;
  const lifetimeMs = (lifetimeEvents * 1000) / config.eventsPerSecond;
  return {
    id,
    itemName: nextString(8),
    description: nextString(16),
    initialBid,
    reserve: initialBid + nextPrice(),
    dateTime,
    expires: dateTime + Math.max(1, Math.round(lifetimeMs * (0.5 + nextDouble()))),
    seller: seller + FIRST_PERSON_ID,
    category: FIRST_CATEGORY_ID + nextInt(NUM_CATEGORIES),
    extra: '',
  };
}

function bid(index: number, dateTime: number, config: NexmarkConfig): Bid {
  const auctionId =
    nextInt(config.hotAuctionRatio) > 0
      ? Math.floor(lastBase0AuctionId(index) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
      : nextBase0AuctionId(index, config);
  const bidder =
    nextInt(config.hotBiddersRatio) > 0
      ? Math.floor(lastBase0PersonId(index) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
      : nextBase0PersonId(index, config);
  const channelIndex = nextInt(CHANNELS.length);
  return {
    auction: auctionId + FIRST_AUCTION_ID,
    bidder: bidder + FIRST_PERSON_ID,
    price: nextPrice(),
    channel: CHANNELS[channelIndex]!,
    url: CHANNEL_URLS[channelIndex]!,
    dateTime,
    extra: '',
  };
}

/** Event number `index` (from 0): always the same event for the same index and configuration. */
export function nexmarkEvent(index: number, config: NexmarkConfig): NexmarkEvent {
  const dateTime = nexmarkTimestamp(index, config);
  reseed(index, config.seed);
  switch (eventTypeOf(index)) {
    case 'person':
      return { type: 'person', person: person(index, dateTime) };
    case 'auction':
      return { type: 'auction', auction: auction(index, dateTime, config) };
    case 'bid':
      return { type: 'bid', bid: bid(index, dateTime, config) };
  }
}
