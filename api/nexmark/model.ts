// The Nexmark data model (an online auction): people register, open auctions and bid on them.
// Field names follow Flink's nexmark benchmark; times are epoch milliseconds of event time.

export interface Person {
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

export interface Auction {
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface Bid {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

export type NexmarkEvent =
  { type: 'person'; person: Person } | { type: 'auction'; auction: Auction } | { type: 'bid'; bid: Bid };

/** The event time of an event: its entity's dateTime. */
export function eventTimestamp(e: NexmarkEvent): number {
  switch (e.type) {
    case 'person':
      return e.person.dateTime;
    case 'auction':
      return e.auction.dateTime;
    case 'bid':
      return e.bid.dateTime;
  }
}
