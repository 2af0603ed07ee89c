// The WindowOperator keeps window contents, trigger state and merging window sets in the keyed
// state backend and its timers in raw keyed state: a run checkpointed and restored part way (on
// either backend, and across backends) emits what the plain window reference computes.
import { describe, expect, it } from 'vitest';
import type { Collector } from '../../api/functions.js';
import { CountEvictor } from '../../api/windowing/count-evictor.js';
import { CountTrigger } from '../../api/windowing/count-trigger.js';
import { GlobalWindows } from '../../api/windowing/global-windows.js';
import { PurgingTrigger } from '../../api/windowing/purging-trigger.js';
import { EventTimeSessionWindows, ProcessingTimeSessionWindows } from '../../api/windowing/session-windows.js';
import { SlidingEventTimeWindows } from '../../api/windowing/sliding-windows.js';
import { TumblingEventTimeWindows, TumblingProcessingTimeWindows } from '../../api/windowing/tumbling-windows.js';
import type {
  AggregateFunction,
  Evictor,
  ProcessWindowContext,
  Trigger,
  Window,
  WindowAssigner,
  WindowOperatorSpec,
} from '../../api/windowing/types.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { WindowOperator } from '../../taskmanager/operators/window-operator.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { mulberry32 } from '../reference/random.js';
import { perEventWatermarkStream } from '../reference/stream.js';
import { referenceWindows, type RefAssigner } from '../reference/windows.js';
import type { ManualTime } from '../helpers/manual-time.js';
import type { BackendType } from '../helpers/operator-state.js';
import { evenCuts, outputValues, runWithRestores, segments, type Emitted, type Step } from '../helpers/restore-run.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { sumReduce, tw, variantSpec as variants, type Rec, type Variant } from '../helpers/window-variants.js';
import { windowConfig } from '../helpers/descriptors.js';

const LATE = 'late';

const countSum: AggregateFunction<unknown, unknown, unknown> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (r, acc) => {
    // Changes the accumulator in place, as Flink's aggregate functions may: the operator must store it again.
    const a = acc as { count: number; sum: number };
    a.count++;
    a.sum += (r as Rec).v;
    return a;
  },
  getResult: (acc) => `${(acc as { count: number }).count}:${(acc as { sum: number }).sum}`,
  merge: (a, b) => {
    const x = a as { count: number; sum: number };
    const y = b as { count: number; sum: number };
    return { count: x.count + y.count, sum: x.sum + y.sum };
  },
};

/** The window's elements, sorted, or the single pre-aggregated value. */
const render = (
  key: unknown,
  ctx: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
): void => {
  const all = [...elements].map((e) => (typeof e === 'string' ? e : (e as Rec).v));
  if (typeof all[0] === 'number') (all as number[]).sort((a, b) => a - b);
  out.collect(`${String(key)}|${tw(ctx).start}|${tw(ctx).end}|${all.join(',')}`);
};

function variantSpec(variant: Variant): Partial<WindowOperatorSpec> {
  return variants(variant, countSum, render);
}

/** What the reference expects of one firing, as the operator's output value renders it. */
function expectedLine(variant: Variant, key: string, w: { start: number; end: number }, vs: number[]): string {
  const sum = vs.reduce((a, b) => a + b, 0);
  switch (variant) {
    case 'reduce':
      return JSON.stringify({ key, v: sum });
    case 'aggregate':
      return JSON.stringify(`${vs.length}:${sum}`);
    case 'process':
      return JSON.stringify(`${key}|${w.start}|${w.end}|${[...vs].sort((a, b) => a - b).join(',')}`);
    case 'reduce+process':
      return JSON.stringify(`${key}|${w.start}|${w.end}|${sum}`);
    case 'aggregate+process':
      return JSON.stringify(`${key}|${w.start}|${w.end}|${vs.length}:${sum}`);
  }
}

function assignerOf(ref: RefAssigner): WindowAssigner<unknown, Window> {
  const a =
    ref.kind === 'tumbling'
      ? TumblingEventTimeWindows.of(ref.size, ref.offset ?? 0)
      : ref.kind === 'sliding'
        ? SlidingEventTimeWindows.of(ref.size, ref.slide)
        : EventTimeSessionWindows.withGap(ref.gap);
  return a as unknown as WindowAssigner<unknown, Window>;
}

function windowOperator(
  spec: Partial<WindowOperatorSpec> & Pick<WindowOperatorSpec, 'assigner'>,
  keyed: boolean,
  output: Output,
  time: ManualTime,
): WindowOperator {
  return new WindowOperator({
    descriptor: {
      id: 'a'.repeat(32),
      name: 'Window',
      kind: 'window',
      config: windowConfig(keyed ? 'k' : undefined),
      stateful: true,
      outputs: [],
    },
    userCode: { trigger: spec.assigner.getDefaultTrigger(), allowedLateness: 0, ...spec },
    keySelector: keyed ? (r) => (r as Rec).key : undefined,
    output,
    services: fakeTaskServices({ processingTime: time, taskName: 'Window' }),
  });
}

/** Records moving forward with disorder up to `disorder` ms; the watermark's bound is smaller, so some are late. */
function randomRecords(
  seed: number,
  n: number,
  keys: number,
  step: number,
  disorder: number,
): { rec: Rec; ts: number }[] {
  const r = mulberry32(seed);
  let base = -1000;
  return Array.from({ length: n }, () => {
    base += Math.floor(r() * step * 2);
    return {
      rec: { key: `k${Math.floor(r() * keys)}`, v: 1 + Math.floor(r() * 100) },
      ts: base - Math.floor(r() * disorder),
    };
  });
}

const PLANS: { name: string; backends: BackendType[]; parts: number }[] = [
  { name: 'heap', backends: ['heap'], parts: 2 },
  { name: 'level', backends: ['level'], parts: 2 },
  { name: 'heap -> level -> heap', backends: ['heap', 'level', 'heap'], parts: 3 },
  { name: 'level -> heap, three restores', backends: ['level', 'heap'], parts: 4 },
];

const rendered = (log: readonly Emitted[]): string[] => outputValues(log).map((v) => JSON.stringify(v));
const late = (log: readonly Emitted[]): unknown[] =>
  log.filter((e) => e.kind === 'side' && e.tag === LATE).map((e) => (e as { value: unknown }).value);

describe('event-time windows restored part way match the reference', () => {
  // Disorder beyond the watermark's bound (plus lateness, plus size - slide for sliding windows) makes some records late.
  const cases: {
    name: string;
    assigner: RefAssigner;
    lateness: number;
    variants: Variant[];
    seed: number;
    disorder: number;
  }[] = [
    {
      name: 'tumbling(400, offset 70)',
      assigner: { kind: 'tumbling', size: 400, offset: 70 },
      lateness: 0,
      variants: ['reduce', 'aggregate', 'process'],
      seed: 1,
      disorder: 300,
    },
    {
      name: 'tumbling(300), lateness 150',
      assigner: { kind: 'tumbling', size: 300 },
      lateness: 150,
      variants: ['reduce+process', 'aggregate+process'],
      seed: 2,
      disorder: 600,
    },
    {
      name: 'sliding(600, 200)',
      assigner: { kind: 'sliding', size: 600, slide: 200 },
      lateness: 0,
      variants: ['reduce', 'aggregate+process', 'process'],
      seed: 3,
      disorder: 900,
    },
    {
      name: 'session(gap 60)',
      assigner: { kind: 'session', gap: 60 },
      lateness: 0,
      variants: ['reduce', 'aggregate', 'process'],
      seed: 4,
      disorder: 300,
    },
    {
      name: 'session(gap 40), lateness 100',
      assigner: { kind: 'session', gap: 40 },
      lateness: 100,
      variants: ['reduce+process', 'aggregate+process'],
      seed: 5,
      disorder: 300,
    },
  ];
  let planIndex = 0;
  for (const c of cases) {
    const records = randomRecords(c.seed, 1200, 6, 8, c.disorder);
    const stream = perEventWatermarkStream(records, (x) => x.ts, 120).map((ev) =>
      ev.kind === 'record' ? { ...ev, value: ev.value.rec } : ev,
    );
    const steps = stream.map((ev): Step<WindowOperator> =>
      ev.kind === 'record'
        ? { run: (op) => op.processElement(ev.value, ev.timestamp) }
        : { run: (op) => op.processWatermark(ev.timestamp), boundary: true, watermarkOf: 'in' },
    );
    for (const variant of c.variants) {
      const plan = PLANS[planIndex++ % PLANS.length]!;
      it(`${c.name} with ${variant}, restored (${plan.name})`, async () => {
        const ref = referenceWindows(stream, {
          assigner: c.assigner,
          allowedLateness: c.lateness,
          keyOf: (r: Rec) => r.key,
          fire: (key, w, elements) => [
            expectedLine(
              variant,
              key,
              w,
              elements.map((e) => e.v),
            ),
          ],
        });
        expect(ref.fired.length).toBeGreaterThan(30);
        expect(ref.late.length).toBeGreaterThan(0);
        const make = (output: Output, time: ManualTime) =>
          windowOperator(
            {
              assigner: assignerOf(c.assigner),
              allowedLateness: c.lateness,
              lateDataTag: LATE,
              ...variantSpec(variant),
            },
            true,
            output,
            time,
          );
        const log = await runWithRestores({
          make,
          steps,
          cuts: evenCuts(steps.length, plan.parts),
          backends: plan.backends,
          stepsAfterBarrier: 40,
        });
        expect(multisetDiff(rendered(log), ref.fired)).toEqual(NO_DIFF);
        expect(late(log)).toEqual(ref.late);
        expect(segments(log)).toEqual(segments(await runWithRestores({ make, steps })));
      });
    }
  }
});

describe('windows with trigger state, evictors, processing time and windowAll survive a restore', () => {
  const records = randomRecords(9, 900, 5, 5, 0);
  const recordSteps = records.map((x): Step<WindowOperator> => ({ run: (op) => op.processElement(x.rec, undefined) }));

  /** Restored runs on each backend and across backends emit what one run emits. */
  async function expectSameAsOneRun(
    make: (output: Output, time: ManualTime) => WindowOperator,
    steps: Step<WindowOperator>[],
    keyed = true,
  ): Promise<Emitted[]> {
    const whole = await runWithRestores({ make, steps, keyed });
    expect(outputValues(whole).length).toBeGreaterThan(20);
    for (const plan of PLANS.slice(0, 3)) {
      const log = await runWithRestores({
        make,
        steps,
        keyed,
        cuts: evenCuts(steps.length, plan.parts),
        backends: plan.backends,
        stepsAfterBarrier: 15,
      });
      expect(segments(log), plan.name).toEqual(segments(whole));
    }
    return whole;
  }

  it('countWindow(7): a purging count trigger keeps its count in trigger state', async () => {
    const trigger = PurgingTrigger.of(CountTrigger.of(7)) as unknown as Trigger<unknown, Window>;
    const make = (output: Output, time: ManualTime) =>
      windowOperator(
        {
          assigner: GlobalWindows.create() as unknown as WindowAssigner<unknown, Window>,
          trigger,
          reduceFunction: sumReduce,
        },
        true,
        output,
        time,
      );
    const whole = await expectSameAsOneRun(make, recordSteps);
    // The reference: every 7th record of a key emits the sum of its last 7.
    const perKey = new Map<string, number[]>();
    const expected: string[] = [];
    for (const { rec } of records) {
      const vs = [...(perKey.get(rec.key) ?? []), rec.v];
      if (vs.length === 7) {
        expected.push(JSON.stringify({ key: rec.key, v: vs.reduce((a, b) => a + b, 0) }));
        perKey.set(rec.key, []);
      } else perKey.set(rec.key, vs);
    }
    expect(rendered(whole)).toEqual(expected);
  });

  it('countWindow(6, 2): a count evictor over the kept elements', async () => {
    const make = (output: Output, time: ManualTime) =>
      windowOperator(
        {
          assigner: GlobalWindows.create() as unknown as WindowAssigner<unknown, Window>,
          trigger: CountTrigger.of(2) as unknown as Trigger<unknown, Window>,
          evictor: CountEvictor.of(6) as unknown as Evictor<unknown, Window>,
          reduceFunction: sumReduce,
        },
        true,
        output,
        time,
      );
    const whole = await expectSameAsOneRun(make, recordSteps);
    // The reference: every 2nd record of a key emits the sum of its last 6.
    const perKey = new Map<string, number[]>();
    const counts = new Map<string, number>();
    const expected: string[] = [];
    for (const { rec } of records) {
      const vs = [...(perKey.get(rec.key) ?? []), rec.v].slice(-6);
      perKey.set(rec.key, vs);
      const n = (counts.get(rec.key) ?? 0) + 1;
      counts.set(rec.key, n);
      if (n % 2 === 0) expected.push(JSON.stringify({ key: rec.key, v: vs.reduce((a, b) => a + b, 0) }));
    }
    expect(rendered(whole)).toEqual(expected);
  });

  it('processing-time tumbling windows and sessions fire from restored processing-time timers', async () => {
    // A record per step; processing time moves 3 ms every other step.
    const steps: Step<WindowOperator>[] = [];
    records.forEach((x, i) => {
      steps.push(recordSteps[i]!);
      if (i % 2 === 1) steps.push({ run: (_op, time) => time.advance(time.time + 3), boundary: true });
    });
    for (const assigner of [TumblingProcessingTimeWindows.of(40), ProcessingTimeSessionWindows.withGap(9)]) {
      const make = (output: Output, time: ManualTime) =>
        windowOperator(
          { assigner: assigner as unknown as WindowAssigner<unknown, Window>, ...variantSpec('aggregate+process') },
          true,
          output,
          time,
        );
      await expectSameAsOneRun(make, steps);
    }
  });

  it('windowAll keeps its windows under one key', async () => {
    const timed = records.map((x, i) => ({ ...x, ts: i * 3 }));
    const steps: Step<WindowOperator>[] = [];
    timed.forEach((x, i) => {
      steps.push({ run: (op) => op.processElement(x.rec, x.ts) });
      if (i % 10 === 9) steps.push({ run: (op) => op.processWatermark(x.ts), boundary: true, watermarkOf: 'in' });
    });
    steps.push({ run: (op) => op.processWatermark(Number.MAX_SAFE_INTEGER), boundary: true });
    const make = (output: Output, time: ManualTime) =>
      windowOperator(
        { assigner: assignerOf({ kind: 'tumbling', size: 50 }), ...variantSpec('aggregate') },
        false,
        output,
        time,
      );
    const whole = await expectSameAsOneRun(make, steps);
    const expected: string[] = [];
    for (let start = 0; start < timed.length * 3; start += 50) {
      const vs = timed.filter((x) => x.ts >= start && x.ts < start + 50).map((x) => x.rec.v);
      expected.push(JSON.stringify(`${vs.length}:${vs.reduce((a, b) => a + b, 0)}`));
    }
    expect(rendered(whole)).toEqual(expected);
  });
});
