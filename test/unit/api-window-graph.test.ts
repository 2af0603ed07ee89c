import { describe, expect, it } from 'vitest';
import {
  CountTrigger,
  EventTimeSessionWindows,
  EventTimeTrigger,
  GlobalWindows,
  KeyedProcessFunction,
  NeverTrigger,
  OutputTag,
  ProcessAllWindowFunction,
  ProcessWindowFunction,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type ProcessWindowContext,
  type Window,
  type WindowOperatorSpec,
} from 'weir';
import { createEnvironment } from '../../api/internal.js';
import { buildGraph, opOfKind, type Main } from '../helpers/graph.js';
import { looseConfig } from '../helpers/descriptors.js';

function build(main: Main, defaultParallelism = 1) {
  return buildGraph(main, defaultParallelism);
}

interface Ev {
  key: string;
  ts: number;
  v: number;
}

const fakeCtx = (window: Window): ProcessWindowContext<Window> => ({
  window,
  currentWatermark: () => 0,
  currentProcessingTime: () => 0,
  output: () => {},
});

function collect(): Collector<unknown> & { items: unknown[] } {
  const items: unknown[] = [];
  return { items, collect: (v) => void items.push(v) };
}

function callWindowFunction(spec: WindowOperatorSpec, key: unknown, window: Window, elements: unknown[]): unknown[] {
  const out = collect();
  const f = spec.windowFunction!;
  if (typeof f === 'function') f(key, fakeCtx(window), elements, out);
  else f.process(key, fakeCtx(window), elements, out);
  return out.items;
}

describe('keyed windows in the job graph', () => {
  it('is a stateful window operator behind a hash edge, with its settings as JSON and a spec as user code', () => {
    const late = new OutputTag<Ev>('late');
    const assigner = TumblingEventTimeWindows.of(1000);
    const { jobGraph: g, userCode } = build((env) => {
      env.setParallelism(2);
      env
        .fromElements<Ev>({ key: 'a', ts: 1, v: 1 })
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forBoundedOutOfOrderness<Ev>(10).withTimestampAssigner((e) => e.ts),
        )
        .keyBy((e) => e.key)
        .window(assigner)
        .allowedLateness('2 s')
        .sideOutputLateData(late)
        .reduce({ reduce: (a: Ev, b: Ev) => ({ ...a, v: a.v + b.v }) })
        .print();
    });
    const { vertex, op, index } = opOfKind(g, 'window');
    expect(index).toBe(0);
    expect(vertex.parallelism).toBe(2);
    expect(vertex.name).toBe(
      'Window(TumblingEventTimeWindows(1000), EventTimeTrigger(), Reduce) -> Sink: Print to Std. Out',
    );
    expect(op.stateful).toBe(true);
    expect(op.config).toEqual({
      keyRef: expect.stringMatching(/^key-[0-9a-f]{32}$/),
      assigner: { kind: 'tumblingEventTime', size: 1000, offset: 0 },
      trigger: { kind: 'eventTime' },
      allowedLateness: 2000,
      lateDataTag: 'late',
      function: 'reduce',
      withProcessFunction: false,
    });
    const edge = g.edges.find((e) => e.target === vertex.id)!;
    expect(edge.partitioner).toBe('hash');
    expect(edge.keyRef).toBe(op.config.keyRef);
    expect((userCode.get(op.config.keyRef as string) as (e: Ev) => string)({ key: 'k', ts: 0, v: 0 })).toBe('k');
    const spec = userCode.get(op.id) as WindowOperatorSpec;
    expect(spec.assigner).toBe(assigner);
    expect(spec.trigger).toBeInstanceOf(EventTimeTrigger);
    expect(spec.allowedLateness).toBe(2000);
    expect(spec.lateDataTag).toBe('late');
    expect(spec.reduceFunction!({ key: 'a', ts: 1, v: 2 }, { key: 'a', ts: 2, v: 3 })).toEqual({
      key: 'a',
      ts: 1,
      v: 5,
    });
    expect(spec.aggregateFunction).toBeUndefined();
    expect(spec.windowFunction).toBeUndefined();
    expect(spec.evictor).toBeUndefined();
    expect(g.warnings).toEqual([
      expect.stringContaining(
        "'Window(TumblingEventTimeWindows(1000), EventTimeTrigger(), Reduce)' is stateful but has no uid()",
      ),
    ]);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it('aggregate with a process function: both in the spec, the result stream named and uid-ed', () => {
    const pwf = (
      key: string,
      ctx: ProcessWindowContext<TimeWindow>,
      counts: Iterable<number>,
      out: Collector<string>,
    ) => {
      for (const c of counts) out.collect(`${key}@${ctx.window.start}-${ctx.window.end}=${c}`);
    };
    const { jobGraph: g, userCode } = build((env) => {
      env
        .fromElements<Ev>()
        .keyBy((e) => e.key)
        .window(SlidingEventTimeWindows.of(10, 5))
        .aggregate(
          {
            createAccumulator: () => 0,
            add: (_e: Ev, acc: number) => acc + 1,
            getResult: (acc: number) => acc,
            merge: (a: number, b: number) => a + b,
          },
          pwf,
        )
        .uid('counts')
        .name('Counts')
        .print();
    });
    const { op } = opOfKind(g, 'window');
    expect(op.name).toBe('Counts');
    expect(op.uid).toBe('counts');
    expect(op.config).toMatchObject({
      function: 'aggregate',
      withProcessFunction: true,
      allowedLateness: 0,
      assigner: { kind: 'slidingEventTime', size: 10, slide: 5, offset: 0 },
    });
    expect(g.warnings).toEqual([]);
    const spec = userCode.get(op.id) as WindowOperatorSpec;
    const agg = spec.aggregateFunction!;
    expect(agg.getResult(agg.add({}, agg.add({}, agg.createAccumulator())))).toBe(2);
    expect(agg.merge(2, 3)).toBe(5);
    expect(spec.windowFunction).toBe(pwf);
    expect(callWindowFunction(spec, 'k', new TimeWindow(0, 10), [7])).toEqual(['k@0-10=7']);
  });

  it('process keeps an object window function with its lifecycle', () => {
    const fn = {
      process: (_k: string, _c: ProcessWindowContext<Window>, els: Iterable<Ev>, out: Collector<number>) =>
        out.collect([...els].length),
      open: () => {},
    };
    const { jobGraph: g, userCode } = build((env) => {
      env
        .fromElements<Ev>()
        .keyBy((e) => e.key)
        .window(EventTimeSessionWindows.withGap(100))
        .process(fn)
        .print();
    });
    const { op } = opOfKind(g, 'window');
    expect(op.config).toMatchObject({
      function: 'process',
      withProcessFunction: true,
      assigner: { kind: 'eventTimeSession', gap: 100 },
    });
    expect((userCode.get(op.id) as WindowOperatorSpec).windowFunction).toBe(fn);
  });

  it('accepts ProcessWindowFunction subclasses, typed by key and window', () => {
    class Lengths extends ProcessWindowFunction<Ev, string, string, TimeWindow> {
      process(key: string, ctx: ProcessWindowContext<TimeWindow>, els: Iterable<Ev>, out: Collector<string>): void {
        out.collect(`${key}:${ctx.window.end - ctx.window.start}:${[...els].length}`);
      }
    }
    const fn = new Lengths();
    const { jobGraph: g, userCode } = build((env) => {
      env
        .fromElements<Ev>()
        .keyBy((e) => e.key)
        .window(TumblingEventTimeWindows.of(10))
        .reduce((a, b) => (a.v > b.v ? a : b), fn)
        .print();
    });
    const spec = userCode.get(opOfKind(g, 'window').op.id) as WindowOperatorSpec;
    expect(spec.windowFunction).toBe(fn);
    expect(callWindowFunction(spec, 'k', new TimeWindow(0, 10), [{}])).toEqual(['k:10:1']);
  });

  it('countWindow: a purging count trigger on GlobalWindows; with slide a count evictor', () => {
    const { jobGraph: g, userCode } = build((env) => {
      const keyed = env.fromElements<Ev>().keyBy((e) => e.key);
      keyed.countWindow(3).sum('v').print();
      keyed
        .countWindow(3, 2)
        .reduce((a, b) => ({ ...a, v: a.v + b.v }))
        .print();
    });
    const windows = g.vertices.flatMap((v) => v.operators).filter((o) => o.kind === 'window');
    expect(windows.map((o) => [o.config.assigner, o.config.trigger, o.config.evictor])).toEqual([
      [{ kind: 'global' }, { kind: 'purging', nested: { kind: 'count', maxCount: 3 } }, undefined],
      [{ kind: 'global' }, { kind: 'count', maxCount: 2 }, { kind: 'count', maxCount: 3, doEvictAfter: false }],
    ]);
    const tumbling = userCode.get(windows[0]!.id) as WindowOperatorSpec;
    expect(tumbling.reduceFunction!({ key: 'a', ts: 0, v: 1 }, { key: 'a', ts: 0, v: 2 })).toEqual({
      key: 'a',
      ts: 0,
      v: 3,
    });
    // With an evictor the window keeps its elements; the reduce runs over what the evictor left.
    const sliding = userCode.get(windows[1]!.id) as WindowOperatorSpec;
    expect(sliding.reduceFunction).toBeUndefined();
    expect(sliding.evictor).toBeDefined();
    const els = [1, 2, 3].map((v) => ({ key: 'a', ts: 0, v }));
    expect(callWindowFunction(sliding, 'a', new TimeWindow(0, 1), els)).toEqual([{ key: 'a', ts: 0, v: 6 }]);
  });

  it('aggregate with an evictor runs the aggregate and then the process function at firing time', () => {
    const { jobGraph: g, userCode } = build((env) => {
      env
        .fromElements<Ev>()
        .keyBy((e) => e.key)
        .countWindow(5, 1)
        .aggregate(
          {
            createAccumulator: () => 0,
            add: (e: Ev, acc: number) => acc + e.v,
            getResult: (acc: number) => acc * 10,
            merge: (a: number, b: number) => a + b,
          },
          (key: string, _ctx: ProcessWindowContext<Window>, results: Iterable<number>, out: Collector<string>) =>
            out.collect(`${key}:${[...results].join()}`),
        )
        .print();
    });
    const spec = userCode.get(opOfKind(g, 'window').op.id) as WindowOperatorSpec;
    expect(spec.aggregateFunction).toBeUndefined();
    expect(callWindowFunction(spec, 'a', new TimeWindow(0, 1), [{ v: 1 }, { v: 2 }])).toEqual(['a:30']);
  });

  it('rejects invalid settings where they are made', () => {
    const env = createEnvironment();
    const keyed = env.fromElements<Ev>().keyBy((e) => e.key);
    expect(() => keyed.window(TumblingEventTimeWindows.of(10)).allowedLateness(-1)).toThrow(/cannot be negative/);
    expect(() => keyed.window(TumblingProcessingTimeWindows.of(10)).allowedLateness(5)).toThrow(
      /only applies to event-time windows/,
    );
    expect(() => keyed.window(TumblingProcessingTimeWindows.of(10)).allowedLateness(0)).not.toThrow();
    expect(() => keyed.window(EventTimeSessionWindows.withGap(10)).trigger(NeverTrigger.create())).toThrow(
      /merging window assigner/,
    );
    expect(() => keyed.window(ProcessingTimeSessionWindows.withGap(10)).trigger(CountTrigger.of(2))).not.toThrow();
    expect(() => keyed.window({} as never)).toThrow(/needs a WindowAssigner/);
    expect(() => keyed.window(TumblingEventTimeWindows.of(10)).sideOutputLateData('late' as never)).toThrow(
      /needs an OutputTag/,
    );
    const noMerge = {
      createAccumulator: () => 0,
      add: (_e: Ev, a: number) => a + 1,
      getResult: (a: number) => a,
    } as never;
    expect(() => keyed.window(EventTimeSessionWindows.withGap(10)).aggregate(noMerge)).toThrow(/merge\(\)/);
    expect(() => keyed.window(TumblingEventTimeWindows.of(10)).aggregate(noMerge)).not.toThrow();
    expect(() =>
      keyed.window(TumblingEventTimeWindows.of(10)).reduce({ reduce: (a: Ev) => a, open: () => {} } as never),
    ).toThrow(/RichFunction/);
    expect(() => keyed.window(TumblingEventTimeWindows.of(10)).process(42 as never)).toThrow(/process\(\) method/);
  });
});

describe('windowAll', () => {
  it('runs with parallelism 1 behind a global edge, keyed by a constant', () => {
    const { jobGraph: g, userCode } = build((env) => {
      env
        .fromSequence(1, 100)
        .keyBy((x) => x % 3)
        .windowAll(TumblingProcessingTimeWindows.of(1000))
        .reduce((a, b) => a + b)
        .print();
    }, 4);
    const { vertex, op } = opOfKind(g, 'window');
    expect(vertex.parallelism).toBe(1);
    expect(op.name).toBe('WindowAll(TumblingProcessingTimeWindows(1000), ProcessingTimeTrigger(), Reduce)');
    const edge = g.edges.find((e) => e.target === vertex.id)!;
    expect(edge.partitioner).toBe('global');
    expect(edge.keyRef).toBeUndefined();
    const selector = userCode.get(op.config.keyRef as string) as (x: unknown) => unknown;
    expect([selector(1), selector('x')]).toEqual([0, 0]);
    // The sink after it runs with the default parallelism again.
    expect(g.vertices.map((v) => v.parallelism)).toEqual([4, 1, 4]);
  });

  it('chains to its input when everything runs with parallelism 1', () => {
    const { jobGraph: g } = build((env) => {
      env
        .fromSequence(1, 100)
        .windowAll(GlobalWindows.create())
        .trigger(CountTrigger.of(10))
        .reduce((a, b) => a + b)
        .print();
    });
    expect(g.vertices.map((v) => v.name)).toEqual([
      'Source: Sequence Source -> WindowAll(GlobalWindows(), CountTrigger(10), Reduce) -> Sink: Print to Std. Out',
    ]);
  });

  it('refuses a parallelism above 1', () => {
    const env = createEnvironment();
    const s = env.fromSequence(1, 10).countWindowAll(5).sum(0);
    expect(() => s.setParallelism(2)).toThrow(/non-parallel operator \(windowAll\)/);
    expect(() => s.setParallelism(1)).not.toThrow();
  });

  it('hands its window function the context first, without the key', () => {
    class Counter extends ProcessAllWindowFunction<number, string, TimeWindow> {
      opened = 0;
      override open(): void {
        this.opened++;
      }
      process(ctx: ProcessWindowContext<TimeWindow>, els: Iterable<number>, out: Collector<string>): void {
        out.collect(`${ctx.window.id()}:${[...els].join()}`);
      }
    }
    const counter = new Counter();
    const { jobGraph: g, userCode } = build((env) => {
      const s = env
        .fromSequence(1, 10)
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((x) => x),
        );
      s.windowAll(TumblingEventTimeWindows.of(5))
        .process((ctx, els, out: Collector<number>) => out.collect(ctx.window.maxTimestamp() + [...els].length))
        .print();
      s.windowAll(TumblingEventTimeWindows.of(5)).process(counter).print();
    });
    const [fnOp, objOp] = g.vertices.flatMap((v) => v.operators).filter((o) => o.kind === 'window');
    expect(callWindowFunction(userCode.get(fnOp!.id) as WindowOperatorSpec, 0, new TimeWindow(0, 5), [1, 2])).toEqual([
      6,
    ]);
    const spec = userCode.get(objOp!.id) as WindowOperatorSpec;
    expect(callWindowFunction(spec, 0, new TimeWindow(5, 10), [6, 7])).toEqual(['5:10:6,7']);
    const wrapped = spec.windowFunction as { open?(ctx: unknown): unknown };
    wrapped.open!({});
    expect(counter.opened).toBe(1);
  });
});

describe('side outputs', () => {
  const tag = new OutputTag<string>('errors');

  class Splitter extends KeyedProcessFunction<number, number, number> {
    processElement(v: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
      if (v < 0) ctx.output(tag, `bad ${v}`);
      else out.collect(v);
    }
  }

  it('chains a side-output consumer of equal parallelism and tags the chained output', () => {
    const { jobGraph: g } = build((env) => {
      const main = env
        .fromSequence(1, 10)
        .keyBy((x) => x % 2)
        .process(new Splitter());
      main.print('main');
      main
        .getSideOutput(tag)
        .map((s) => s.toUpperCase())
        .print('side');
    }, 2);
    const { vertex, op } = opOfKind(g, 'keyedProcess');
    expect(vertex.name).toBe('KeyedProcess -> Sink: Print to Std. Out -> Map -> Sink: Print to Std. Out');
    const mapIndex = vertex.operators.findIndex((o) => o.kind === 'map');
    const sinkIndex = vertex.operators.findIndex((o) => o.kind === 'sink');
    expect(op.outputs).toEqual([
      { type: 'chained', operator: sinkIndex },
      { type: 'chained', operator: mapIndex, tag: 'errors' },
    ]);
  });

  it('sends a side output over the network when the consumer does not chain, to several consumers', () => {
    const { jobGraph: g } = build((env) => {
      const main = env.fromSequence(1, 10).process({
        processElement: (v: number, ctx, out: Collector<number>) => {
          ctx.output(tag, String(v));
          out.collect(v);
        },
      });
      main.print();
      main.getSideOutput(tag).print().setParallelism(1);
      main.getSideOutput(new OutputTag<string>('errors')).rebalance().print();
    }, 2);
    const { vertex, op } = opOfKind(g, 'process');
    expect(op.outputs[0]).toEqual({ type: 'chained', operator: 2 });
    const network = op.outputs.filter((o) => o.type === 'network');
    expect(network).toEqual([
      { type: 'network', edge: 0, tag: 'errors' },
      { type: 'network', edge: 1, tag: 'errors' },
    ]);
    expect(g.edges.map((e) => [e.source, e.partitioner])).toEqual([
      [vertex.id, 'rebalance'],
      [vertex.id, 'rebalance'],
    ]);
    expect(g.vertices.map((v) => v.parallelism)).toEqual([2, 1, 2]);
  });

  it("routes a window operator's late data", () => {
    const late = new OutputTag<Ev>('late-events');
    const { jobGraph: g } = build((env) => {
      const sums = env
        .fromElements<Ev>()
        .keyBy((e) => e.key)
        .window(TumblingEventTimeWindows.of(10))
        .sideOutputLateData(late)
        .sum('v');
      sums.print();
      sums
        .getSideOutput(late)
        .map((e) => e.key)
        .print();
    });
    const { op } = opOfKind(g, 'window');
    expect(op.config.lateDataTag).toBe('late-events');
    expect(op.outputs.map((o) => o.tag)).toEqual([undefined, 'late-events']);
  });

  it('needs an operator and a tag', () => {
    const env = createEnvironment();
    expect(() => new OutputTag('')).toThrow(/non-empty id/);
    const op = env.fromSequence(1, 2).map((x) => x);
    expect(() => op.getSideOutput({} as never)).toThrow(/needs an OutputTag/);
    const side = op.getSideOutput(tag);
    expect(() => side.setParallelism(2)).toThrow(/getSideOutput\(\) is not one/);
  });
});

describe('assignTimestampsAndWatermarks', () => {
  it("is a chained operator with its input's parallelism and the strategy as user code", () => {
    const wm = WatermarkStrategy.forBoundedOutOfOrderness<number>(50)
      .withTimestampAssigner((x) => x)
      .withIdleness(1000);
    const { jobGraph: g, userCode } = build((env) => {
      env
        .fromElements(1, 2, 3)
        .assignTimestampsAndWatermarks(wm)
        .map((x) => x)
        .print();
    }, 3);
    expect(g.vertices.map((v) => [v.name, v.parallelism])).toEqual([
      ['Source: Collection Source -> Timestamps/Watermarks', 1],
      ['Map -> Sink: Print to Std. Out', 3],
    ]);
    const { op } = opOfKind(g, 'timestampsAndWatermarks');
    expect(op.config).toEqual({ watermark: { kind: 'boundedOutOfOrderness', maxOutOfOrderness: 50, idleness: 1000 } });
    expect(op.stateful).toBe(false);
    expect(userCode.get(op.id)).toBe(wm);
    expect(g.warnings).toEqual([]);
  });

  it("follows a later change of its input's parallelism and may be set explicitly", () => {
    const { jobGraph: g } = build((env) => {
      const src = env.fromSequence(1, 10);
      const stamped = src.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps());
      src.setParallelism(2);
      stamped.print();
      env
        .fromSequence(1, 10)
        .keyBy((x) => x)
        .assignTimestampsAndWatermarks(WatermarkStrategy.noWatermarks<number>())
        .setParallelism(3)
        .print();
    }, 4);
    const ts = g.vertices
      .flatMap((v) => v.operators.map((o) => [o.kind, v.parallelism, looseConfig(o).keyRef]))
      .filter(([k]) => k === 'timestampsAndWatermarks');
    expect(ts).toEqual([
      ['timestampsAndWatermarks', 2, undefined],
      ['timestampsAndWatermarks', 3, undefined],
    ]);
    expect(g.warnings).toEqual([]);
    expect(() =>
      createEnvironment()
        .fromSequence(1, 2)
        .assignTimestampsAndWatermarks({} as never),
    ).toThrow(/needs a WatermarkStrategy/);
  });
});
