import { describe, expect, it } from 'vitest';
import { buildJobGraph, createEnvironment } from '../../api/internal.js';
import type { AggregationKind, FieldExpression } from 'weir';

/** The reduce function the graph stores for `kind(field)` on a keyed stream. */
function reducer<T>(kind: AggregationKind, field: FieldExpression): (a: T, b: T) => T {
  const env = createEnvironment({});
  const keyed = env.fromElements<T>().keyBy(() => 0);
  (keyed[kind](field) as { print(): unknown }).print();
  const { jobGraph, userCode } = buildJobGraph(env, 'agg');
  const op = jobGraph.vertices.flatMap((v) => v.operators).find((o) => o.kind === 'keyedReduce')!;
  expect(op.name).toBe('Keyed Aggregation');
  expect(op.config.aggregation).toEqual({ kind, field });
  return userCode.get(op.id) as (a: T, b: T) => T;
}

function fold<T>(fn: (a: T, b: T) => T, records: T[]): T[] {
  const out: T[] = [];
  let acc: T | undefined;
  for (const r of records) {
    acc = acc === undefined ? r : fn(acc, r);
    out.push(acc);
  }
  return out;
}

interface Reading {
  id: string;
  t: number;
  v: number;
}

const readings: Reading[] = [
  { id: 'a', t: 1, v: 5 },
  { id: 'b', t: 2, v: 3 },
  { id: 'c', t: 3, v: 3 },
  { id: 'd', t: 4, v: 9 },
];

describe('keyed aggregations (Flink semantics)', () => {
  it("sum keeps the first record's other fields", () => {
    expect(fold(reducer<Reading>('sum', 'v'), readings)).toEqual([
      { id: 'a', t: 1, v: 5 },
      { id: 'a', t: 1, v: 8 },
      { id: 'a', t: 1, v: 11 },
      { id: 'a', t: 1, v: 20 },
    ]);
  });

  it('sum works on array positions and on plain numbers (field 0)', () => {
    expect(
      fold(reducer<[string, number]>('sum', 1), [
        ['x', 1],
        ['y', 2],
        ['z', 3],
      ]),
    ).toEqual([
      ['x', 1],
      ['x', 3],
      ['x', 6],
    ]);
    expect(fold(reducer<number>('sum', 0), [1, 2, 3, 4])).toEqual([1, 3, 6, 10]);
    expect(fold(reducer<bigint>('sum', 0), [1n, 2n])).toEqual([1n, 3n]);
  });

  it('min and max update only the field', () => {
    expect(fold(reducer<Reading>('min', 'v'), readings).map((r) => [r.id, r.t, r.v])).toEqual([
      ['a', 1, 5],
      ['a', 1, 3],
      ['a', 1, 3],
      ['a', 1, 3],
    ]);
    expect(fold(reducer<Reading>('max', 'v'), readings).map((r) => [r.id, r.t, r.v])).toEqual([
      ['a', 1, 5],
      ['a', 1, 5],
      ['a', 1, 5],
      ['a', 1, 9],
    ]);
  });

  it('minBy and maxBy keep the whole extreme record, the first one on ties', () => {
    expect(fold(reducer<Reading>('minBy', 'v'), readings).map((r) => r.id)).toEqual(['a', 'b', 'b', 'b']);
    expect(fold(reducer<Reading>('maxBy', 'v'), readings).map((r) => r.id)).toEqual(['a', 'a', 'a', 'd']);
    const ties = [
      { id: 'p', v: 1 },
      { id: 'q', v: 1 },
    ];
    expect(fold(reducer<{ id: string; v: number }>('maxBy', 'v'), ties).map((r) => r.id)).toEqual(['p', 'p']);
  });

  it('compares strings', () => {
    expect(fold(reducer<[string]>('max', 0), [['b'], ['a'], ['c']])).toEqual([['b'], ['b'], ['c']]);
  });

  it('never mutates its inputs and keeps class prototypes', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
      norm() {
        return this.x + this.y;
      }
    }
    const a = new Point(1, 2);
    const b = new Point(3, 4);
    const r = reducer<Point>('sum', 'x')(a, b);
    expect(a).toEqual(new Point(1, 2));
    expect(r).toBeInstanceOf(Point);
    expect(r.norm()).toBe(6);
  });

  it('matches a reference computation per key on random input (fixed seed)', () => {
    let seed = 42;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const input = Array.from({ length: 500 }, (_, i) => ({
      key: Math.floor(rand() * 5),
      seq: i,
      v: Math.floor(rand() * 100) - 50,
    }));
    const fns = {
      sum: reducer<(typeof input)[0]>('sum', 'v'),
      maxBy: reducer<(typeof input)[0]>('maxBy', 'v'),
      min: reducer<(typeof input)[0]>('min', 'v'),
    };
    const acc = new Map<number, { sum: (typeof input)[0]; maxBy: (typeof input)[0]; min: (typeof input)[0] }>();
    const ref = new Map<number, { first: number; total: number; best: (typeof input)[0]; lowest: number }>();
    for (const r of input) {
      const a = acc.get(r.key);
      acc.set(
        r.key,
        a
          ? { sum: fns.sum(a.sum, r), maxBy: fns.maxBy(a.maxBy, r), min: fns.min(a.min, r) }
          : { sum: r, maxBy: r, min: r },
      );
      const x = ref.get(r.key);
      if (!x) ref.set(r.key, { first: r.seq, total: r.v, best: r, lowest: r.v });
      else
        ref.set(r.key, {
          first: x.first,
          total: x.total + r.v,
          best: r.v > x.best.v ? r : x.best,
          lowest: Math.min(x.lowest, r.v),
        });
    }
    expect(acc.size).toBe(5);
    for (const [key, a] of acc) {
      const x = ref.get(key)!;
      expect(a.sum).toEqual({ key, seq: x.first, v: x.total });
      expect(a.maxBy).toBe(x.best);
      expect(a.min).toEqual({ key, seq: x.first, v: x.lowest });
    }
  });

  it('rejects bad field expressions early and missing fields at run time', () => {
    const env = createEnvironment({});
    const keyed = env.fromElements({ v: 1 }).keyBy(() => 0);
    expect(() => keyed.sum(-1)).toThrow(/property name or a non-negative array index/);
    expect(() => keyed.max('')).toThrow(/property name/);
    expect(() => reducer<{ v: number }>('sum', 'w')({ v: 1 }, { v: 2 })).toThrow(/no field "w"/);
    expect(() => reducer<unknown>('min', 'v')({ v: 'a' }, { v: 1 })).toThrow(/cannot compare string and number/);
    expect(() => reducer<number>('sum', 1)(1, 2)).toThrow(/has no fields/);
  });
});
