// The windowing contract shared by the API (assigners, triggers, evictors, window functions,
// written by users or built in) and the TaskManager's WindowOperator that drives them. Names
// and semantics are Flink's.
import type { Collector } from '../functions.js';

/** A window: TimeWindow [start, end) or the GlobalWindow. */
export interface Window {
  /** Largest timestamp that still belongs to the window (end - 1 for a TimeWindow). */
  maxTimestamp(): number;
  /** Stable identity, used for state and timer namespaces ("start:end", "global"). */
  id(): string;
}

export interface WindowAssignerContext {
  getCurrentProcessingTime(): number;
}

export interface WindowAssigner<T = unknown, W extends Window = Window> {
  assignWindows(element: T, timestamp: number | undefined, ctx: WindowAssignerContext): W[];
  getDefaultTrigger(): Trigger<T, W>;
  isEventTime(): boolean;
  /** JSON description for the job graph (kind, size, slide, offset, gap). */
  describe(): Record<string, unknown>;
}

/** Session assigners: windows that overlap are merged (Flink's MergingWindowAssigner). */
export interface MergingWindowAssigner<T = unknown, W extends Window = Window> extends WindowAssigner<T, W> {
  /** Calls `merge(toMerge, mergeResult)` for each group of windows that must become one. */
  mergeWindows(windows: W[], merge: (toMerge: W[], mergeResult: W) => void): void;
}

export function isMergingAssigner<T, W extends Window>(a: WindowAssigner<T, W>): a is MergingWindowAssigner<T, W> {
  return typeof (a as Partial<MergingWindowAssigner<T, W>>).mergeWindows === 'function';
}

export type TriggerResult = 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE';

/** Per key and window state a trigger may keep (a CountTrigger's count, say). */
export interface TriggerState<V> {
  value(): V | undefined;
  update(value: V): void;
  clear(): void;
}

export interface TriggerContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  getPartitionedState<V>(name: string): TriggerState<V>;
}

export interface OnMergeContext extends TriggerContext {
  /** Combines this state of the windows being merged into the merged window's state. */
  mergePartitionedState<V>(name: string, merge: (a: V, b: V) => V): void;
}

export interface Trigger<T = unknown, W extends Window = Window> {
  onElement(element: T, timestamp: number | undefined, window: W, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  canMerge(): boolean;
  onMerge(window: W, ctx: OnMergeContext): void;
  /** Removes timers and state of the window when it is purged for good. */
  clear(window: W, ctx: TriggerContext): void;
  describe(): Record<string, unknown>;
}

export interface TimestampedValue<T> {
  value: T;
  timestamp: number | undefined;
}

/** Removes elements from a window's contents before (and/or after) the window function. */
export interface Evictor<T = unknown, W extends Window = Window> {
  evictBefore(
    elements: TimestampedValue<T>[],
    size: number,
    window: W,
    ctx: { getCurrentWatermark(): number },
  ): TimestampedValue<T>[];
  evictAfter(
    elements: TimestampedValue<T>[],
    size: number,
    window: W,
    ctx: { getCurrentWatermark(): number },
  ): TimestampedValue<T>[];
  describe(): Record<string, unknown>;
}

export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge(a: ACC, b: ACC): ACC;
}

export interface ProcessWindowContext<W extends Window = Window> {
  readonly window: W;
  currentWatermark(): number;
  currentProcessingTime(): number;
  output<X>(tag: { id: string }, value: X): void;
}

/** Flink's ProcessWindowFunction: all (or the pre-aggregated) elements of one key's window. */
export type ProcessWindowFunctionLike<IN, OUT, K, W extends Window = Window> =
  | ((key: K, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>) => void)
  | {
      process(key: K, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
      open?(ctx: unknown): unknown;
      close?(): unknown;
    };

/**
 * Everything the WindowOperator needs, as the graph builder stores it in the user-code map under
 * the window operator's id. Exactly one of reduceFunction / aggregateFunction is set, or neither
 * (then the window keeps all elements for `windowFunction`).
 */
export interface WindowOperatorSpec {
  assigner: WindowAssigner<unknown, Window>;
  trigger: Trigger<unknown, Window>;
  evictor?: Evictor<unknown, Window>;
  allowedLateness: number;
  /** OutputTag id for late elements (sideOutputLateData). */
  lateDataTag?: string;
  reduceFunction?: (a: unknown, b: unknown) => unknown;
  aggregateFunction?: AggregateFunction<unknown, unknown, unknown>;
  /** Applied to the window's contents (or its single pre-aggregated value); identity when absent. */
  windowFunction?: ProcessWindowFunctionLike<unknown, unknown, unknown, Window>;
}
