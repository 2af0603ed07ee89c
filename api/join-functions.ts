// Window join and coGroup functions (Flink's JoinFunction, FlatJoinFunction, CoGroupFunction), and
// the window functions that run them inside an ordinary keyed window operator: both inputs are
// tagged with their side and unioned, so one window of one key holds the elements of both sides.
import { AbstractRichFunction, type Collector, type Lifecycle } from './functions.js';
import type { ProcessWindowContext, Window } from './windowing/types.js';

/** An element of a window join's unioned input: which side it came from, and the element. */
export type TaggedUnion<T1, T2> = { side: 0; value: T1 } | { side: 1; value: T2 };

export type JoinFunction<IN1, IN2, R> =
  ((first: IN1, second: IN2) => R) | ({ join(first: IN1, second: IN2): R } & Lifecycle);

/** Like JoinFunction, but emits zero or more results per pair through `out`. */
export type FlatJoinFunction<IN1, IN2, R> =
  | ((first: IN1, second: IN2, out: Collector<R>) => void)
  | ({ join(first: IN1, second: IN2, out: Collector<R>): void } & Lifecycle);

/** All elements of one key and window, per side; either side may be empty (not both). */
export type CoGroupFunction<IN1, IN2, R> =
  | ((first: Iterable<IN1>, second: Iterable<IN2>, out: Collector<R>) => void)
  | ({ coGroup(first: Iterable<IN1>, second: Iterable<IN2>, out: Collector<R>): void } & Lifecycle);

export abstract class RichJoinFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract join(first: IN1, second: IN2): R;
}

export abstract class RichFlatJoinFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract join(first: IN1, second: IN2, out: Collector<R>): void;
}

export abstract class RichCoGroupFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract coGroup(first: Iterable<IN1>, second: Iterable<IN2>, out: Collector<R>): void;
}

type CoGroup = (lefts: unknown[], rights: unknown[], out: Collector<unknown>) => void;
type Fn = (...args: unknown[]) => unknown;

/** The window function of a join/coGroup: (key, ctx, elements, out) or an object with process() and the user's lifecycle. */
export type JoinWindowFunction =
  | ((key: unknown, ctx: ProcessWindowContext<Window>, elements: Iterable<unknown>, out: Collector<unknown>) => void)
  | ({
      process(
        key: unknown,
        ctx: ProcessWindowContext<Window>,
        elements: Iterable<unknown>,
        out: Collector<unknown>,
      ): void;
    } & Lifecycle);

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** Splits a window's tagged elements into lefts and rights, in arrival order. */
export function splitTagged(elements: Iterable<unknown>): { lefts: unknown[]; rights: unknown[] } {
  const lefts: unknown[] = [];
  const rights: unknown[] = [];
  for (const e of elements) {
    const t = e as TaggedUnion<unknown, unknown>;
    if (t.side === 0) lefts.push(t.value);
    else rights.push(t.value);
  }
  return { lefts, rights };
}

/** Wraps `coGroup` as a window function; a user function object keeps its open/close and runtime context. */
function asWindowFunction(user: unknown, coGroup: CoGroup): JoinWindowFunction {
  const process = (
    _key: unknown,
    _ctx: ProcessWindowContext<Window>,
    elements: Iterable<unknown>,
    out: Collector<unknown>,
  ): void => {
    const { lefts, rights } = splitTagged(elements);
    coGroup(lefts, rights, out);
  };
  if (user === null || typeof user !== 'object') return process;
  const o = user as Record<string, unknown>;
  const wrapper: Record<string, unknown> = { process };
  for (const m of ['open', 'close', 'setRuntimeContext', 'getRuntimeContext']) {
    const f = o[m];
    if (typeof f === 'function') wrapper[m] = (...args: unknown[]) => (f as Fn).apply(o, args);
  }
  return wrapper as unknown as JoinWindowFunction;
}

/** The window function of coGroup(...).apply(fn). */
export function coGroupWindowFunction(fn: unknown): JoinWindowFunction {
  if (isClass(fn))
    throw new TypeError(`apply() was given the class ${(fn as Fn).name || '(anonymous)'}; pass an instance`);
  if (typeof fn === 'function') return asWindowFunction(undefined, fn as CoGroup);
  const o = fn as { coGroup?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.coGroup !== 'function')
    throw new TypeError(
      'apply() of a coGroup expects a function (lefts, rights, out) => void or an object with a coGroup() method',
    );
  const coGroup = o.coGroup as CoGroup;
  return asWindowFunction(fn, (lefts, rights, out) => coGroup.call(o, lefts, rights, out));
}

/**
 * The window function of join(...).apply(fn): fn on every pair of a key's window, lefts × rights
 * in nested-loop order. A function (or join() method) declaring three parameters is a
 * FlatJoinFunction and emits through its third argument; otherwise its return value is the result.
 */
export function joinWindowFunction(fn: unknown): JoinWindowFunction {
  if (isClass(fn))
    throw new TypeError(`apply() was given the class ${(fn as Fn).name || '(anonymous)'}; pass an instance`);
  let join: Fn;
  let self: unknown;
  if (typeof fn === 'function') {
    join = fn as Fn;
  } else {
    const o = fn as { join?: unknown } | null;
    if (!o || typeof o !== 'object' || typeof o.join !== 'function')
      throw new TypeError(
        'apply() of a join expects a function (left, right) => result or an object with a join() method',
      );
    join = o.join as Fn;
    self = o;
  }
  const flat = join.length >= 3 || fn instanceof RichFlatJoinFunction;
  const crossProduct: CoGroup = flat
    ? (lefts, rights, out) => {
        for (const l of lefts) for (const r of rights) join.call(self, l, r, out);
      }
    : (lefts, rights, out) => {
        for (const l of lefts) for (const r of rights) out.collect(join.call(self, l, r));
      };
  return asWindowFunction(fn, crossProduct);
}
