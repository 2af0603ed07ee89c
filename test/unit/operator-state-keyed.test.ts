// One-input operators keep their state in the keyed state backend and survive a checkpoint and
// restore (on either backend, and across backends): a run stopped and restored half way emits what
// one uninterrupted run emits, which matches a plain reference.
import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  RichMapFunction,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
} from '../../api/functions.js';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  type AggregatingState,
  type CheckpointedFunction,
  type FunctionInitializationContext,
  type FunctionSnapshotContext,
  type ListState,
  type MapState,
  type ReducingState,
  type ValueState,
} from '../../api/state.js';
import { StreamMap } from '../../taskmanager/operators/basic.js';
import { ProcessOperator, StreamGroupedReduce } from '../../taskmanager/operators/keyed.js';
import {
  UserCodeError,
  type OperatorSetup,
  type Output,
  type StreamOperator,
} from '../../taskmanager/operators/operator.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { mulberry32 } from '../reference/random.js';
import { perEventWatermarkStream, type StreamEvent } from '../reference/stream.js';
import { referenceTimers } from '../reference/timers.js';
import { ManualTime } from '../helpers/manual-time.js';
import { initializeOperator, type BackendType } from '../helpers/operator-state.js';
import { evenCuts, outputValues, runWithRestores, segments, type Step } from '../helpers/restore-run.js';
import { fakeTaskServices } from '../helpers/task-services.js';

/** Every way a run is cut: one restore per backend, a heap snapshot restored into level and back, and three restores. */
const PLANS: { name: string; backends: BackendType[]; parts: number }[] = [
  { name: 'heap', backends: ['heap'], parts: 2 },
  { name: 'level', backends: ['level'], parts: 2 },
  { name: 'heap -> level -> heap', backends: ['heap', 'level', 'heap'], parts: 3 },
  { name: 'level, restored three times', backends: ['level'], parts: 4 },
];

function setup(
  kind: 'map' | 'keyedReduce' | 'keyedProcess',
  userCode: unknown,
  keySelector: ((v: unknown) => unknown) | undefined,
  output: Output,
  time: ManualTime,
): OperatorSetup {
  return {
    descriptor: {
      id: 'e'.repeat(32),
      name: `Op(${kind})`,
      kind,
      config: keySelector ? { keyRef: 'k' } : {},
      stateful: true,
      outputs: [],
    },
    userCode,
    keySelector,
    output,
    services: fakeTaskServices({ processingTime: time, taskName: 'Keyed' }),
  };
}

function streamSteps<T, OP extends StreamOperator>(stream: readonly StreamEvent<T>[]): Step<OP>[] {
  return stream.map((ev) =>
    ev.kind === 'record'
      ? { run: (op: OP) => op.processElement(ev.value, ev.timestamp) }
      : { run: (op: OP) => op.processWatermark(ev.timestamp), boundary: true, watermarkOf: 'in' },
  );
}

interface Event {
  key: unknown;
  amount: number;
}

/** Keys of several shapes (strings, numbers, structured) so keys survive the snapshot by value. */
function randomEvents(seed: number, n: number, keys: number): Event[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const k = Math.floor(r() * keys);
    const key = k % 3 === 0 ? `u${k}` : k % 3 === 1 ? k : { region: k % 4, id: [k] };
    return { key, amount: 1 + Math.floor(r() * 50) };
  });
}

const keyOfEvent = (e: unknown): unknown => (e as Event).key;

describe('StreamGroupedReduce keeps its value per key in the backend', () => {
  const events = randomEvents(101, 1500, 40);
  // The reference: a running sum per key, one output per record.
  const sums = new Map<string, number>();
  const expected = events.map((e) => {
    const id = JSON.stringify(e.key);
    const s = (sums.get(id) ?? 0) + e.amount;
    sums.set(id, s);
    return { key: e.key, amount: s };
  });
  const steps = events.map((e, i): Step<StreamGroupedReduce> => ({ run: (op) => op.processElement(e, i) }));
  const make = (output: Output, time: ManualTime) =>
    new StreamGroupedReduce(
      setup(
        'keyedReduce',
        (a: Event, b: Event) => ({ key: a.key, amount: a.amount + b.amount }),
        keyOfEvent,
        output,
        time,
      ),
    );

  for (const plan of PLANS) {
    it(`restored (${plan.name}) equals the reference`, async () => {
      const log = await runWithRestores({
        make,
        steps,
        cuts: evenCuts(steps.length, plan.parts),
        backends: plan.backends,
        stepsAfterBarrier: 25,
      });
      expect(outputValues(log)).toEqual(expected);
    });
  }

  it('counts its keys and state entries from the backend', async () => {
    const op = make({ collect() {}, collectSide() {}, emitWatermark() {} }, new ManualTime());
    expect(() => op.processElement(events[0], 0)).toThrow(/state was not initialized/);
    await initializeOperator(op);
    for (const e of events) op.processElement(e, 0);
    expect(await op.numKeys()).toBe(sums.size);
    expect(op.stateEntries()).toBe(sums.size);
  });
});

// ---------------------------------------------------------------------------------------------
// KeyedProcessFunction with every kind of keyed state and event-time timers.

/** What the function keeps per key, mirrored by the reference model. */
interface Model {
  count: number;
  recent: number[];
  buckets: Map<number, number>;
  total: number;
  avg: number | null;
}

function render(key: unknown, time: number, m: Model): string {
  const buckets = [...m.buckets]
    .sort((a, b) => a[0] - b[0])
    .map(([b, s]) => `${b}=${s}`)
    .join(',');
  return `${JSON.stringify(key)}@${time} count=${m.count} recent=${m.recent.join(',')} buckets=${buckets} total=${m.total} avg=${m.avg?.toFixed(2) ?? 'none'}`;
}

const DELAY = 40;

const avgAggregate = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (v: number, acc: { sum: number; n: number }) => ({ sum: acc.sum + v, n: acc.n + 1 }),
  getResult: (acc: { sum: number; n: number }) => acc.sum / acc.n,
  merge: (a: { sum: number; n: number }, b: { sum: number; n: number }) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

/**
 * Per key: a count (ValueState), the last three amounts (ListState), sums by amount % 4 (MapState),
 * a total (ReducingState) and an average (AggregatingState). Each record arms an event-time timer
 * DELAY ms later that reports all of it; the timer then clears the list and the average.
 */
class Tracker extends KeyedProcessFunction<unknown, Event, string> {
  count!: ValueState<number>;
  recent!: ListState<number>;
  buckets!: MapState<number, number>;
  total!: ReducingState<number>;
  avg!: AggregatingState<number, number>;

  override open(): void {
    const ctx = this.getRuntimeContext();
    this.count = ctx.getState(new ValueStateDescriptor<number>('count', 0));
    this.recent = ctx.getListState(new ListStateDescriptor<number>('recent'));
    this.buckets = ctx.getMapState(new MapStateDescriptor<number, number>('buckets'));
    this.total = ctx.getReducingState(new ReducingStateDescriptor<number>('total', (a, b) => a + b));
    this.avg = ctx.getAggregatingState(new AggregatingStateDescriptor('avg', avgAggregate));
  }

  processElement(e: Event, ctx: KeyedProcessContext<unknown>): void {
    this.count.update(this.count.value()! + 1);
    this.recent.update([...this.recent.get(), e.amount].slice(-3));
    const b = e.amount % 4;
    this.buckets.put(b, (this.buckets.get(b) ?? 0) + e.amount);
    this.total.add(e.amount);
    this.avg.add(e.amount);
    ctx.timerService().registerEventTimeTimer(ctx.timestamp()! + DELAY);
  }

  override onTimer(t: number, ctx: OnTimerContext<unknown>, out: Collector<string>): void {
    out.collect(
      render(ctx.getCurrentKey(), t, {
        count: this.count.value()!,
        recent: this.recent.get(),
        buckets: new Map(this.buckets.entries()),
        total: this.total.get() ?? 0,
        avg: this.avg.get(),
      }),
    );
    this.recent.clear();
    this.avg.clear();
  }
}

describe('KeyedProcessFunction state and timers survive a restore', () => {
  const r = mulberry32(202);
  const events = randomEvents(203, 1200, 25);
  const timestamps = events.map((_, i) => i * 5 + Math.floor(r() * 60));
  const records = events.map((e, i) => ({ e, ts: timestamps[i]! }));
  const stream = perEventWatermarkStream(records, (x) => x.ts, 30).map((ev) =>
    ev.kind === 'record' ? { ...ev, value: ev.value.e } : ev,
  );

  // The reference: the same model per key, driven by the plain timer reference.
  const models = new Map<string, Omit<Model, 'avg'> & { avgSum: number; avgN: number }>();
  const model = (key: unknown) => {
    const id = JSON.stringify(key);
    let m = models.get(id);
    if (!m) models.set(id, (m = { count: 0, recent: [], buckets: new Map(), total: 0, avgSum: 0, avgN: 0 }));
    return m;
  };
  const expected = referenceTimers(stream, {
    keyOf: (e: Event) => e.key,
    onElement: (e, ts) => {
      const m = model(e.key);
      m.count++;
      m.recent = [...m.recent, e.amount].slice(-3);
      m.buckets.set(e.amount % 4, (m.buckets.get(e.amount % 4) ?? 0) + e.amount);
      m.total += e.amount;
      m.avgSum += e.amount;
      m.avgN++;
      return { register: [ts + DELAY], delete: [] };
    },
    onTimer: (key, t) => {
      const m = model(key);
      const line = render(key, t, { ...m, avg: m.avgN === 0 ? null : m.avgSum / m.avgN });
      m.recent = [];
      m.avgSum = 0;
      m.avgN = 0;
      return [line];
    },
  });

  const steps = streamSteps<Event, ProcessOperator>(stream);
  const make = (output: Output, time: ManualTime) =>
    new ProcessOperator(setup('keyedProcess', new Tracker(), keyOfEvent, output, time));

  it('an uninterrupted run matches the reference', async () => {
    const log = await runWithRestores({ make, steps });
    expect(expected.length).toBeGreaterThan(300);
    expect(multisetDiff(outputValues(log) as string[], expected)).toEqual(NO_DIFF);
  });

  for (const plan of PLANS) {
    it(`restored (${plan.name}) emits what one run emits`, async () => {
      const whole = await runWithRestores({ make, steps });
      const log = await runWithRestores({
        make,
        steps,
        cuts: evenCuts(steps.length, plan.parts),
        backends: plan.backends,
        stepsAfterBarrier: 30,
      });
      expect(segments(log)).toEqual(segments(whole));
      expect(multisetDiff(outputValues(log) as string[], expected)).toEqual(NO_DIFF);
    });
  }
});

describe('processing-time timers survive a restore', () => {
  /** Per key: a processing-time timer 25 ms after the first record since the last firing; it reports the records since. */
  const fn = {
    seen: undefined as ListState<number> | undefined,
    armed: undefined as ValueState<number> | undefined,
    open(ctx: {
      getListState: (d: ListStateDescriptor<number>) => ListState<number>;
      getState: (d: ValueStateDescriptor<number>) => ValueState<number>;
    }) {
      this.seen = ctx.getListState(new ListStateDescriptor<number>('seen'));
      this.armed = ctx.getState(new ValueStateDescriptor<number>('armed'));
    },
    processElement(e: Event, ctx: KeyedProcessContext<unknown>) {
      this.seen!.add(e.amount);
      if (this.armed!.value() === null) {
        const t = ctx.timerService().currentProcessingTime() + 25;
        ctx.timerService().registerProcessingTimeTimer(t);
        this.armed!.update(t);
      }
    },
    onTimer(t: number, ctx: OnTimerContext<unknown>, out: Collector<string>) {
      out.collect(`${JSON.stringify(ctx.getCurrentKey())}@${t}:${ctx.timeDomain()}:${this.seen!.get().join(',')}`);
      this.seen!.clear();
      this.armed!.clear();
    },
  };
  const events = randomEvents(303, 900, 12);
  // A record per step, and every tenth step processing time moves on by 7 ms.
  const steps: Step<ProcessOperator>[] = [];
  events.forEach((e, i) => {
    steps.push({ run: (op) => op.processElement(e, undefined) });
    if (i % 10 === 9) steps.push({ run: (_op, time) => time.advance(time.time + 7), boundary: true });
  });
  const make = (output: Output, time: ManualTime) =>
    new ProcessOperator(setup('keyedProcess', { ...fn }, keyOfEvent, output, time));

  for (const plan of PLANS.slice(0, 3)) {
    it(`restored (${plan.name}) emits what one run emits`, async () => {
      const whole = await runWithRestores({ make, steps });
      expect(outputValues(whole).length).toBeGreaterThan(100);
      const log = await runWithRestores({
        make,
        steps,
        cuts: evenCuts(steps.length, plan.parts),
        backends: plan.backends,
        stepsAfterBarrier: 10,
      });
      expect(segments(log)).toEqual(segments(whole));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Functions after keyBy() that are not process functions, and operator (non-keyed) state.

/** Counts records per key in keyed state; asks for the state on the first record (not in open). */
class CountPerKey extends RichMapFunction<Event, string> {
  private count: ValueState<number> | undefined;
  map(e: Event): string {
    this.count ??= this.getRuntimeContext().getState(new ValueStateDescriptor<number>('n'));
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    return `${JSON.stringify(e.key)}#${n}`;
  }
}

describe('a RichMapFunction after keyBy() uses keyed state, as in Flink', () => {
  const events = randomEvents(404, 800, 30);
  const counts = new Map<string, number>();
  const expected = events.map((e) => {
    const id = JSON.stringify(e.key);
    counts.set(id, (counts.get(id) ?? 0) + 1);
    return `${id}#${counts.get(id)}`;
  });
  const steps = events.map((e): Step<StreamMap> => ({ run: (op) => op.processElement(e, undefined) }));
  const make = (output: Output, time: ManualTime) =>
    new StreamMap(setup('map', new CountPerKey(), keyOfEvent, output, time));

  for (const plan of PLANS.slice(0, 3)) {
    it(`counts per key across a restore (${plan.name})`, async () => {
      const log = await runWithRestores({
        make,
        steps,
        cuts: evenCuts(steps.length, plan.parts),
        backends: plan.backends,
      });
      expect(outputValues(log)).toEqual(expected);
    });
  }

  it("refuses keyed state on a stream that is not keyed, with Flink's message", async () => {
    const out = { collect() {}, collectSide() {}, emitWatermark() {} };
    const op = new StreamMap(setup('map', new CountPerKey(), undefined, out, new ManualTime()));
    const state = await initializeOperator(op, { keyed: false });
    await op.open();
    let caught: unknown;
    try {
      op.processElement({ key: 'a', amount: 1 }, undefined);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserCodeError);
    expect((caught as Error).message).toBe(
      "Keyed state can only be used on a 'keyed stream', i.e., after a 'keyBy()' operation.",
    );
    await state.dispose();
  });
});

/** Counts all records of its subtask in a field, kept in operator list state (Flink's CheckpointedFunction). */
class CountingMap extends RichMapFunction<number, string> implements CheckpointedFunction {
  private seen = 0;
  private state: ListState<number> | undefined;
  readonly calls: string[] = [];

  initializeState(ctx: FunctionInitializationContext): void {
    this.calls.push(`initializeState restored=${ctx.isRestored()}`);
    this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('seen'));
    for (const n of this.state.get()) this.seen += n;
    expect(() => ctx.getKeyedStateStore()).toThrow(/keyed stream/);
  }

  snapshotState(ctx: FunctionSnapshotContext): void {
    this.calls.push(`snapshotState ${ctx.getCheckpointId()}`);
    this.state!.update([this.seen]);
  }

  notifyCheckpointComplete(id: number): void {
    this.calls.push(`complete ${id}`);
  }

  notifyCheckpointAborted(id: number): void {
    this.calls.push(`aborted ${id}`);
  }

  override open(): void {
    this.calls.push('open');
  }

  map(v: number): string {
    this.seen++;
    return `${v}:${this.seen}`;
  }
}

describe('CheckpointedFunction and CheckpointListener', () => {
  it('initializes before open, snapshots into operator state and continues from it after a restore', async () => {
    const fns: CountingMap[] = [];
    const make = (output: Output, time: ManualTime) => {
      const f = new CountingMap();
      fns.push(f);
      return new StreamMap(setup('map', f, undefined, output, time));
    };
    const steps = Array.from({ length: 300 }, (_, i): Step<StreamMap> => ({
      run: (op) => op.processElement(i, undefined),
    }));
    const log = await runWithRestores({ make, steps, keyed: false, cuts: [100, 250], stepsAfterBarrier: 20 });
    expect(outputValues(log)).toEqual(steps.map((_, i) => `${i}:${i + 1}`));
    expect(fns.map((f) => f.calls)).toEqual([
      ['initializeState restored=false', 'open', 'snapshotState 1'],
      ['initializeState restored=true', 'open', 'snapshotState 2'],
      ['initializeState restored=true', 'open'],
    ]);
  });

  it('hears of completed and aborted checkpoints through the operator', async () => {
    const f = new CountingMap();
    const op = new StreamMap(
      setup('map', f, undefined, { collect() {}, collectSide() {}, emitWatermark() {} }, new ManualTime()),
    );
    const state = await initializeOperator(op, { keyed: false });
    await op.open();
    await op.notifyCheckpointComplete(3);
    await op.notifyCheckpointAborted(4);
    expect(f.calls).toEqual(['initializeState restored=false', 'open', 'complete 3', 'aborted 4']);
    await state.dispose();
  });
});
