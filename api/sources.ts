// Source descriptors. They hold what a TaskManager needs to produce records; splitting the work
// among subtasks and reading happen in the runtime, not here.
import type { FileSource } from './file-source.js';
import type { KafkaSource } from './kafka-source.js';
import { checkUserFunction } from './function-utils.js';

export type Boundedness = 'BOUNDED' | 'CONTINUOUS_UNBOUNDED';

/** The inclusive number range of fromSequence(from, to) (Flink's NumberSequenceSource). */
export class SequenceSource {
  readonly boundedness: Boundedness = 'BOUNDED';

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to))
      throw new RangeError(`fromSequence() needs safe integers, got ${from}..${to}`);
    if (from > to)
      throw new RangeError(`fromSequence(): start of the sequence (${from}) must not be greater than its end (${to})`);
  }
}

/** The records of fromElements(...items). */
export class ElementsSource<T> {
  readonly boundedness: Boundedness = 'BOUNDED';

  constructor(readonly items: readonly T[]) {}
}

/** Limits how fast a DataGeneratorSource emits, as Flink's RateLimiterStrategy. */
export class RateLimiterStrategy {
  private constructor(readonly ratePerSecond: number | undefined) {}

  /** `recordsPerSecond` in total across all subtasks of the source. */
  static perSecond(recordsPerSecond: number): RateLimiterStrategy {
    if (typeof recordsPerSecond !== 'number' || !Number.isFinite(recordsPerSecond) || recordsPerSecond <= 0) {
      throw new RangeError(
        `RateLimiterStrategy.perSecond() needs a positive finite rate, got ${String(recordsPerSecond)}`,
      );
    }
    return new RateLimiterStrategy(recordsPerSecond);
  }

  static noOp(): RateLimiterStrategy {
    return new RateLimiterStrategy(undefined);
  }
}

export type GeneratorFunction<T> = ((index: number) => T) | { map(index: number): T };

/**
 * Emits generatorFunction(0), generatorFunction(1), ... up to `count` records (Infinity: forever).
 * Bounded, without a rate limit and at a parallelism above 1, it hands out ranges of consecutive
 * indexes (each sized to last about 100 ms at the asking subtask's rate) to whichever subtask asks,
 * as Flink's FileSource hands out files: a subtask on a slower core reads less instead of ending
 * last. Each subtask reads its ranges in order, so event time derived from the index only moves
 * forward within a subtask. Otherwise subtask i of p generates the indexes i, i + p, i + 2p, ...: a
 * rate limit sets the pace, and generators that derive event time from the index keep their
 * subtasks' event times together.
 */
export class DataGeneratorSource<T> {
  readonly generatorFunction: (index: number) => T;
  readonly count: number;
  readonly ratePerSecond: number | undefined;
  readonly boundedness: Boundedness;

  constructor(
    generatorFunction: GeneratorFunction<T>,
    count: number,
    rateLimiterStrategy: RateLimiterStrategy = RateLimiterStrategy.noOp(),
  ) {
    checkUserFunction(generatorFunction, 'map', 'DataGeneratorSource');
    if (typeof count !== 'number' || !(count === Infinity || (Number.isSafeInteger(count) && count >= 0))) {
      throw new RangeError(
        `DataGeneratorSource: count must be a non-negative integer or Infinity, got ${String(count)}`,
      );
    }
    if (!(rateLimiterStrategy instanceof RateLimiterStrategy))
      throw new TypeError('DataGeneratorSource: the third argument must be a RateLimiterStrategy');
    this.generatorFunction =
      typeof generatorFunction === 'function' ? generatorFunction : (index: number) => generatorFunction.map(index);
    this.count = count;
    this.ratePerSecond = rateLimiterStrategy.ratePerSecond;
    this.boundedness = count === Infinity ? 'CONTINUOUS_UNBOUNDED' : 'BOUNDED';
  }
}

/** Sources fromSource() accepts. */
export type Source<T> = DataGeneratorSource<T> | SequenceSource | ElementsSource<T> | FileSource<T> | KafkaSource<T>;
