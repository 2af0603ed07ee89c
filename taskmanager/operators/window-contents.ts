// How a window's contents grow, merge and turn into the values handed to the window function:
// eagerly reduced, eagerly aggregated, or kept as the list of elements (process functions and
// evictors need them all). Flink's ReducingState / AggregatingState / ListState of the window.
import type { AggregateFunction, TimestampedValue, WindowOperatorSpec } from '../../api/windowing/types.js';
import type { TableKind } from '../state/types.js';

/**
 * Contents are plain data (they live in the keyed state backend): add() may change its argument
 * in place, and the caller stores the result again.
 */
export interface WindowContents {
  /** The state kind the contents are kept as. */
  readonly kind: TableKind;
  /** Adds an element to the contents (undefined when the window is empty); returns the new contents. */
  add(contents: unknown, value: unknown, timestamp: number | undefined): unknown;
  /** Combines the contents of two windows being merged. */
  merge(a: unknown, b: unknown): unknown;
  /** The values the window function sees; none when the window has nothing to emit. */
  values(contents: unknown): unknown[];
}

class ReducingContents implements WindowContents {
  readonly kind = 'reducing';
  constructor(private readonly reduce: (a: unknown, b: unknown) => unknown) {}

  add(contents: unknown, value: unknown): unknown {
    return contents === undefined ? value : this.reduce(contents, value);
  }

  merge(a: unknown, b: unknown): unknown {
    return this.reduce(a, b);
  }

  values(contents: unknown): unknown[] {
    return contents === undefined ? [] : [contents];
  }
}

class AggregatingContents implements WindowContents {
  readonly kind = 'aggregating';
  constructor(private readonly fn: AggregateFunction<unknown, unknown, unknown>) {}

  add(contents: unknown, value: unknown): unknown {
    return this.fn.add(value, contents === undefined ? this.fn.createAccumulator() : contents);
  }

  merge(a: unknown, b: unknown): unknown {
    return this.fn.merge(a, b);
  }

  values(contents: unknown): unknown[] {
    return contents === undefined ? [] : [this.fn.getResult(contents)];
  }
}

/**
 * Contents fed with partial accumulators of a local pre-aggregation (local-window-aggregate.ts)
 * instead of elements: a partial is merged in, the first one taken as it is (it was decoded from
 * the exchange, so nobody else holds it).
 */
export class PartialContents implements WindowContents {
  readonly kind: TableKind;
  constructor(private readonly inner: WindowContents) {
    this.kind = inner.kind;
  }

  add(contents: unknown, partial: unknown): unknown {
    return contents === undefined ? partial : this.inner.merge(contents, partial);
  }

  merge(a: unknown, b: unknown): unknown {
    return this.inner.merge(a, b);
  }

  values(contents: unknown): unknown[] {
    return this.inner.values(contents);
  }
}

/** Keeps every element with its timestamp; an evictor's pre-aggregation happens at emission. */
export class ListContents implements WindowContents {
  readonly kind = 'list';
  add(contents: unknown, value: unknown, timestamp: number | undefined): unknown {
    const list = (contents as TimestampedValue<unknown>[] | undefined) ?? [];
    list.push({ value, timestamp });
    return list;
  }

  merge(a: unknown, b: unknown): unknown {
    return (a as TimestampedValue<unknown>[]).concat(b as TimestampedValue<unknown>[]);
  }

  values(contents: unknown): unknown[] {
    return contents === undefined ? [] : (contents as TimestampedValue<unknown>[]).map((e) => e.value);
  }
}

/**
 * Folds a list of elements the way the spec's reduce or aggregate function would have, for
 * windows with an evictor (which must see the elements, so nothing is pre-aggregated).
 */
export function applyPreAggregation(spec: WindowOperatorSpec, values: unknown[]): unknown[] {
  if (spec.reduceFunction) {
    if (values.length === 0) return [];
    let acc = values[0];
    for (let i = 1; i < values.length; i++) acc = spec.reduceFunction(acc, values[i]);
    return [acc];
  }
  if (spec.aggregateFunction) {
    const f = spec.aggregateFunction;
    let acc = f.createAccumulator();
    for (const v of values) acc = f.add(v, acc);
    return [f.getResult(acc)];
  }
  return values;
}

export function windowContentsFor(spec: WindowOperatorSpec): WindowContents {
  if (spec.evictor) return new ListContents();
  if (spec.reduceFunction && spec.aggregateFunction)
    throw new Error('a window has either a reduce or an aggregate function, not both');
  if (spec.reduceFunction) return new ReducingContents(spec.reduceFunction);
  if (spec.aggregateFunction) return new AggregatingContents(spec.aggregateFunction);
  return new ListContents();
}
