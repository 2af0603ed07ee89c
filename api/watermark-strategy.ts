// Watermark strategies as immutable descriptors, like Flink's WatermarkStrategy builders. The
// graph records `describe()` as JSON; the runtime reaches the object (its timestamp assigner and
// createWatermarkGenerator()) through the user-code map.
import type { WatermarkAlignmentConfig } from '../common/jobgraph.js';
import { parseDuration } from '../common/units.js';
import {
  AscendingTimestampsWatermarks,
  BoundedOutOfOrdernessWatermarks,
  NoWatermarksGenerator,
  type WatermarkGenerator,
} from './watermark-generators.js';

export type WatermarkKind = 'noWatermarks' | 'monotonous' | 'boundedOutOfOrderness' | 'generator';

export type TimestampAssigner<T> =
  | ((element: T, recordTimestamp: number | null) => number)
  | { extractTimestamp(element: T, recordTimestamp: number | null): number };

/** Flink's WatermarkGeneratorSupplier: called once per source split or subtask. */
export type WatermarkGeneratorSupplier<T> =
  (() => WatermarkGenerator<T>) | { createWatermarkGenerator(): WatermarkGenerator<T> };

/** Watermark alignment of a source (withWatermarkAlignment), durations in ms, as the job graph carries it. */
export type WatermarkAlignmentParams = WatermarkAlignmentConfig;

/** JSON form stored in the operator's config under `watermark`. */
export interface WatermarkDescriptor {
  kind: WatermarkKind;
  maxOutOfOrderness?: number;
  idleness?: number;
  alignment?: WatermarkAlignmentParams;
}

function durationMs(value: number | string, what: string): number {
  const ms = parseDuration(value);
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`${what} must be a non-negative duration, got ${String(value)}`);
  return ms;
}

function checkGenerator<T>(g: unknown): WatermarkGenerator<T> {
  const o = g as Partial<WatermarkGenerator<T>> | null;
  if (!o || typeof o !== 'object' || typeof o.onEvent !== 'function' || typeof o.onPeriodicEmit !== 'function') {
    throw new TypeError(
      'the watermark generator supplier must return an object with onEvent() and onPeriodicEmit() methods',
    );
  }
  return o as WatermarkGenerator<T>;
}

interface StrategyFields<T> {
  kind: WatermarkKind;
  maxOutOfOrderness?: number;
  idleness?: number;
  alignment?: WatermarkAlignmentParams;
  timestampAssigner?: (element: T, recordTimestamp: number | null) => number;
  supplier?: () => WatermarkGenerator<T>;
}

export class WatermarkStrategy<T> {
  readonly kind: WatermarkKind;
  readonly maxOutOfOrderness: number | undefined;
  readonly idleness: number | undefined;
  readonly alignment: WatermarkAlignmentParams | undefined;
  readonly timestampAssigner: ((element: T, recordTimestamp: number | null) => number) | undefined;
  private readonly supplier: (() => WatermarkGenerator<T>) | undefined;

  private constructor(f: StrategyFields<T>) {
    this.kind = f.kind;
    this.maxOutOfOrderness = f.maxOutOfOrderness;
    this.idleness = f.idleness;
    this.alignment = f.alignment;
    this.timestampAssigner = f.timestampAssigner;
    this.supplier = f.supplier;
  }

  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({ kind: 'noWatermarks' });
  }

  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({ kind: 'monotonous' });
  }

  /** `maxOutOfOrderness` in milliseconds or as a duration string ("5 s"). */
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: number | string): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({
      kind: 'boundedOutOfOrderness',
      maxOutOfOrderness: durationMs(maxOutOfOrderness, 'forBoundedOutOfOrderness()'),
    });
  }

  /** A user-defined generator; `supplier` is called once per source split or subtask. */
  static forGenerator<T>(supplier: WatermarkGeneratorSupplier<T>): WatermarkStrategy<T> {
    let fn: () => WatermarkGenerator<T>;
    if (typeof supplier === 'function') fn = supplier;
    else if (supplier && typeof supplier.createWatermarkGenerator === 'function')
      fn = () => supplier.createWatermarkGenerator();
    else throw new TypeError('forGenerator() expects a function returning a WatermarkGenerator');
    return new WatermarkStrategy<T>({ kind: 'generator', supplier: fn });
  }

  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    let fn: (element: T, recordTimestamp: number | null) => number;
    if (typeof assigner === 'function') fn = assigner;
    else if (assigner && typeof assigner.extractTimestamp === 'function')
      fn = (e, ts) => assigner.extractTimestamp(e, ts);
    else
      throw new TypeError('withTimestampAssigner() expects a function or an object with an extractTimestamp() method');
    return new WatermarkStrategy<T>({ ...this.fields(), timestampAssigner: fn });
  }

  /** Marks an input idle after `timeout` without records, so it stops holding back watermarks. */
  withIdleness(timeout: number | string): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({ ...this.fields(), idleness: durationMs(timeout, 'withIdleness()') });
  }

  /**
   * Flink's watermark alignment: the subtasks of every source with this strategy's `group` pause
   * reading while their watermark is more than `maxAllowedWatermarkDrift` ahead of the lowest
   * watermark in the group (idle and finished subtasks left out), so that a fast source does not
   * run ahead and fill the state of windows and joins downstream while they wait for a slow one.
   * Each subtask reports its watermark to the JobManager every `updateInterval` (1 s by default),
   * which answers with the group's limit.
   */
  withWatermarkAlignment(
    group: string,
    maxAllowedWatermarkDrift: number | string,
    updateInterval: number | string = 1000,
  ): WatermarkStrategy<T> {
    if (typeof group !== 'string' || group === '')
      throw new TypeError('withWatermarkAlignment() needs the name of a watermark group');
    // A source without watermarks would hold its group at the minimum watermark for good.
    if (this.kind === 'noWatermarks')
      throw new TypeError('withWatermarkAlignment() needs a strategy that generates watermarks, not noWatermarks()');
    const updateMs = durationMs(updateInterval, 'withWatermarkAlignment() update interval');
    if (updateMs <= 0) throw new RangeError('withWatermarkAlignment() update interval must be positive');
    return new WatermarkStrategy<T>({
      ...this.fields(),
      alignment: {
        group,
        maxDrift: durationMs(maxAllowedWatermarkDrift, 'withWatermarkAlignment() max drift'),
        updateInterval: updateMs,
      },
    });
  }

  /** A fresh generator for one source split or subtask. */
  createWatermarkGenerator(): WatermarkGenerator<T> {
    switch (this.kind) {
      case 'noWatermarks':
        return new NoWatermarksGenerator<T>();
      case 'monotonous':
        return new AscendingTimestampsWatermarks<T>();
      case 'boundedOutOfOrderness':
        return new BoundedOutOfOrdernessWatermarks<T>(this.maxOutOfOrderness!);
      case 'generator':
        return checkGenerator<T>(this.supplier!());
    }
  }

  describe(): WatermarkDescriptor {
    const d: WatermarkDescriptor = { kind: this.kind };
    if (this.maxOutOfOrderness !== undefined) d.maxOutOfOrderness = this.maxOutOfOrderness;
    if (this.idleness !== undefined) d.idleness = this.idleness;
    if (this.alignment !== undefined) d.alignment = { ...this.alignment };
    return d;
  }

  private fields(): StrategyFields<T> {
    return {
      kind: this.kind,
      maxOutOfOrderness: this.maxOutOfOrderness,
      idleness: this.idleness,
      alignment: this.alignment,
      timestampAssigner: this.timestampAssigner,
      supplier: this.supplier,
    };
  }
}
