// Functions of connected streams (Flink's CoMapFunction, CoFlatMapFunction, CoProcessFunction and
// KeyedCoProcessFunction): one method per input. The contexts are those of ProcessFunction, since
// a co-function sees one record of one input at a time, exactly like a one-input function.
import {
  AbstractRichFunction,
  type Collector,
  type KeyedProcessContext,
  type Lifecycle,
  type OnTimerContext,
  type ProcessContext,
} from './functions.js';

export type CoMapFunction<IN1, IN2, R> = { map1(value: IN1): R; map2(value: IN2): R } & Lifecycle;

export type CoFlatMapFunction<IN1, IN2, R> = {
  flatMap1(value: IN1, out: Collector<R>): void;
  flatMap2(value: IN2, out: Collector<R>): void;
} & Lifecycle;

/** Context of CoProcessFunction.processElement1/2: timestamp(), timerService(), output(tag, v). */
export type CoProcessContext = ProcessContext;
/** Context of KeyedCoProcessFunction.processElement1/2: adds getCurrentKey(). */
export type KeyedCoProcessContext<K> = KeyedProcessContext<K>;
/** Context of onTimer: adds timeDomain(); timestamp() is the timer's time for event-time timers. */
export type CoOnTimerContext<K> = OnTimerContext<K>;

export type CoProcessFunctionLike<IN1, IN2, R> = {
  processElement1(value: IN1, ctx: CoProcessContext, out: Collector<R>): void;
  processElement2(value: IN2, ctx: CoProcessContext, out: Collector<R>): void;
  onTimer?(timestamp: number, ctx: CoOnTimerContext<unknown>, out: Collector<R>): void;
} & Lifecycle;

export type KeyedCoProcessFunctionLike<K, IN1, IN2, R> = {
  processElement1(value: IN1, ctx: KeyedCoProcessContext<K>, out: Collector<R>): void;
  processElement2(value: IN2, ctx: KeyedCoProcessContext<K>, out: Collector<R>): void;
  onTimer?(timestamp: number, ctx: CoOnTimerContext<K>, out: Collector<R>): void;
} & Lifecycle;

export abstract class RichCoMapFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract map1(value: IN1): R;
  abstract map2(value: IN2): R;
}

export abstract class RichCoFlatMapFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract flatMap1(value: IN1, out: Collector<R>): void;
  abstract flatMap2(value: IN2, out: Collector<R>): void;
}

/** Timers only work on keyed connected streams; use KeyedCoProcessFunction there. */
export abstract class CoProcessFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract processElement1(value: IN1, ctx: CoProcessContext, out: Collector<R>): void;
  abstract processElement2(value: IN2, ctx: CoProcessContext, out: Collector<R>): void;
  onTimer(_timestamp: number, _ctx: CoOnTimerContext<unknown>, _out: Collector<R>): void {}
}

export abstract class KeyedCoProcessFunction<K, IN1, IN2, R> extends AbstractRichFunction {
  abstract processElement1(value: IN1, ctx: KeyedCoProcessContext<K>, out: Collector<R>): void;
  abstract processElement2(value: IN2, ctx: KeyedCoProcessContext<K>, out: Collector<R>): void;
  onTimer(_timestamp: number, _ctx: CoOnTimerContext<K>, _out: Collector<R>): void {}
}
