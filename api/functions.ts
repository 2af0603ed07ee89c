// User function shapes, as in Flink: a plain function, or an object with Flink's method name
// (optionally `open`/`close`). The Rich* classes are the same shapes with a runtime context.
import type { OutputTag } from './output-tag.js';
import type { KeyedStateStore } from './state.js';

/** Emits zero or more records from flatMap/process. */
export interface Collector<T> {
  collect(value: T): void;
}

/**
 * What a running subtask tells its functions about itself (Flink's RuntimeContext), and the keyed
 * state of the current key: getState, getListState, getMapState, getReducingState and
 * getAggregatingState work in functions on a keyed stream (after keyBy()) and throw elsewhere.
 */
export interface RuntimeContext extends KeyedStateStore {
  getJobId(): string;
  getTaskName(): string;
  getIndexOfThisSubtask(): number;
  getNumberOfParallelSubtasks(): number;
  getMaxNumberOfParallelSubtasks(): number;
  getAttemptNumber(): number;
}

/** Lifecycle hooks every function object may have; the runtime awaits them. */
export interface Lifecycle {
  open?(ctx: RuntimeContext): void | Promise<void>;
  close?(): void | Promise<void>;
}

export type MapFunction<T, R> = ((value: T) => R) | ({ map(value: T): R } & Lifecycle);
export type FilterFunction<T> = ((value: T) => boolean) | ({ filter(value: T): boolean } & Lifecycle);
export type FlatMapFunction<T, R> =
  ((value: T, out: Collector<R>) => void) | ({ flatMap(value: T, out: Collector<R>): void } & Lifecycle);
export type ReduceFunction<T> = ((a: T, b: T) => T) | ({ reduce(a: T, b: T): T } & Lifecycle);
export type KeySelector<T, K> = ((value: T) => K) | { getKey(value: T): K };

/** Context of a sink's invoke (Flink's SinkFunction.Context). */
export interface SinkContext {
  /** Event timestamp of the record, or null when it has none. */
  timestamp(): number | null;
  currentProcessingTime(): number;
  currentWatermark(): number;
}

export type SinkFunction<T> =
  | ((value: T, ctx: SinkContext) => void | Promise<void>)
  | ({ invoke(value: T, ctx: SinkContext): void | Promise<void> } & Lifecycle);

export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

export interface ProcessContext {
  /** Event timestamp of the current record, or null when it has none. */
  timestamp(): number | null;
  timerService(): TimerService;
  /** Emits to the side output `tag`; read it with getSideOutput(tag) on the operator's stream. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface KeyedProcessContext<K> extends ProcessContext {
  getCurrentKey(): K;
}

export type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME';

/** In onTimer of an event-time timer, timestamp() is the timer's time. */
export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  timeDomain(): TimeDomain;
}

export type ProcessFunctionLike<I, O> =
  | ((value: I, ctx: ProcessContext, out: Collector<O>) => void)
  | ({
      processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
      onTimer?(timestamp: number, ctx: OnTimerContext<unknown>, out: Collector<O>): void;
    } & Lifecycle);

export type KeyedProcessFunctionLike<K, I, O> =
  | ((value: I, ctx: KeyedProcessContext<K>, out: Collector<O>) => void)
  | ({
      processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
      onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
    } & Lifecycle);

/** Base of the Rich* classes: the runtime sets the context before `open`. */
export abstract class AbstractRichFunction {
  runtimeContext: RuntimeContext | undefined;

  setRuntimeContext(ctx: RuntimeContext): void {
    this.runtimeContext = ctx;
  }

  getRuntimeContext(): RuntimeContext {
    if (!this.runtimeContext) throw new Error('the runtime context is only available once the function is opened');
    return this.runtimeContext;
  }

  open(_ctx: RuntimeContext): void | Promise<void> {}
  close(): void | Promise<void> {}
}

export abstract class RichMapFunction<T, R> extends AbstractRichFunction {
  abstract map(value: T): R;
}

export abstract class RichFlatMapFunction<T, R> extends AbstractRichFunction {
  abstract flatMap(value: T, out: Collector<R>): void;
}

export abstract class RichFilterFunction<T> extends AbstractRichFunction {
  abstract filter(value: T): boolean;
}

export abstract class RichSinkFunction<T> extends AbstractRichFunction {
  abstract invoke(value: T, ctx: SinkContext): void | Promise<void>;
}

export abstract class ProcessFunction<I, O> extends AbstractRichFunction {
  abstract processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
  onTimer(_timestamp: number, _ctx: OnTimerContext<unknown>, _out: Collector<O>): void {}
}

export abstract class KeyedProcessFunction<K, I, O> extends AbstractRichFunction {
  abstract processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer(_timestamp: number, _ctx: OnTimerContext<K>, _out: Collector<O>): void {}
}
