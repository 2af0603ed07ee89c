// Flink's SourceFunction: a source whose run(ctx) pushes records, with explicit timestamps and
// watermarks when it wants them, until its input ends or cancel() is called. env.addSource()
// takes one. run() may be async; it should await now and then (between batches, say), since the
// task's checkpoints, timers and cancellation only run while it waits.
import { AbstractRichFunction } from './functions.js';
import type { Watermark } from './watermark.js';

/** What run() emits through (Flink's SourceFunction.SourceContext). */
export interface SourceContext<T> {
  /** Emits a record without a timestamp. */
  collect(element: T): void;
  /** Emits a record with its event timestamp. */
  collectWithTimestamp(element: T, timestamp: number): void;
  /** Event time reached `mark.timestamp` on this source subtask. */
  emitWatermark(mark: Watermark): void;
  /** No records will come for a while: downstream watermarks stop waiting for this subtask until it emits again. */
  markAsTemporarilyIdle(): void;
}

export interface SourceFunction<T> {
  /** Emits records until the input ends (the returned promise settles) or cancel() asks it to stop. */
  run(ctx: SourceContext<T>): void | Promise<void>;
  /** Asks run() to return soon (the job is canceled or stops); emissions after it are dropped. */
  cancel(): void;
}

/**
 * A SourceFunction that runs in every subtask of the source (Flink's ParallelSourceFunction marker
 * interface); the `parallel` marker says so at run time. Each subtask finds its share through
 * getRuntimeContext().getIndexOfThisSubtask() (a RichParallelSourceFunction).
 */
export interface ParallelSourceFunction<T> extends SourceFunction<T> {
  readonly parallel: true;
}

/** A SourceFunction with open/close and a RuntimeContext; runs with parallelism 1. */
export abstract class RichSourceFunction<T> extends AbstractRichFunction implements SourceFunction<T> {
  abstract run(ctx: SourceContext<T>): void | Promise<void>;
  abstract cancel(): void;
}

/** A RichSourceFunction that runs in every subtask of the source. */
export abstract class RichParallelSourceFunction<T> extends RichSourceFunction<T> implements ParallelSourceFunction<T> {
  readonly parallel = true as const;
}

export function isSourceFunction(fn: unknown): fn is SourceFunction<unknown> {
  const f = fn as Partial<SourceFunction<unknown>> | null;
  return typeof f === 'object' && f !== null && typeof f.run === 'function' && typeof f.cancel === 'function';
}

export function isParallelSourceFunction(fn: unknown): boolean {
  return isSourceFunction(fn) && (fn as Partial<ParallelSourceFunction<unknown>>).parallel === true;
}
