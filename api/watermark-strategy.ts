// Watermark strategies as immutable descriptors, like Flink's WatermarkStrategy builders. The
// graph records `describe()` as JSON; the runtime reaches the object (and its timestamp assigner)
// through the user-code map.
import { parseDuration } from '../common/units.js';

export type WatermarkKind = 'noWatermarks' | 'monotonous' | 'boundedOutOfOrderness';

export type TimestampAssigner<T> =
  | ((element: T, recordTimestamp: number | null) => number)
  | { extractTimestamp(element: T, recordTimestamp: number | null): number };

/** JSON form stored in the source operator's config under `watermark`. */
export interface WatermarkDescriptor {
  kind: WatermarkKind;
  maxOutOfOrderness?: number;
  idleness?: number;
}

function durationMs(value: number | string, what: string): number {
  const ms = parseDuration(value);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what} must be a non-negative duration, got ${String(value)}`);
  return ms;
}

export class WatermarkStrategy<T> {
  private constructor(
    readonly kind: WatermarkKind,
    readonly maxOutOfOrderness: number | undefined,
    readonly idleness: number | undefined,
    readonly timestampAssigner: ((element: T, recordTimestamp: number | null) => number) | undefined,
  ) {}

  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>('noWatermarks', undefined, undefined, undefined);
  }

  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>('monotonous', undefined, undefined, undefined);
  }

  /** `maxOutOfOrderness` in milliseconds or as a duration string ("5 s"). */
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: number | string): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>('boundedOutOfOrderness', durationMs(maxOutOfOrderness, 'forBoundedOutOfOrderness()'), undefined, undefined);
  }

  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    let fn: (element: T, recordTimestamp: number | null) => number;
    if (typeof assigner === 'function') fn = assigner;
    else if (assigner && typeof assigner.extractTimestamp === 'function') fn = (e, ts) => assigner.extractTimestamp(e, ts);
    else throw new TypeError('withTimestampAssigner() expects a function or an object with an extractTimestamp() method');
    return new WatermarkStrategy<T>(this.kind, this.maxOutOfOrderness, this.idleness, fn);
  }

  /** Marks a source split idle after `timeout` without records, so it stops holding back watermarks. */
  withIdleness(timeout: number | string): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.kind, this.maxOutOfOrderness, durationMs(timeout, 'withIdleness()'), this.timestampAssigner);
  }

  describe(): WatermarkDescriptor {
    const d: WatermarkDescriptor = { kind: this.kind };
    if (this.maxOutOfOrderness !== undefined) d.maxOutOfOrderness = this.maxOutOfOrderness;
    if (this.idleness !== undefined) d.idleness = this.idleness;
    return d;
  }
}
