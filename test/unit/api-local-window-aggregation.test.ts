// Where the job graph splits a window aggregation into a local phase before the keyBy exchange and
// the window operator after it (api/local-window-aggregation.ts), and where it must not.
import { describe, expect, it } from 'vitest';
import {
  OutputTag,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WatermarkStrategy,
  type AggregateFunction,
  type StreamExecutionEnvironment,
  type WindowedStream,
} from 'weir';
import { PARTIAL_KEY_REF } from '../../api/local-window-aggregation.js';
import type { LocalWindowAggregateCode } from '../../taskmanager/operators/local-window-aggregate.js';
import { buildGraph, opOfKind } from '../helpers/graph.js';

interface Ev {
  key: string;
  ts: number;
  v: number;
}

const count: AggregateFunction<Ev, number, number> = {
  createAccumulator: () => 0,
  add: (_e, acc) => acc + 1,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

type Windowed = WindowedStream<Ev, string, never>;

function job(
  parallelism: number,
  window: (keyed: ReturnType<typeof keyedOf>) => Windowed,
  finish?: (w: Windowed) => void,
) {
  return buildGraph((env) => {
    env.setParallelism(parallelism);
    const w = window(keyedOf(env));
    (finish ?? ((x: Windowed) => x.aggregate(count).uid('counts').print()))(w);
  }, parallelism);
}

function keyedOf(env: StreamExecutionEnvironment) {
  return env
    .fromElements<Ev>({ key: 'a', ts: 1, v: 1 })
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<Ev>(10).withTimestampAssigner((e) => e.ts),
    )
    .keyBy((e) => e.key);
}

const sliding = (k: ReturnType<typeof keyedOf>) =>
  k.window(SlidingEventTimeWindows.of(1000, 250)) as unknown as Windowed;
const tumbling = (k: ReturnType<typeof keyedOf>) => k.window(TumblingEventTimeWindows.of(1000)) as unknown as Windowed;

const kinds = (g: ReturnType<typeof job>['jobGraph']) => g.vertices.map((v) => v.operators.map((o) => o.kind));

describe('window aggregations split around their exchange', () => {
  it('chains a local phase to the window input at parallelism 2 and exchanges [key, partial] records', () => {
    const { jobGraph: g, userCode } = job(2, sliding);
    // fromElements runs at parallelism 1: the local phase runs with its input, the window at 2.
    expect(kinds(g)).toEqual([
      ['source', 'timestampsAndWatermarks', 'localWindowAggregate'],
      ['window', 'sink'],
    ]);
    const { vertex, op: local } = opOfKind(g, 'localWindowAggregate');
    const { vertex: windowVertex, op: window } = opOfKind(g, 'window');
    expect(local.name).toBe(`Local ${window.name}`);
    expect(local.stateful).toBe(false);
    expect(local.config).toEqual({ windowOperator: window.id });
    expect(vertex.parallelism).toBe(1);
    expect(windowVertex.parallelism).toBe(2);
    expect(window.config.preAggregated).toBe(true);
    // The window keeps its own key selector (and state layout); the exchange hashes the partial's key.
    expect(window.config.keyRef).toMatch(/^key-[0-9a-f]{32}$/);
    const edge = g.edges.find((e) => e.target === windowVertex.id)!;
    expect(edge).toMatchObject({ source: vertex.id, partitioner: 'hash', keyRef: PARTIAL_KEY_REF });
    expect((userCode.get(PARTIAL_KEY_REF) as (p: unknown) => unknown)(['k', 3])).toBe('k');
    const code = userCode.get(local.id) as LocalWindowAggregateCode;
    expect(code.spec).toBe(userCode.get(window.id));
    expect(code.key({ key: 'x', ts: 0, v: 0 })).toBe('x');
    // The same main plans the same ids (TaskManagers look the local phase's code up by its id).
    expect(opOfKind(job(2, sliding).jobGraph, 'localWindowAggregate').op.id).toBe(local.id);
  });

  it('splits a tumbling reduce too, and not where the exchange chains away (parallelism 1)', () => {
    const reduce = (w: Windowed) => w.reduce((a: Ev, b: Ev) => ({ ...a, v: a.v + b.v })).print();
    expect(kinds(job(2, tumbling, reduce).jobGraph)[0]).toContain('localWindowAggregate');
    expect(kinds(job(1, tumbling, reduce).jobGraph)).toEqual([['source', 'timestampsAndWatermarks', 'window', 'sink']]);
  });

  it('splits windowAll too: the partials go to its one subtask over the global edge', () => {
    const { jobGraph: g } = buildGraph((env) => {
      env.setParallelism(2);
      env
        .fromSequence(1, 100)
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n),
        )
        .windowAll(TumblingEventTimeWindows.of(10))
        .reduce((a: number, b: number) => a + b)
        .print();
    }, 2);
    const { vertex, op: local } = opOfKind(g, 'localWindowAggregate');
    const { vertex: windowVertex, op: window } = opOfKind(g, 'window');
    expect(vertex.parallelism).toBe(2);
    expect(windowVertex.parallelism).toBe(1);
    expect(local.config).toEqual({ windowOperator: window.id });
    expect(window.config.preAggregated).toBe(true);
    const edge = g.edges.find((e) => e.target === windowVertex.id)!;
    expect(edge).toMatchObject({ source: vertex.id, partitioner: 'global' });
    expect(edge.keyRef).toBeUndefined();
  });

  it('keeps one phase where splitting could change what the window emits, or where the job says so', () => {
    const noMerge = { createAccumulator: () => 0, add: (_e: Ev, acc: number) => acc + 1, getResult: (a: number) => a };
    const onePhase = [
      // Late elements must fire (lateness) or travel (side output) one by one.
      job(2, (k) => sliding(k).allowedLateness(500)),
      job(2, (k) => sliding(k).sideOutputLateData(new OutputTag<Ev>('late'))),
      // No accumulator to send: a process function sees every element.
      job(2, tumbling, (w) => w.process((key, _ctx, els, out) => out.collect(`${key}:${[...els].length}`)).print()),
      // Partials of an aggregate without merge() could not be combined.
      job(2, tumbling, (w) => w.aggregate(noMerge as unknown as AggregateFunction<Ev, number, number>).print()),
      // Processing time is not sliced.
      job(2, (k) => k.window(TumblingProcessingTimeWindows.of(1000)) as unknown as Windowed),
      buildGraph((env) => {
        env.setParallelism(2).getConfig().disableLocalWindowAggregation();
        sliding(keyedOf(env)).aggregate(count).print();
      }, 2),
    ];
    for (const { jobGraph } of onePhase) expect(kinds(jobGraph).flat()).not.toContain('localWindowAggregate');
  });

  it('is on by default and can be switched', () => {
    const check = (f: (e: StreamExecutionEnvironment) => void) => {
      let enabled: boolean | undefined;
      buildGraph((e) => {
        f(e);
        enabled = e.getConfig().isLocalWindowAggregationEnabled();
        keyedOf(e).print();
      }, 1);
      return enabled;
    };
    expect(check(() => {})).toBe(true);
    expect(check((e) => e.getConfig().disableLocalWindowAggregation())).toBe(false);
    expect(check((e) => e.getConfig().disableLocalWindowAggregation().enableLocalWindowAggregation())).toBe(true);
  });
});
