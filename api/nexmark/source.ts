// The Nexmark generator as a Weir source: a DataGeneratorSource over nexmarkEvent(index), and the
// WatermarkStrategy that matches its disorder (bounded out-of-orderness by outOfOrdernessMs, event
// time from the entity's dateTime). With that strategy no event is ever late.
import { DataGeneratorSource, RateLimiterStrategy } from '../sources.js';
import { WatermarkStrategy } from '../watermark-strategy.js';
import { nexmarkConfig, nexmarkEvent, type NexmarkConfig } from './generator.js';
import { eventTimestamp, type NexmarkEvent } from './model.js';

export interface NexmarkSourceOptions {
  /** Number of events (Infinity: unbounded). */
  count: number;
  outOfOrdernessMs: number;
  /** Rate limit in events per second across all subtasks; event time then advances at the same rate. */
  eventsPerSecond?: number;
  /** Event-time rate when it should differ from the rate limit (default: eventsPerSecond, else 10 000). */
  eventTimeRate?: number;
  seed?: number;
  baseTime?: number;
}

export interface NexmarkSourceParts {
  source: DataGeneratorSource<NexmarkEvent>;
  watermarkStrategy: WatermarkStrategy<NexmarkEvent>;
  config: NexmarkConfig;
}

export const NexmarkSource = {
  create(options: NexmarkSourceOptions): NexmarkSourceParts {
    const config = nexmarkConfig({
      eventsPerSecond: options.eventTimeRate ?? options.eventsPerSecond,
      outOfOrdernessMs: options.outOfOrdernessMs,
      seed: options.seed,
      baseTime: options.baseTime,
    });
    const limiter =
      options.eventsPerSecond === undefined
        ? RateLimiterStrategy.noOp()
        : RateLimiterStrategy.perSecond(options.eventsPerSecond);
    const source = new DataGeneratorSource<NexmarkEvent>(
      (index: number) => nexmarkEvent(index, config),
      options.count,
      limiter,
    );
    const watermarkStrategy = WatermarkStrategy.forBoundedOutOfOrderness<NexmarkEvent>(
      config.outOfOrdernessMs,
    ).withTimestampAssigner((e: NexmarkEvent) => eventTimestamp(e));
    return { source, watermarkStrategy, config };
  },
};
