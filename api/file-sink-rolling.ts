// Rolling policies of the FileSink, as Flink's: when the open (in-progress) part file of a bucket is
// closed. A rolled part becomes visible once the checkpoint after the roll completes (or at once in
// a job that does not checkpoint periodically). The FileSink asks the policy before writing a
// record (shouldRollOnEvent), on processing time every bucket check interval
// (shouldRollOnProcessingTime), and at each checkpoint (shouldRollOnCheckpoint, and the processing-
// time rule as well).
import { positiveMs, type Duration } from './windowing/durations.js';

/** What a rolling policy sees of an open part file (Flink's PartFileInfo). Times are epoch milliseconds of processing time. */
export interface PartFileInfo<BucketID = string> {
  getBucketId(): BucketID;
  getCreationTime(): number;
  /** Bytes written to the part so far. */
  getSize(): number;
  getLastUpdateTime(): number;
}

/** Flink's RollingPolicy: any object with these three methods works as one. */
export interface RollingPolicy<IN = unknown, BucketID = string> {
  shouldRollOnCheckpoint(partFileState: PartFileInfo<BucketID>): boolean;
  shouldRollOnEvent(partFileState: PartFileInfo<BucketID>, element: IN): boolean;
  shouldRollOnProcessingTime(partFileState: PartFileInfo<BucketID>, currentTime: number): boolean;
}

/** Flink's DefaultRollingPolicy defaults: 128 MiB, 60 s, 60 s. */
export const DEFAULT_MAX_PART_SIZE = 128 * 1024 * 1024;
export const DEFAULT_ROLLOVER_INTERVAL = 60_000;
export const DEFAULT_INACTIVITY_INTERVAL = 60_000;

/** A duration in milliseconds: a number, a string such as "15 min", or Flink's Duration/Time (toMillis()/toMilliseconds()). */
export type RollingDuration = Duration | { toMillis(): number } | { toMilliseconds(): number };

/** Milliseconds of a RollingDuration, which must be positive. */
export function durationMs(value: RollingDuration, what: string): number {
  let v: unknown = value;
  if (typeof v === 'object' && v !== null) {
    const o = v as { toMillis?: () => number; toMilliseconds?: () => number };
    v =
      typeof o.toMillis === 'function'
        ? o.toMillis()
        : typeof o.toMilliseconds === 'function'
          ? o.toMilliseconds()
          : NaN;
  }
  if (typeof v !== 'number' && typeof v !== 'string')
    throw new RangeError(`${what} must be a duration (milliseconds), got ${String(value)}`);
  return positiveMs(v, what);
}

/**
 * Rolls a part when it is larger than the maximum part size (checked before each record and at
 * checkpoints), when it is older than the rollover interval, or when nothing was written to it for
 * the inactivity interval (both checked on processing time and at checkpoints).
 */
export class DefaultRollingPolicy<IN = unknown, BucketID = string> implements RollingPolicy<IN, BucketID> {
  private constructor(
    readonly maxPartSize: number,
    readonly rolloverInterval: number,
    readonly inactivityInterval: number,
  ) {}

  static builder(): DefaultRollingPolicyBuilder {
    return new DefaultRollingPolicyBuilder(
      (size, rollover, inactivity) => new DefaultRollingPolicy(size, rollover, inactivity),
    );
  }

  /** Same as builder().build(): 128 MiB, 60 s rollover, 60 s inactivity. */
  static create<IN = unknown, BucketID = string>(): DefaultRollingPolicy<IN, BucketID> {
    return DefaultRollingPolicy.builder().build() as DefaultRollingPolicy<IN, BucketID>;
  }

  getMaxPartSize(): number {
    return this.maxPartSize;
  }

  getRolloverInterval(): number {
    return this.rolloverInterval;
  }

  getInactivityInterval(): number {
    return this.inactivityInterval;
  }

  shouldRollOnCheckpoint(partFileState: PartFileInfo<BucketID>): boolean {
    return partFileState.getSize() > this.maxPartSize;
  }

  shouldRollOnEvent(partFileState: PartFileInfo<BucketID>, _element: IN): boolean {
    return partFileState.getSize() > this.maxPartSize;
  }

  shouldRollOnProcessingTime(partFileState: PartFileInfo<BucketID>, currentTime: number): boolean {
    return (
      currentTime - partFileState.getCreationTime() >= this.rolloverInterval ||
      currentTime - partFileState.getLastUpdateTime() >= this.inactivityInterval
    );
  }

  toString(): string {
    return `DefaultRollingPolicy{partSize=${this.maxPartSize}, rolloverInterval=${this.rolloverInterval}, inactivityInterval=${this.inactivityInterval}}`;
  }
}

export class DefaultRollingPolicyBuilder {
  private maxPartSize = DEFAULT_MAX_PART_SIZE;
  private rolloverInterval = DEFAULT_ROLLOVER_INTERVAL;
  private inactivityInterval = DEFAULT_INACTIVITY_INTERVAL;

  constructor(
    private readonly make: (
      maxPartSize: number,
      rolloverInterval: number,
      inactivityInterval: number,
    ) => DefaultRollingPolicy,
  ) {}

  /** Roll once a part holds more than this many bytes (a number, or an object with getBytes() like Flink's MemorySize). */
  withMaxPartSize(size: number | { getBytes(): number }): this {
    const bytes = typeof size === 'number' ? size : size && typeof size.getBytes === 'function' ? size.getBytes() : NaN;
    if (!Number.isSafeInteger(bytes) || bytes <= 0)
      throw new RangeError(
        `DefaultRollingPolicy: the maximum part size must be a positive number of bytes, got ${String(bytes)}`,
      );
    this.maxPartSize = bytes;
    return this;
  }

  /** Roll a part this long after it was opened. */
  withRolloverInterval(interval: RollingDuration): this {
    this.rolloverInterval = durationMs(interval, 'DefaultRollingPolicy: the rollover interval');
    return this;
  }

  /** Roll a part nothing was written to for this long (closes the parts of buckets that went quiet). */
  withInactivityInterval(interval: RollingDuration): this {
    this.inactivityInterval = durationMs(interval, 'DefaultRollingPolicy: the inactivity interval');
    return this;
  }

  build(): DefaultRollingPolicy {
    return this.make(this.maxPartSize, this.rolloverInterval, this.inactivityInterval);
  }
}

/** Rolls at every checkpoint and at no other time (Flink's OnCheckpointRollingPolicy): a part per checkpoint, visible when it completes. */
export class OnCheckpointRollingPolicy<IN = unknown, BucketID = string> implements RollingPolicy<IN, BucketID> {
  private constructor() {}

  static build<IN = unknown, BucketID = string>(): OnCheckpointRollingPolicy<IN, BucketID> {
    return new OnCheckpointRollingPolicy<IN, BucketID>();
  }

  shouldRollOnCheckpoint(_partFileState: PartFileInfo<BucketID>): boolean {
    return true;
  }

  shouldRollOnEvent(_partFileState: PartFileInfo<BucketID>, _element: IN): boolean {
    return false;
  }

  shouldRollOnProcessingTime(_partFileState: PartFileInfo<BucketID>, _currentTime: number): boolean {
    return false;
  }

  toString(): string {
    return 'OnCheckpointRollingPolicy';
  }
}

/** True for any object that has the three methods of a RollingPolicy. */
export function isRollingPolicy(p: unknown): p is RollingPolicy {
  const r = p as Partial<RollingPolicy> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.shouldRollOnCheckpoint === 'function' &&
    typeof r.shouldRollOnEvent === 'function' &&
    typeof r.shouldRollOnProcessingTime === 'function'
  );
}
