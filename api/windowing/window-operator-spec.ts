// Turns a windowed stream's settings and window function into the 'window' operator the graph
// records: JSON config for the JobGraph and a WindowOperatorSpec as user code. Functions are
// normalized here so the runtime sees one shape: reduce as a plain (a, b) => r, the aggregate as
// an object of plain functions, the window function as (key, context, elements, out) or an object
// with process() (kept when it has open/close).
import type { WindowConfig } from '../../common/jobgraph.js';
import { AbstractRichFunction, type Collector, type ReduceFunction } from '../functions.js';
import type { OperatorSpec } from '../transformation.js';
import { describeTrigger } from './purging-trigger.js';
import {
  isMergingAssigner,
  type AggregateFunction,
  type Evictor,
  type ProcessWindowContext,
  type ProcessWindowFunctionLike,
  type Trigger,
  type Window,
  type WindowAssigner,
  type WindowOperatorSpec,
} from './types.js';

export type WindowFunctionKind = 'reduce' | 'aggregate' | 'process';

export interface WindowSettings {
  assigner: WindowAssigner<never, never>;
  trigger: Trigger<never, never>;
  evictor: Evictor<never, never> | undefined;
  allowedLateness: number;
  lateDataTag: string | undefined;
}

/** The user's functions, as given; `windowFunction` already takes the key first. */
export interface WindowFunctions {
  kind: WindowFunctionKind;
  reduce?: unknown;
  aggregate?: unknown;
  windowFunction?: unknown;
}

type Fn = (...args: never[]) => unknown;
type AnyWindowFunction = ProcessWindowFunctionLike<unknown, unknown, unknown, Window>;

function isRich(fn: unknown): boolean {
  if (fn instanceof AbstractRichFunction) return true;
  const o = fn as { open?: unknown; close?: unknown } | null;
  return o !== null && typeof o === 'object' && (typeof o.open === 'function' || typeof o.close === 'function');
}

function normalizeReduce(fn: unknown, api: string): (a: unknown, b: unknown) => unknown {
  if (isRich(fn))
    throw new TypeError(
      `the ReduceFunction of ${api}() cannot have open()/close() (a RichFunction); use ${api}(reduceFunction, processWindowFunction) for lifecycle`,
    );
  if (typeof fn === 'function') return fn as (a: unknown, b: unknown) => unknown;
  const o = fn as ReduceFunction<unknown> | null;
  if (o && typeof o === 'object' && typeof o.reduce === 'function') return (a, b) => o.reduce(a, b);
  throw new TypeError(`${api}() expects a function or an object with a reduce() method`);
}

function normalizeAggregate(fn: unknown, merging: boolean, api: string): AggregateFunction<unknown, unknown, unknown> {
  const o = fn as Partial<AggregateFunction<unknown, unknown, unknown>> | null;
  if (
    !o ||
    typeof o !== 'object' ||
    typeof o.createAccumulator !== 'function' ||
    typeof o.add !== 'function' ||
    typeof o.getResult !== 'function'
  ) {
    throw new TypeError(
      `${api}() expects an AggregateFunction: an object with createAccumulator(), add(), getResult() and merge()`,
    );
  }
  if (isRich(fn)) throw new TypeError(`the AggregateFunction of ${api}() cannot have open()/close() (a RichFunction)`);
  const merge = o.merge;
  if (typeof merge !== 'function' && merging)
    throw new TypeError(`${api}() on merging (session) windows needs an AggregateFunction with merge()`);
  return {
    createAccumulator: () => o.createAccumulator!(),
    add: (value, acc) => o.add!(value, acc),
    getResult: (acc) => o.getResult!(acc),
    merge: typeof merge === 'function' ? (a, b) => merge.call(o, a, b) : missingAggregateMerge,
  };
}

/** The merge() of an AggregateFunction that has none; windows that would combine accumulators check for it. */
export function missingAggregateMerge(): never {
  throw new Error('AggregateFunction.merge() is missing');
}

/** Keeps the user object's lifecycle hooks (and runtime context) reachable through a wrapper. */
function withLifecycleOf(from: unknown, to: Record<string, unknown>): Record<string, unknown> {
  if (from === null || typeof from !== 'object') return to;
  const o = from as Record<string, unknown>;
  for (const m of ['open', 'close', 'setRuntimeContext', 'getRuntimeContext']) {
    const f = o[m];
    if (typeof f === 'function') to[m] = (...args: unknown[]) => (f as Fn).apply(o, args as never[]);
  }
  return to;
}

type KeyedProcess = (
  key: unknown,
  ctx: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
) => void;

function processOf(fn: unknown, api: string): KeyedProcess {
  if (typeof fn === 'function') return fn as KeyedProcess;
  const o = fn as { process?: unknown } | null;
  if (o && typeof o === 'object' && typeof o.process === 'function')
    return (k, c, e, out) => (o.process as Fn).call(o, k as never, c as never, e as never, out as never);
  throw new TypeError(`${api}() expects a function or an object with a process() method`);
}

/** The window function with the key first, whether the user wrote a keyed or an all-window function. */
export function keyedWindowFunction(fn: unknown, all: boolean, api: string): AnyWindowFunction {
  if (!all) {
    processOf(fn, api);
    return fn as AnyWindowFunction;
  }
  if (typeof fn === 'function') {
    const f = fn as (c: unknown, e: unknown, out: unknown) => void;
    return (_key, ctx, elements, out) => f(ctx, elements, out);
  }
  const o = fn as { process?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.process !== 'function')
    throw new TypeError(`${api}() expects a function or an object with a process() method`);
  const p = o.process as (c: unknown, e: unknown, out: unknown) => void;
  return withLifecycleOf(fn, {
    process: (_key: unknown, ctx: unknown, elements: unknown, out: unknown) => p.call(o, ctx, elements, out),
  }) as AnyWindowFunction;
}

/** With an evictor the window keeps every element; reduce/aggregate then run over them at firing time, as in Flink. */
function overAllElements(
  pre: (elements: Iterable<unknown>) => { has: boolean; value: unknown },
  windowFunction: AnyWindowFunction | undefined,
): AnyWindowFunction {
  const then = windowFunction === undefined ? undefined : processOf(windowFunction, 'window');
  const process: KeyedProcess = (key, ctx, elements, out) => {
    const r = pre(elements);
    if (!r.has) return;
    if (then) then(key, ctx, [r.value], out);
    else out.collect(r.value);
  };
  return (windowFunction === undefined ? process : withLifecycleOf(windowFunction, { process })) as AnyWindowFunction;
}

function fnLabel(f: WindowFunctions): string {
  const base = f.kind === 'reduce' ? 'Reduce' : f.kind === 'aggregate' ? 'Aggregate' : 'Process';
  return f.kind !== 'process' && f.windowFunction !== undefined ? `${base}, Process` : base;
}

/** Display label: the object's own toString() (TumblingEventTimeWindows(1000)), else its class name. */
function label(x: object): string {
  if (x.toString !== Object.prototype.toString) return String(x);
  const name = (x.constructor as { name?: string } | undefined)?.name;
  return name && name !== 'Object' ? name : 'Custom';
}

function describeOf(x: { describe?: () => Record<string, unknown> }): Record<string, unknown> {
  return typeof x.describe === 'function' ? x.describe() : { kind: 'custom' };
}

/** The OperatorSpec of a 'window' operator (keyRef, parallelism and inputs are the caller's). */
export function windowOperator(
  settings: WindowSettings,
  fns: WindowFunctions,
  all: boolean,
  api: string,
): OperatorSpec {
  const { assigner, trigger, evictor } = settings;
  const merging = isMergingAssigner(assigner);
  const spec: WindowOperatorSpec = {
    assigner: assigner as WindowAssigner<unknown, Window>,
    trigger: trigger as Trigger<unknown, Window>,
    allowedLateness: settings.allowedLateness,
  };
  if (evictor) spec.evictor = evictor as Evictor<unknown, Window>;
  if (settings.lateDataTag !== undefined) spec.lateDataTag = settings.lateDataTag;

  const windowFunction =
    fns.windowFunction === undefined ? undefined : keyedWindowFunction(fns.windowFunction, all, api);
  if (fns.kind === 'reduce') {
    const reduce = normalizeReduce(fns.reduce, api);
    if (!evictor) spec.reduceFunction = reduce;
    else {
      spec.windowFunction = overAllElements((elements) => {
        let has = false;
        let acc: unknown;
        for (const e of elements) {
          acc = has ? reduce(acc, e) : e;
          has = true;
        }
        return { has, value: acc };
      }, windowFunction);
    }
    if (!evictor && windowFunction) spec.windowFunction = windowFunction;
  } else if (fns.kind === 'aggregate') {
    const agg = normalizeAggregate(fns.aggregate, merging, api);
    if (!evictor) {
      spec.aggregateFunction = agg;
      if (windowFunction) spec.windowFunction = windowFunction;
    } else {
      spec.windowFunction = overAllElements((elements) => {
        let acc = agg.createAccumulator();
        for (const e of elements) acc = agg.add(e, acc);
        return { has: true, value: agg.getResult(acc) };
      }, windowFunction);
    }
  } else {
    if (!windowFunction) throw new TypeError(`${api}() needs a window function`);
    spec.windowFunction = windowFunction;
  }

  const config: Omit<WindowConfig, 'keyRef'> = {
    assigner: describeOf(assigner),
    trigger: describeTrigger(trigger),
    allowedLateness: settings.allowedLateness,
    function: fns.kind,
    withProcessFunction: fns.kind === 'process' || fns.windowFunction !== undefined,
  };
  if (evictor) config.evictor = describeOf(evictor);
  if (settings.lateDataTag !== undefined) config.lateDataTag = settings.lateDataTag;

  const parts = [label(assigner), label(trigger), ...(evictor ? [label(evictor)] : []), fnLabel(fns)];
  return {
    kind: 'window',
    name: `${all ? 'WindowAll' : 'Window'}(${parts.join(', ')})`,
    config,
    userFunction: spec,
    stateful: true,
  };
}
