import { describe, expect, it } from 'vitest';
import {
  BroadcastProcessFunction,
  BroadcastStream,
  CoProcessFunction,
  DataStream,
  EventTimeSessionWindows,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
  MapStateDescriptor,
  OutputTag,
  ProcessJoinFunction,
  RichCoMapFunction,
  RichFlatJoinFunction,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type BroadcastContext,
  type BroadcastReadOnlyContext,
  type Collector,
  type KeyedCoProcessContext,
  type ProcessJoinContext,
  type TaggedUnion,
  type Window,
  type WindowOperatorSpec,
} from 'weir';
import type { JobEdge, JobGraph, JobVertex, OperatorDescriptor } from '../../common/jobgraph.js';
import { createEnvironment } from '../../api/internal.js';
import { coGroupWindowFunction, joinWindowFunction } from '../../api/join-functions.js';
import { TimeWindow } from '../../api/windowing/time-window.js';
import { buildGraph, opOfKind, type Main } from '../helpers/graph.js';

function build(main: Main, defaultParallelism = 2) {
  return buildGraph(main, defaultParallelism);
}

function inEdges(g: JobGraph, v: JobVertex): JobEdge[] {
  return g.edges.filter((e) => e.target === v.id);
}

function vertexOf(g: JobGraph, id: string): JobVertex {
  return g.vertices.find((v) => v.id === id)!;
}

interface Order {
  user: string;
  amount: number;
  ts: number;
}
interface User {
  name: string;
  city: string;
  ts: number;
}

const orders = (env: StreamExecutionEnvironment): DataStream<Order> =>
  env.fromElements<Order>({ user: 'a', amount: 1, ts: 1 });
const users = (env: StreamExecutionEnvironment): DataStream<User> =>
  env.fromElements<User>({ name: 'a', city: 'x', ts: 1 });
const timed = <T extends { ts: number }>(s: DataStream<T>) =>
  s.assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<T>(5).withTimestampAssigner((e) => e.ts));

function collector(): Collector<unknown> & { items: unknown[] } {
  const items: unknown[] = [];
  return { items, collect: (v) => void items.push(v) };
}

class Enrich extends KeyedCoProcessFunction<string, Order, User, string> {
  processElement1(o: Order, ctx: KeyedCoProcessContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()}:${o.amount}`);
  }
  processElement2(): void {}
}

describe('connect: co-map, co-flatMap, co-process', () => {
  it('is a two-input head with input edges 0 and 1 that chains to its successor', () => {
    const { jobGraph: g, userCode } = build((env) => {
      const fn = { map1: (o: Order) => o.user, map2: (u: User) => u.name };
      orders(env)
        .setParallelism(1)
        .connect(
          users(env)
            .map((u) => u)
            .setParallelism(2),
        )
        .map(fn)
        .print();
    });
    const { vertex, op, index } = opOfKind(g, 'coMap');
    expect(index).toBe(0);
    expect(vertex.numInputs).toBe(2);
    expect(vertex.name).toBe('Co-Map -> Sink: Print to Std. Out');
    expect(vertex.parallelism).toBe(2);
    expect(op.config).toEqual({});
    expect(op.stateful).toBe(false);
    expect(op.outputs).toEqual([{ type: 'chained', operator: 1 }]);
    const edges = inEdges(g, vertex);
    expect(edges.map((e) => [e.targetInput, e.partitioner, vertexOf(g, e.source).name])).toEqual([
      [0, 'rebalance', 'Source: Collection Source'],
      [1, 'forward', 'Map'],
    ]);
    expect((userCode.get(op.id) as { map1(o: Order): string }).map1({ user: 'u', amount: 0, ts: 0 })).toBe('u');
    expect(g.warnings).toEqual([]);
  });

  it('never chains a two-input operator to its inputs, even at parallelism 1 behind keyBy', () => {
    const { jobGraph: g } = build((env) => {
      orders(env)
        .keyBy((o) => o.user)
        .connect(users(env).keyBy((u) => u.name))
        .process(new Enrich())
        .uid('enrich')
        .print();
    }, 1);
    const { vertex, index } = opOfKind(g, 'coProcess');
    expect(index).toBe(0);
    expect(vertex.numInputs).toBe(2);
    expect(g.vertices.filter((v) => v.numInputs === 0)).toHaveLength(2);
    expect(
      inEdges(g, vertex)
        .map((e) => e.targetInput)
        .sort(),
    ).toEqual([0, 1]);
  });

  it('co-flatMap keeps the function object with flatMap1/flatMap2', () => {
    const fn = { flatMap1: (o: Order, out: Collector<string>) => out.collect(o.user), flatMap2: () => {} };
    const { jobGraph: g, userCode } = build((env) => {
      orders(env).connect(users(env)).flatMap(fn).print();
    });
    const { op } = opOfKind(g, 'coFlatMap');
    expect(op.name).toBe('Co-Flat Map');
    expect(userCode.get(op.id)).toBe(fn);
  });

  it('keyed co-process from two KeyedStreams: keyRef1/keyRef2, hash edges with those refs, stateful', () => {
    const { jobGraph: g, userCode } = build((env) => {
      orders(env)
        .keyBy((o) => o.user)
        .connect(users(env).keyBy((u) => u.name))
        .process(new Enrich())
        .print();
    });
    const { vertex, op } = opOfKind(g, 'coProcess');
    expect(op.name).toBe('Co-Keyed-Process');
    expect(op.stateful).toBe(true);
    expect(op.config).toEqual({
      keyRef1: expect.stringMatching(/^key-[0-9a-f]{32}$/),
      keyRef2: expect.stringMatching(/^key-[0-9a-f]{32}$/),
    });
    expect(op.config.keyRef1).not.toBe(op.config.keyRef2);
    const edges = inEdges(g, vertex).sort((a, b) => a.targetInput - b.targetInput);
    expect(edges.map((e) => [e.targetInput, e.partitioner, e.keyRef])).toEqual([
      [0, 'hash', op.config.keyRef1],
      [1, 'hash', op.config.keyRef2],
    ]);
    const key1 = userCode.get(op.config.keyRef1 as string) as (o: Order) => string;
    const key2 = userCode.get(op.config.keyRef2 as string) as (u: User) => string;
    expect(key1({ user: 'k1', amount: 0, ts: 0 })).toBe('k1');
    expect(key2({ name: 'k2', city: '', ts: 0 })).toBe('k2');
    expect(g.warnings).toEqual([
      `operator 'Co-Keyed-Process' is stateful but has no uid(); savepoint-based upgrades need one`,
    ]);
  });

  it('connect(b).keyBy(k1, k2) is keyed the same way', () => {
    const { jobGraph: g, userCode } = build((env) => {
      orders(env)
        .connect(users(env))
        .keyBy((o) => o.user, { getKey: (u: User) => u.name })
        .process(new Enrich())
        .uid('e')
        .print();
    });
    const { vertex, op } = opOfKind(g, 'coProcess');
    expect(Object.keys(op.config).sort()).toEqual(['keyRef1', 'keyRef2']);
    expect(inEdges(g, vertex).every((e) => e.partitioner === 'hash')).toBe(true);
    expect((userCode.get(op.config.keyRef2 as string) as (u: User) => string)({ name: 'n', city: '', ts: 0 })).toBe(
      'n',
    );
    expect(g.warnings).toEqual([]);
  });

  it('non-keyed co-process has no keyRefs; a keyed co-map with a function object may hold state', () => {
    class P extends CoProcessFunction<Order, User, string> {
      processElement1(): void {}
      processElement2(): void {}
    }
    class M extends RichCoMapFunction<Order, User, string> {
      map1(o: Order): string {
        return o.user;
      }
      map2(u: User): string {
        return u.name;
      }
    }
    const { jobGraph: g } = build((env) => {
      orders(env).connect(users(env)).process(new P()).print();
      orders(env)
        .keyBy((o) => o.user)
        .connect(users(env).keyBy((u) => u.name))
        .map(new M())
        .print();
    });
    const { op } = opOfKind(g, 'coProcess');
    expect(op.name).toBe('Co-Process');
    expect(op.config).toEqual({});
    expect(op.stateful).toBe(false);
    const coMap = opOfKind(g, 'coMap').op;
    expect(Object.keys(coMap.config).sort()).toEqual(['keyRef1', 'keyRef2']);
    expect(g.warnings).toEqual([`operator 'Co-Map' is stateful but has no uid(); savepoint-based upgrades need one`]);
  });

  it('routes side outputs of a co-process', () => {
    const tag = new OutputTag<string>('odd');
    const { jobGraph: g } = build((env) => {
      const main = orders(env)
        .keyBy((o) => o.user)
        .connect(users(env).keyBy((u) => u.name))
        .process(new Enrich())
        .uid('e');
      main.print();
      main.getSideOutput(tag).print('side');
    });
    const { op } = opOfKind(g, 'coProcess');
    expect(op.outputs).toEqual([
      { type: 'chained', operator: 1 },
      { type: 'chained', operator: 2, tag: 'odd' },
    ]);
  });

  it('rejects a KeyedCoProcessFunction on unkeyed inputs and incomplete function objects', () => {
    const env = createEnvironment({ defaultParallelism: 1 });
    expect(() => orders(env).connect(users(env)).process(new Enrich())).toThrow(
      /KeyedCoProcessFunction needs keyed inputs/,
    );
    expect(() =>
      orders(env)
        .keyBy((o) => o.user)
        .connect(users(env))
        .process(new Enrich()),
    ).toThrow(/needs keyed inputs/);
    expect(() =>
      orders(env)
        .connect(users(env))
        .map({ map1: () => 1 } as never),
    ).toThrow(/map2\(\) is missing/);
    expect(() =>
      orders(env)
        .connect(users(env))
        .flatMap(((x: unknown) => x) as never),
    ).toThrow(TypeError);
    expect(() => orders(env).connect({} as never)).toThrow(/DataStream or a BroadcastStream/);
    expect(() => orders(env).connect(users(createEnvironment()))).toThrow(/different execution environments/);
  });
});

describe('broadcast state', () => {
  const rules = new MapStateDescriptor<string, number>('rules');
  class Rules extends BroadcastProcessFunction<Order, [string, number], string> {
    processElement(o: Order, ctx: BroadcastReadOnlyContext, out: Collector<string>): void {
      if (ctx.getBroadcastState(rules).contains(o.user)) out.collect(o.user);
    }
    processBroadcastElement(r: [string, number], ctx: BroadcastContext): void {
      ctx.getBroadcastState(rules).put(r[0], r[1]);
    }
  }
  class KeyedRules extends KeyedBroadcastProcessFunction<string, Order, [string, number], string> {
    processElement(): void {}
    processBroadcastElement(): void {}
  }
  const ruleStream = (env: StreamExecutionEnvironment) => env.fromElements<[string, number]>(['a', 1]);

  it('broadcastProcess: input 2 through a broadcast edge, state names in the config', () => {
    const { jobGraph: g } = build((env) => {
      const bs = ruleStream(env).broadcast(rules, new MapStateDescriptor('limits'));
      expect(bs).toBeInstanceOf(BroadcastStream);
      orders(env).connect(bs).process(new Rules()).uid('rules').print();
    });
    const { vertex, op, index } = opOfKind(g, 'broadcastProcess');
    expect(index).toBe(0);
    expect(vertex.numInputs).toBe(2);
    expect(op.name).toBe('Co-Process-Broadcast');
    expect(op.config).toEqual({ broadcastStates: ['rules', 'limits'] });
    expect(op.stateful).toBe(true);
    const edges = inEdges(g, vertex).sort((a, b) => a.targetInput - b.targetInput);
    expect(edges.map((e) => [e.targetInput, e.partitioner])).toEqual([
      [0, 'rebalance'],
      [1, 'broadcast'],
    ]);
    expect(g.warnings).toEqual([]);
  });

  it('keyed broadcastProcess: keyRef1 and a hash first edge', () => {
    const { jobGraph: g } = build((env) => {
      orders(env)
        .keyBy((o) => o.user)
        .connect(ruleStream(env).broadcast(rules))
        .process(new KeyedRules())
        .print();
    });
    const { vertex, op } = opOfKind(g, 'broadcastProcess');
    expect(op.name).toBe('Co-Process-Broadcast-Keyed');
    expect(op.config).toEqual({ broadcastStates: ['rules'], keyRef1: expect.stringMatching(/^key-/) });
    const edges = inEdges(g, vertex).sort((a, b) => a.targetInput - b.targetInput);
    expect(edges.map((e) => [e.targetInput, e.partitioner, e.keyRef])).toEqual([
      [0, 'hash', op.config.keyRef1],
      [1, 'broadcast', undefined],
    ]);
    expect(g.warnings).toEqual([
      `operator 'Co-Process-Broadcast-Keyed' is stateful but has no uid(); savepoint-based upgrades need one`,
    ]);
  });

  it('broadcast() without descriptors stays the partitioner; errors name the mistake', () => {
    const env = createEnvironment({ defaultParallelism: 2 });
    expect(ruleStream(env).broadcast()).toBeInstanceOf(DataStream);
    expect(() => ruleStream(env).broadcast(rules, new MapStateDescriptor('rules'))).toThrow(/'rules' twice/);
    expect(() => ruleStream(env).broadcast({} as never)).toThrow(/MapStateDescriptor/);
    expect(() => new MapStateDescriptor('')).toThrow(TypeError);
    expect(() => orders(env).connect(ruleStream(env).broadcast(rules)).process(new KeyedRules())).toThrow(
      /keyed first input/,
    );
    expect(() =>
      orders(env)
        .connect(ruleStream(env).broadcast(rules))
        .process({ processElement() {} } as never),
    ).toThrow(/processBroadcastElement\(\) is missing/);
  });
});

function windowSpec(userCode: Map<string, unknown>, op: OperatorDescriptor): WindowOperatorSpec {
  return userCode.get(op.id) as WindowOperatorSpec;
}

function runWindowFunction(spec: WindowOperatorSpec, key: unknown, elements: unknown[]): unknown[] {
  const out = collector();
  const f = spec.windowFunction!;
  const ctx = {
    window: new TimeWindow(0, 10) as Window,
    currentWatermark: () => 0,
    currentProcessingTime: () => 0,
    output: () => {},
  };
  if (typeof f === 'function') f(key, ctx, elements, out);
  else f.process(key, ctx, elements, out);
  return out.items;
}

const L = (value: unknown): TaggedUnion<unknown, unknown> => ({ side: 0, value });
const R = (value: unknown): TaggedUnion<unknown, unknown> => ({ side: 1, value });

describe('window join and coGroup', () => {
  it('is built as tag maps, a union, keyBy on the tag and a keyed window', () => {
    const { jobGraph: g, userCode } = build((env) => {
      timed(orders(env))
        .join(timed(users(env)))
        .where((o) => o.user)
        .equalTo((u) => u.name)
        .window(TumblingEventTimeWindows.of(1000))
        .apply((o, u) => `${u.city}:${o.amount}`)
        .uid('join')
        .print();
    });
    const { vertex, op, index } = opOfKind(g, 'window');
    expect(index).toBe(0);
    expect(op.name).toBe('Window(TumblingEventTimeWindows(1000), EventTimeTrigger(), Join)');
    expect(op.uid).toBe('join');
    expect(vertex.numInputs).toBe(1);
    // Each tagger chains to its input (it inherits the input's parallelism).
    expect(g.vertices.map((v) => v.name).filter((n) => n.startsWith('Source'))).toEqual([
      'Source: Collection Source -> Timestamps/Watermarks -> Map',
      'Source: Collection Source -> Timestamps/Watermarks -> Map',
    ]);
    const edges = inEdges(g, vertex);
    expect(edges.map((e) => [e.targetInput, e.partitioner, e.keyRef])).toEqual([
      [0, 'hash', op.config.keyRef],
      [0, 'hash', op.config.keyRef],
    ]);
    const key = userCode.get(op.config.keyRef as string) as (u: TaggedUnion<Order, User>) => string;
    expect(key({ side: 0, value: { user: 'left', amount: 1, ts: 0 } })).toBe('left');
    expect(key({ side: 1, value: { name: 'right', city: '', ts: 0 } })).toBe('right');
    const tagger = g.vertices[0]!.operators.find((o) => o.kind === 'map')!;
    expect((userCode.get(tagger.id) as (v: unknown) => unknown)('x')).toEqual({ side: 0, value: 'x' });
    const spec = windowSpec(userCode, op);
    expect(spec.reduceFunction).toBeUndefined();
    expect(spec.aggregateFunction).toBeUndefined();
    expect(
      runWindowFunction(spec, 'a', [L({ user: 'a', amount: 3, ts: 0 }), R({ name: 'a', city: 'x', ts: 0 })]),
    ).toEqual(['x:3']);
    expect(g.warnings).toEqual([]);
  });

  it('works with sliding and session windows, trigger and lateness settings carry over', () => {
    for (const assigner of [SlidingEventTimeWindows.of(1000, 500), EventTimeSessionWindows.withGap(300)]) {
      const { jobGraph: g, userCode } = build((env) => {
        timed(orders(env))
          .coGroup(timed(users(env)))
          .where((o) => o.user)
          .equalTo((u) => u.name)
          .window(assigner)
          .allowedLateness(50)
          .apply((os, us, out: Collector<number>) => out.collect([...os].length + [...us].length))
          .print();
      });
      const { op } = opOfKind(g, 'window');
      expect(op.name).toMatch(
        new RegExp(`^Window\\(${assigner.constructor.name}\\(.*\\), EventTimeTrigger\\(\\), CoGroup\\)$`),
      );
      expect(op.config.allowedLateness).toBe(50);
      expect(op.config.assigner).toEqual(assigner.describe());
      expect(windowSpec(userCode, op).assigner).toBe(assigner);
      expect(runWindowFunction(windowSpec(userCode, op), 'a', [L(1), L(2), R(3)])).toEqual([3]);
    }
  });

  it('join emits the cross product lefts × rights in nested-loop order; nothing when a side is empty', () => {
    const f = joinWindowFunction((l: string, r: string) => `${l}${r}`);
    const run = (elements: unknown[]) => {
      const out = collector();
      (f as (k: unknown, c: unknown, e: unknown[], o: Collector<unknown>) => void)('k', {}, elements, out);
      return out.items;
    };
    expect(run([L('a'), R('1'), L('b'), R('2'), R('3')])).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    expect(run([L('a'), L('b')])).toEqual([]);
    expect(run([R('1')])).toEqual([]);
  });

  it('matches a nested-loop reference on random windows (fixed seed)', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const f = joinWindowFunction({ join: (l: number, r: number) => [l, r] });
    for (let round = 0; round < 20; round++) {
      const elements = Array.from({ length: Math.floor(rnd() * 12) }, (_, i) => (rnd() < 0.5 ? L(i) : R(i)));
      const out = collector();
      (f as { process(k: unknown, c: unknown, e: unknown[], o: Collector<unknown>): void }).process(
        'k',
        {},
        elements,
        out,
      );
      const expected: unknown[] = [];
      for (const l of elements)
        for (const r of elements) if (l.side === 0 && r.side === 1) expected.push([l.value, r.value]);
      expect(out.items).toEqual(expected);
    }
  });

  it("flat joins by arity or RichFlatJoinFunction, and keeps a function object's lifecycle", () => {
    const run = (f: unknown, elements: unknown[]) => {
      const out = collector();
      const w = f as { process?: (k: unknown, c: unknown, e: unknown[], o: Collector<unknown>) => void };
      if (typeof f === 'function')
        (f as (k: unknown, c: unknown, e: unknown[], o: Collector<unknown>) => void)('k', {}, elements, out);
      else w.process!('k', {}, elements, out);
      return out.items;
    };
    const flat = joinWindowFunction((l: number, r: number, out: Collector<number>) => {
      if (l < r) out.collect(l * 10 + r);
    });
    expect(run(flat, [L(1), L(5), R(2), R(3)])).toEqual([12, 13]);

    const opened: string[] = [];
    class Rich extends RichFlatJoinFunction<number, number, number> {
      override open(): void {
        opened.push('open');
      }
      join(l: number, r: number, out: Collector<number>): void {
        out.collect(l + r);
        out.collect(l - r);
      }
    }
    const rich = joinWindowFunction(new Rich()) as unknown as {
      open(ctx: unknown): void;
      setRuntimeContext(ctx: unknown): void;
    };
    rich.open({});
    rich.setRuntimeContext({});
    expect(opened).toEqual(['open']);
    expect(run(rich, [L(5), R(2)])).toEqual([7, 3]);
    expect(run(joinWindowFunction({ join: (l: number, r: number) => l * r }), [L(5), R(2)])).toEqual([10]);
  });

  it('coGroup gets both sides, either possibly empty', () => {
    const calls: unknown[] = [];
    const f = coGroupWindowFunction({
      coGroup(lefts: Iterable<number>, rights: Iterable<number>, out: Collector<string>) {
        calls.push([[...lefts], [...rights]]);
        out.collect('x');
      },
    }) as { process(k: unknown, c: unknown, e: unknown[], o: Collector<unknown>): void };
    const out = collector();
    f.process('k', {}, [L(1), R(2), L(3)], out);
    f.process('k', {}, [L(4)], out);
    f.process('k', {}, [R(5)], out);
    expect(calls).toEqual([
      [[1, 3], [2]],
      [[4], []],
      [[], [5]],
    ]);
    expect(out.items).toEqual(['x', 'x', 'x']);
  });

  it('rejects bad functions, key selectors and assigners', () => {
    const env = createEnvironment({ defaultParallelism: 1 });
    expect(() =>
      orders(env)
        .join(users(env))
        .where(42 as never),
    ).toThrow(/where\(\) expects a key selector/);
    expect(() =>
      orders(env)
        .join(users(env))
        .where((o) => o.user)
        .equalTo(null as never),
    ).toThrow(/equalTo\(\) expects a key selector/);
    expect(() =>
      orders(env)
        .join(users(env))
        .where((o) => o.user)
        .equalTo((u) => u.name)
        .window({} as never)
        .apply((a) => a),
    ).toThrow(/WindowAssigner/);
    const w = orders(env)
      .join(users(env))
      .where((o) => o.user)
      .equalTo((u) => u.name)
      .window(TumblingEventTimeWindows.of(10));
    expect(() => w.apply({ nope: 1 } as never)).toThrow(/join\(\) method/);
    const c = orders(env)
      .coGroup(users(env))
      .where((o) => o.user)
      .equalTo((u) => u.name)
      .window(TumblingEventTimeWindows.of(10));
    expect(() => c.apply({ join: () => 1 } as never)).toThrow(/coGroup\(\) method/);
    expect(() => orders(env).join({} as never)).toThrow(TypeError);
  });
});

describe('interval join', () => {
  const fn = (o: Order, u: User, ctx: ProcessJoinContext, out: Collector<string>) =>
    out.collect(`${o.user}${u.city}${ctx.getTimestamp()}`);

  it('is a keyed, stateful two-input operator with its bounds in the config', () => {
    const { jobGraph: g, userCode } = build((env) => {
      timed(orders(env))
        .keyBy((o) => o.user)
        .intervalJoin(timed(users(env)).keyBy((u) => u.name))
        .between(-5, '1 s')
        .upperBoundExclusive()
        .process(fn)
        .print();
    });
    const { vertex, op, index } = opOfKind(g, 'intervalJoin');
    expect(index).toBe(0);
    expect(vertex.numInputs).toBe(2);
    expect(op.name).toBe('Interval Join');
    expect(op.stateful).toBe(true);
    expect(op.config).toEqual({
      keyRef1: expect.stringMatching(/^key-/),
      keyRef2: expect.stringMatching(/^key-/),
      lowerBound: -5,
      upperBound: 1000,
      lowerBoundInclusive: true,
      upperBoundInclusive: false,
    });
    const edges = inEdges(g, vertex).sort((a, b) => a.targetInput - b.targetInput);
    expect(edges.map((e) => [e.targetInput, e.partitioner, e.keyRef])).toEqual([
      [0, 'hash', op.config.keyRef1],
      [1, 'hash', op.config.keyRef2],
    ]);
    expect(userCode.get(op.id)).toBe(fn);
    expect(g.warnings).toEqual([
      `operator 'Interval Join' is stateful but has no uid(); savepoint-based upgrades need one`,
    ]);
  });

  it('takes a ProcessJoinFunction and a lower exclusive bound', () => {
    class J extends ProcessJoinFunction<Order, User, string> {
      processElement(): void {}
    }
    const { jobGraph: g } = build((env) => {
      orders(env)
        .keyBy((o) => o.user)
        .intervalJoin(users(env).keyBy((u) => u.name))
        .between(0, 0)
        .process(new J())
        .uid('ij')
        .print();
      orders(env)
        .keyBy((o) => o.user)
        .intervalJoin(users(env).keyBy((u) => u.name))
        .between(0, 1)
        .lowerBoundExclusive()
        .process(new J())
        .uid('ij2')
        .print();
    });
    const ops = g.vertices.flatMap((v) => v.operators).filter((o) => o.kind === 'intervalJoin');
    expect(ops.map((o) => [o.config.lowerBoundInclusive, o.config.upperBoundInclusive])).toEqual([
      [true, true],
      [false, true],
    ]);
  });

  it('rejects inverted or empty bounds and unkeyed inputs', () => {
    const env = createEnvironment({ defaultParallelism: 1 });
    const join = () =>
      orders(env)
        .keyBy((o) => o.user)
        .intervalJoin(users(env).keyBy((u) => u.name));
    expect(() => join().between(10, 5)).toThrow(
      /lower bound \(10 ms\) must not be larger than the upper bound \(5 ms\)/,
    );
    expect(() => join().between(0, 0).lowerBoundExclusive().process(fn)).toThrow(/can never join/);
    expect(() => join().between(0, 1).lowerBoundExclusive().upperBoundExclusive().process(fn)).toThrow(
      /can never join/,
    );
    expect(() => join().between(0, 2).lowerBoundExclusive().upperBoundExclusive().process(fn)).not.toThrow();
    expect(() =>
      join()
        .between(0, 1)
        .process({} as never),
    ).toThrow(/processElement\(\)/);
    expect(() =>
      orders(env)
        .keyBy((o) => o.user)
        .intervalJoin(users(env) as never),
    ).toThrow(/expects a KeyedStream/);
  });
});

describe('two-input edges', () => {
  it('a stream connected to itself gets one edge per input; a union feeds one input through several edges', () => {
    const { jobGraph: g } = build((env) => {
      const a = orders(env).map((o) => o.amount);
      a.connect(a)
        .map({ map1: (x: number) => x, map2: (x: number) => -x })
        .print();
      const b = env.fromSequence(1, 3);
      const c = env.fromSequence(4, 6);
      b.union(c)
        .connect(a)
        .flatMap({ flatMap1: () => {}, flatMap2: () => {} })
        .print();
    });
    const coMap = opOfKind(g, 'coMap').vertex;
    const self = inEdges(g, coMap);
    expect(self.map((e) => e.targetInput).sort()).toEqual([0, 1]);
    expect(new Set(self.map((e) => e.source)).size).toBe(1);
    expect(new Set(self.map((e) => e.index)).size).toBe(2);
    const coFlat = opOfKind(g, 'coFlatMap').vertex;
    expect(
      inEdges(g, coFlat)
        .map((e) => [vertexOf(g, e.source).name, e.targetInput])
        .sort(),
    ).toEqual([
      ['Map', 1],
      ['Source: Sequence Source', 0],
      ['Source: Sequence Source', 0],
    ]);
  });
});
