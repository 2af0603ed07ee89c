// Flink's WindowedStream (keyBy().window()) and AllWindowedStream (windowAll()): builders that
// collect trigger, evictor and lateness settings until a window function ends them with a
// 'window' operator.
import { aggregationReduce, checkField, type AggregationKind, type FieldExpression } from '../aggregations.js';
import type { SingleOutputStreamOperator } from '../datastream.js';
import type { ReduceFunction } from '../functions.js';
import { outputTagId, type OutputTag } from '../output-tag.js';
import type { OperatorSpec } from '../transformation.js';
import { offsetMs, type Duration } from './durations.js';
import type { ProcessAllWindowFunctionLike } from './window-functions.js';
import { windowOperator, type WindowFunctions } from './window-operator-spec.js';
import {
  isMergingAssigner,
  type AggregateFunction,
  type Evictor,
  type ProcessWindowFunctionLike,
  type Trigger,
  type Window,
  type WindowAssigner,
} from './types.js';

/** Adds the window operator to the plan (keyed or all) and returns its stream. */
export type WindowOperatorFactory = (spec: OperatorSpec) => SingleOutputStreamOperator<unknown>;

function checkAssigner(a: unknown, api: string): void {
  const o = a as Partial<WindowAssigner> | null;
  if (
    !o ||
    typeof o !== 'object' ||
    typeof o.assignWindows !== 'function' ||
    typeof o.getDefaultTrigger !== 'function' ||
    typeof o.isEventTime !== 'function'
  ) {
    throw new TypeError(`${api}() needs a WindowAssigner, e.g. TumblingEventTimeWindows.of(1000)`);
  }
}

abstract class WindowedStreamBase<T, W extends Window> {
  private triggerValue: Trigger<T, W>;
  private evictorValue: Evictor<T, W> | undefined;
  private lateness = 0;
  private lateDataTag: string | undefined;

  protected constructor(
    protected readonly assigner: WindowAssigner<T, W>,
    private readonly addWindowOperator: WindowOperatorFactory,
    private readonly all: boolean,
  ) {
    checkAssigner(assigner, all ? 'windowAll' : 'window');
    this.triggerValue = assigner.getDefaultTrigger();
  }

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W>): this {
    const t = trigger as Partial<Trigger<T, W>> | null;
    if (
      !t ||
      typeof t !== 'object' ||
      typeof t.onElement !== 'function' ||
      typeof t.onEventTime !== 'function' ||
      typeof t.onProcessingTime !== 'function' ||
      typeof t.clear !== 'function'
    ) {
      throw new TypeError('trigger() needs a Trigger, e.g. CountTrigger.of(100)');
    }
    if (isMergingAssigner(this.assigner) && !(typeof t.canMerge === 'function' && t.canMerge())) {
      throw new Error(
        'a merging window assigner (session windows) cannot be used with a trigger that does not support merging',
      );
    }
    this.triggerValue = trigger;
    return this;
  }

  evictor(evictor: Evictor<T, W>): this {
    const e = evictor as Partial<Evictor<T, W>> | null;
    if (!e || typeof e !== 'object' || typeof e.evictBefore !== 'function' || typeof e.evictAfter !== 'function') {
      throw new TypeError('evictor() needs an Evictor, e.g. CountEvictor.of(10)');
    }
    this.evictorValue = evictor;
    return this;
  }

  /** Keeps event-time windows this long after their end; late elements update the result. */
  allowedLateness(lateness: Duration): this {
    const ms = offsetMs(lateness, 'allowedLateness()');
    if (ms < 0) throw new RangeError(`allowedLateness() cannot be negative, got ${String(lateness)}`);
    if (ms > 0 && !this.assigner.isEventTime()) throw new Error('allowedLateness() only applies to event-time windows');
    this.lateness = ms;
    return this;
  }

  /** Elements arriving after their window is gone go to this side output instead of being dropped. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateDataTag = outputTagId(tag, 'sideOutputLateData');
    return this;
  }

  protected build<R>(fns: WindowFunctions, api: string): SingleOutputStreamOperator<R> {
    const spec = windowOperator(
      {
        assigner: this.assigner as WindowAssigner<never, never>,
        trigger: this.triggerValue as Trigger<never, never>,
        evictor: this.evictorValue as Evictor<never, never> | undefined,
        allowedLateness: this.lateness,
        lateDataTag: this.lateDataTag,
      },
      fns,
      this.all,
      api,
    );
    return this.addWindowOperator(spec) as SingleOutputStreamOperator<R>;
  }

  private aggregation(kind: AggregationKind, field: FieldExpression): SingleOutputStreamOperator<T> {
    checkField(field, kind);
    return this.build<T>({ kind: 'reduce', reduce: aggregationReduce<T>(kind, field) }, kind);
  }

  sum(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregation('sum', field);
  }

  min(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregation('min', field);
  }

  max(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregation('max', field);
  }

  minBy(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregation('minBy', field);
  }

  maxBy(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregation('maxBy', field);
  }
}

export class WindowedStream<T, K, W extends Window> extends WindowedStreamBase<T, W> {
  declare private readonly __key?: K;

  constructor(assigner: WindowAssigner<T, W>, addWindowOperator: WindowOperatorFactory) {
    super(assigner, addWindowOperator, false);
  }

  /** Incrementally reduces each window; the process function, if given, sees the one result. */
  reduce(reduceFunction: ReduceFunction<T>): SingleOutputStreamOperator<T>;
  reduce<R>(
    reduceFunction: ReduceFunction<T>,
    processWindowFunction: ProcessWindowFunctionLike<T, R, K, W>,
  ): SingleOutputStreamOperator<R>;
  reduce<R>(
    reduceFunction: ReduceFunction<T>,
    processWindowFunction?: ProcessWindowFunctionLike<T, R, K, W>,
  ): SingleOutputStreamOperator<R | T> {
    return this.build({ kind: 'reduce', reduce: reduceFunction, windowFunction: processWindowFunction }, 'reduce');
  }

  /** Incrementally aggregates each window; the process function, if given, sees the one result. */
  aggregate<ACC, V>(aggregateFunction: AggregateFunction<T, ACC, V>): SingleOutputStreamOperator<V>;
  aggregate<ACC, V, R>(
    aggregateFunction: AggregateFunction<T, ACC, V>,
    processWindowFunction: ProcessWindowFunctionLike<V, R, K, W>,
  ): SingleOutputStreamOperator<R>;
  aggregate<ACC, V, R>(
    aggregateFunction: AggregateFunction<T, ACC, V>,
    processWindowFunction?: ProcessWindowFunctionLike<V, R, K, W>,
  ): SingleOutputStreamOperator<V | R> {
    return this.build(
      { kind: 'aggregate', aggregate: aggregateFunction, windowFunction: processWindowFunction },
      'aggregate',
    );
  }

  /** Buffers each window's elements and hands them all to the function when it fires. */
  process<R>(processWindowFunction: ProcessWindowFunctionLike<T, R, K, W>): SingleOutputStreamOperator<R> {
    return this.build({ kind: 'process', windowFunction: processWindowFunction }, 'process');
  }
}

export class AllWindowedStream<T, W extends Window> extends WindowedStreamBase<T, W> {
  constructor(assigner: WindowAssigner<T, W>, addWindowOperator: WindowOperatorFactory) {
    super(assigner, addWindowOperator, true);
  }

  reduce(reduceFunction: ReduceFunction<T>): SingleOutputStreamOperator<T>;
  reduce<R>(
    reduceFunction: ReduceFunction<T>,
    processWindowFunction: ProcessAllWindowFunctionLike<T, R, W>,
  ): SingleOutputStreamOperator<R>;
  reduce<R>(
    reduceFunction: ReduceFunction<T>,
    processWindowFunction?: ProcessAllWindowFunctionLike<T, R, W>,
  ): SingleOutputStreamOperator<R | T> {
    return this.build({ kind: 'reduce', reduce: reduceFunction, windowFunction: processWindowFunction }, 'reduce');
  }

  aggregate<ACC, V>(aggregateFunction: AggregateFunction<T, ACC, V>): SingleOutputStreamOperator<V>;
  aggregate<ACC, V, R>(
    aggregateFunction: AggregateFunction<T, ACC, V>,
    processWindowFunction: ProcessAllWindowFunctionLike<V, R, W>,
  ): SingleOutputStreamOperator<R>;
  aggregate<ACC, V, R>(
    aggregateFunction: AggregateFunction<T, ACC, V>,
    processWindowFunction?: ProcessAllWindowFunctionLike<V, R, W>,
  ): SingleOutputStreamOperator<V | R> {
    return this.build(
      { kind: 'aggregate', aggregate: aggregateFunction, windowFunction: processWindowFunction },
      'aggregate',
    );
  }

  process<R>(processWindowFunction: ProcessAllWindowFunctionLike<T, R, W>): SingleOutputStreamOperator<R> {
    return this.build({ kind: 'process', windowFunction: processWindowFunction }, 'process');
  }
}
