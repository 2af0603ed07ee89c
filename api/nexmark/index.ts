// weir/nexmark: the Nexmark benchmark's data (an online auction of persons, auctions and bids) as a
// deterministic generator and a ready-made source, after Flink's nexmark. Jobs import it as
// 'weir/nexmark'; like 'weir' it stays external to a bundle, so the engine provides it.
export type { Person, Auction, Bid, NexmarkEvent } from './model.js';
export { eventTimestamp } from './model.js';
export type { NexmarkConfig, NexmarkEventType } from './generator.js';
export {
  DEFAULT_NEXMARK_CONFIG,
  nexmarkConfig,
  PERSON_PROPORTION,
  AUCTION_PROPORTION,
  BID_PROPORTION,
  PROPORTION_DENOMINATOR,
  indexHash,
  positionTime,
  nexmarkTimestamp,
  eventTypeOf,
  nexmarkEvent,
} from './generator.js';
export { NexmarkSource } from './source.js';
export type { NexmarkSourceOptions, NexmarkSourceParts } from './source.js';
