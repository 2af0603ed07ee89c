// Flink's BroadcastProcessFunction and KeyedBroadcastProcessFunction, and the contexts the
// 'broadcastProcess' operator implements for them. processBroadcastElement() sees every record
// of the broadcast side and may write the broadcast states; processElement() sees its share of the
// other side and may only read them.
import type { BroadcastState, MapStateDescriptor, ReadOnlyBroadcastState } from './broadcast-state.js';
import {
  AbstractRichFunction,
  type Collector,
  type Lifecycle,
  type TimeDomain,
  type TimerService,
} from './functions.js';
import type { OutputTag } from './output-tag.js';

interface BroadcastContextBase {
  /** Event timestamp of the current record, or null when it has none. */
  timestamp(): number | null;
  currentProcessingTime(): number;
  currentWatermark(): number;
  /** Emits to the side output `tag`; read it with getSideOutput(tag) on the operator's stream. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** processElement(): the broadcast states are read-only (their writes throw). */
export interface BroadcastReadOnlyContext extends BroadcastContextBase {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/** processBroadcastElement(): the broadcast states are writable. */
export interface BroadcastContext extends BroadcastContextBase {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

export interface KeyedBroadcastReadOnlyContext<K> extends BroadcastReadOnlyContext {
  getCurrentKey(): K;
  timerService(): TimerService;
}

/** The keyed variant's broadcast side has no current key (the record goes to every key). */
export type KeyedBroadcastContext = BroadcastContext;

export interface KeyedBroadcastOnTimerContext<K> extends KeyedBroadcastReadOnlyContext<K> {
  timeDomain(): TimeDomain;
}

export type BroadcastProcessFunctionLike<IN1, IN2, R> = {
  processElement(value: IN1, ctx: BroadcastReadOnlyContext, out: Collector<R>): void;
  processBroadcastElement(value: IN2, ctx: BroadcastContext, out: Collector<R>): void;
} & Lifecycle;

export type KeyedBroadcastProcessFunctionLike<K, IN1, IN2, R> = {
  processElement(value: IN1, ctx: KeyedBroadcastReadOnlyContext<K>, out: Collector<R>): void;
  processBroadcastElement(value: IN2, ctx: KeyedBroadcastContext, out: Collector<R>): void;
  onTimer?(timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<R>): void;
} & Lifecycle;

export abstract class BroadcastProcessFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract processElement(value: IN1, ctx: BroadcastReadOnlyContext, out: Collector<R>): void;
  abstract processBroadcastElement(value: IN2, ctx: BroadcastContext, out: Collector<R>): void;
}

export abstract class KeyedBroadcastProcessFunction<K, IN1, IN2, R> extends AbstractRichFunction {
  abstract processElement(value: IN1, ctx: KeyedBroadcastReadOnlyContext<K>, out: Collector<R>): void;
  abstract processBroadcastElement(value: IN2, ctx: KeyedBroadcastContext, out: Collector<R>): void;
  onTimer(_timestamp: number, _ctx: KeyedBroadcastOnTimerContext<K>, _out: Collector<R>): void {}
}
