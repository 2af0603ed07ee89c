import { describe, expect, it } from 'vitest';
import { CountTrigger } from '../../api/windowing/count-trigger.js';
import { EventTimeTrigger } from '../../api/windowing/event-time-trigger.js';
import { CountEvictor } from '../../api/windowing/count-evictor.js';
import { GlobalWindow } from '../../api/windowing/global-window.js';
import { GlobalWindows } from '../../api/windowing/global-windows.js';
import { EventTimeSessionWindows, ProcessingTimeSessionWindows } from '../../api/windowing/session-windows.js';
import { SlidingEventTimeWindows } from '../../api/windowing/sliding-windows.js';
import { TumblingEventTimeWindows, TumblingProcessingTimeWindows } from '../../api/windowing/tumbling-windows.js';
import { PurgingTrigger } from '../../api/windowing/purging-trigger.js';
import { TimeWindow } from '../../api/windowing/time-window.js';
import type {
  AggregateFunction,
  Evictor,
  ProcessWindowContext,
  Trigger,
  Window,
  WindowAssigner,
  WindowOperatorSpec,
} from '../../api/windowing/types.js';
import type { Collector } from '../../api/functions.js';
import { UserCodeError, type Output, type TaskServices } from '../../taskmanager/operators/operator.js';
import { WindowOperator } from '../../taskmanager/operators/window-operator.js';
import { MAX_WATERMARK, type ProcessingTimeService } from '../../taskmanager/runtime/timer-service.js';
import { ManualTime } from '../helpers/manual-time.js';
import { initializeOperator } from '../helpers/operator-state.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { windowConfig } from '../helpers/descriptors.js';

// ---------------------------------------------------------------------------------------------
// Harness: a recording Output, a manual processing-time clock, and the operator set up as a task would.

type Logged =
  | { kind: 'out'; value: unknown; ts: number | undefined }
  | { kind: 'side'; tag: string; value: unknown; ts: number | undefined }
  | { kind: 'wm'; ts: number };

class RecordingOutput implements Output {
  readonly log: Logged[] = [];
  collect(value: unknown, ts: number | undefined): void {
    this.log.push({ kind: 'out', value, ts });
  }
  collectSide(tag: string, value: unknown, ts: number | undefined): void {
    this.log.push({ kind: 'side', tag, value, ts });
  }
  emitWatermark(ts: number): void {
    this.log.push({ kind: 'wm', ts });
  }
  values(): unknown[] {
    return this.log.filter((e) => e.kind === 'out').map((e) => (e as { value: unknown }).value);
  }
  side(tag: string): unknown[] {
    return this.log.filter((e) => e.kind === 'side' && e.tag === tag).map((e) => (e as { value: unknown }).value);
  }
}

function services(time: ProcessingTimeService): TaskServices {
  return fakeTaskServices({ processingTime: time, taskName: 'Window' });
}

interface Rec {
  key: string;
  v: number;
}

async function harness(spec: Partial<WindowOperatorSpec> & Pick<WindowOperatorSpec, 'assigner'>, keyed = true) {
  const out = new RecordingOutput();
  const time = new ManualTime();
  const full: WindowOperatorSpec = { trigger: spec.assigner.getDefaultTrigger(), allowedLateness: 0, ...spec };
  const op = new WindowOperator({
    descriptor: {
      id: 'a'.repeat(32),
      name: 'Window(test)',
      kind: 'window',
      config: windowConfig(),
      stateful: true,
      outputs: [],
    },
    userCode: full,
    keySelector: keyed ? (r) => (r as Rec).key : undefined,
    output: out,
    services: services(time),
  });
  await initializeOperator(op);
  return { op, out, time };
}

// ---------------------------------------------------------------------------------------------
// Assigners, as the API builds them.

const A = (a: unknown): WindowAssigner<unknown, Window> => a as WindowAssigner<unknown, Window>;
const tumbling = (size: number, offset = 0, eventTime = true) =>
  A(eventTime ? TumblingEventTimeWindows.of(size, offset) : TumblingProcessingTimeWindows.of(size, offset));
const sliding = (size: number, slide: number) => A(SlidingEventTimeWindows.of(size, slide));
const sessions = (gap: number, eventTime = true) =>
  A(eventTime ? EventTimeSessionWindows.withGap(gap) : ProcessingTimeSessionWindows.withGap(gap));
const dynamicSessions = (gap: (e: unknown) => number) => A(EventTimeSessionWindows.withDynamicGap(gap));
const globalWindows = () => A(GlobalWindows.create());
const countEvictor = (n: number) => CountEvictor.of(n) as Evictor<unknown, Window>;

// ---------------------------------------------------------------------------------------------
// Window functions, all rendering a window's result as one comparable string.

const sumReduce = (a: unknown, b: unknown): unknown => ({ key: (a as Rec).key, v: (a as Rec).v + (b as Rec).v });

const countSumAggregate: AggregateFunction<unknown, unknown, unknown> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (r, acc) => {
    const a = acc as { count: number; sum: number };
    return { count: a.count + 1, sum: a.sum + (r as Rec).v };
  },
  getResult: (acc) => `${(acc as { count: number }).count}:${(acc as { sum: number }).sum}`,
  merge: (a, b) => {
    const x = a as { count: number; sum: number };
    const y = b as { count: number; sum: number };
    return { count: x.count + y.count, sum: x.sum + y.sum };
  },
};

function tw(ctx: ProcessWindowContext<Window>): TimeWindow {
  return ctx.window as TimeWindow;
}

/** process(): every element of the window, sorted. */
const listProcess = (
  key: unknown,
  ctx: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
): void => {
  const vs = [...elements].map((e) => (e as Rec).v).sort((a, b) => a - b);
  out.collect(`${String(key)}|${tw(ctx).start}|${tw(ctx).end}|${vs.join(',')}`);
};

/** process() after a pre-aggregation: the single value, with the window. */
const singleProcess = (
  key: unknown,
  ctx: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
): void => {
  const all = [...elements];
  if (all.length !== 1) throw new Error(`expected one pre-aggregated value, got ${all.length}`);
  const v = all[0];
  out.collect(`${String(key)}|${tw(ctx).start}|${tw(ctx).end}|${typeof v === 'string' ? v : (v as Rec).v}`);
};

// Renders a window's elements the way each variant of the operator does, for the reference.
type Variant = 'reduce' | 'aggregate' | 'process' | 'reduce+process' | 'aggregate+process';

function variantSpec(variant: Variant): Partial<WindowOperatorSpec> {
  switch (variant) {
    case 'reduce':
      return { reduceFunction: sumReduce };
    case 'aggregate':
      return { aggregateFunction: countSumAggregate };
    case 'process':
      return { windowFunction: listProcess };
    case 'reduce+process':
      return { reduceFunction: sumReduce, windowFunction: singleProcess };
    case 'aggregate+process':
      return { aggregateFunction: countSumAggregate, windowFunction: singleProcess };
  }
}

function renderExpected(variant: Variant, key: string, w: TimeWindow, vs: number[]): unknown {
  const sum = vs.reduce((a, b) => a + b, 0);
  switch (variant) {
    case 'reduce':
      return { key, v: sum };
    case 'aggregate':
      return `${vs.length}:${sum}`;
    case 'process':
      return `${key}|${w.start}|${w.end}|${[...vs].sort((a, b) => a - b).join(',')}`;
    case 'reduce+process':
      return `${key}|${w.start}|${w.end}|${sum}`;
    case 'aggregate+process':
      return `${key}|${w.start}|${w.end}|${vs.length}:${sum}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Randomized, out-of-order input and the plain reference computation.

type Input = { kind: 'el'; rec: Rec; ts: number } | { kind: 'wm'; ts: number };

/** A seeded LCG, so every run sees the same input. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Events whose timestamps move forward with disorder up to `disorder`; a bounded-out-of-orderness
 * watermark (max seen - bound - 1) every few events, with bound < disorder so some events are late.
 */
function randomInput(
  seed: number,
  n: number,
  opts: { keys: number; step: number; disorder: number; bound: number; startAt?: number },
): Input[] {
  const r = rng(seed);
  const inputs: Input[] = [];
  let maxTs = Number.MIN_SAFE_INTEGER;
  let lastWm = Number.MIN_SAFE_INTEGER;
  let base = opts.startAt ?? 0;
  for (let i = 0; i < n; i++) {
    base += Math.floor(r() * opts.step * 2);
    const ts = base - Math.floor(r() * opts.disorder);
    const rec = { key: `k${Math.floor(r() * opts.keys)}`, v: 1 + Math.floor(r() * 100) };
    inputs.push({ kind: 'el', rec, ts });
    maxTs = Math.max(maxTs, ts);
    if (r() < 0.25) {
      const wm = maxTs - opts.bound - 1;
      if (wm > lastWm) {
        inputs.push({ kind: 'wm', ts: wm });
        lastWm = wm;
      }
    }
  }
  inputs.push({ kind: 'wm', ts: MAX_WATERMARK });
  return inputs;
}

const LATE = 'late';

/** The operator's output as segments between watermarks, each segment sorted (order within one is free). */
function segments(log: Logged[]): string[][] {
  const segs: string[][] = [[]];
  for (const e of log) {
    if (e.kind === 'wm') segs.push([]);
    else segs[segs.length - 1]!.push(JSON.stringify(e));
  }
  return segs.map((s) => s.sort());
}

/**
 * Reference for non-merging event-time windows with EventTimeTrigger: a window fires when the
 * watermark reaches its max timestamp, again at once for each element added later within the
 * allowed lateness, and is gone when the watermark reaches max timestamp + lateness. An element
 * none of whose windows is still there goes to the late side output.
 */
function referenceFixed(
  inputs: Input[],
  assign: (ts: number) => TimeWindow[],
  lateness: number,
  variant: Variant,
): Logged[] {
  const log: Logged[] = [];
  const windows = new Map<string, { key: string; w: TimeWindow; vs: number[] }>();
  let wm = Number.MIN_SAFE_INTEGER;
  const fire = (s: { key: string; w: TimeWindow; vs: number[] }): void => {
    log.push({ kind: 'out', value: renderExpected(variant, s.key, s.w, s.vs), ts: s.w.end - 1 });
  };
  for (const inp of inputs) {
    if (inp.kind === 'el') {
      let added = false;
      for (const w of assign(inp.ts)) {
        if (w.end - 1 + lateness <= wm) continue;
        added = true;
        const id = `${inp.rec.key}@${w.id()}`;
        let s = windows.get(id);
        if (!s) windows.set(id, (s = { key: inp.rec.key, w, vs: [] }));
        s.vs.push(inp.rec.v);
        if (w.end - 1 <= wm) fire(s);
      }
      if (!added) log.push({ kind: 'side', tag: LATE, value: inp.rec, ts: inp.ts });
    } else {
      const prev = wm;
      wm = inp.ts;
      for (const [id, s] of windows) {
        const max = s.w.end - 1;
        if (max > prev && max <= wm) fire(s);
        if (max + lateness <= wm) windows.delete(id);
      }
      log.push({ kind: 'wm', ts: wm });
    }
  }
  return log;
}

/**
 * Reference for event-time session windows: per key, sessions are the unions of touching
 * [ts, ts + gap) intervals of the elements kept so far, computed by scanning all sessions.
 */
function referenceSessions(inputs: Input[], gap: number, lateness: number, variant: Variant): Logged[] {
  const log: Logged[] = [];
  const sessionsByKey = new Map<string, { w: TimeWindow; vs: number[] }[]>();
  let wm = Number.MIN_SAFE_INTEGER;
  const fire = (key: string, s: { w: TimeWindow; vs: number[] }): void => {
    log.push({ kind: 'out', value: renderExpected(variant, key, s.w, s.vs), ts: s.w.end - 1 });
  };
  for (const inp of inputs) {
    if (inp.kind === 'el') {
      const key = inp.rec.key;
      const list = sessionsByKey.get(key) ?? [];
      const own = new TimeWindow(inp.ts, inp.ts + gap);
      const touching = list.filter((s) => s.w.intersects(own));
      if (touching.length === 0 && own.end - 1 + lateness <= wm) {
        log.push({ kind: 'side', tag: LATE, value: inp.rec, ts: inp.ts });
        continue;
      }
      let merged = { w: own, vs: [inp.rec.v] };
      for (const s of touching) merged = { w: merged.w.cover(s.w), vs: [...s.vs, ...merged.vs] };
      sessionsByKey.set(key, [...list.filter((s) => !touching.includes(s)), merged]);
      if (merged.w.end - 1 <= wm) fire(key, merged);
    } else {
      const prev = wm;
      wm = inp.ts;
      for (const [key, list] of sessionsByKey) {
        for (const s of list) {
          const max = s.w.end - 1;
          if (max > prev && max <= wm) fire(key, s);
        }
        sessionsByKey.set(
          key,
          list.filter((s) => s.w.end - 1 + lateness > wm),
        );
      }
      log.push({ kind: 'wm', ts: wm });
    }
  }
  return log;
}

function run(op: WindowOperator, inputs: Input[]): void {
  for (const inp of inputs) {
    if (inp.kind === 'el') op.processElement(inp.rec, inp.ts);
    else op.processWatermark(inp.ts);
  }
}

function tumblingAssign(size: number, offset = 0): (ts: number) => TimeWindow[] {
  return (ts) => {
    const start = TimeWindow.getWindowStartWithOffset(ts, offset, size);
    return [new TimeWindow(start, start + size)];
  };
}

function slidingAssign(size: number, slide: number): (ts: number) => TimeWindow[] {
  return (ts) => {
    const out: TimeWindow[] = [];
    for (let start = TimeWindow.getWindowStartWithOffset(ts, 0, slide); start > ts - size; start -= slide)
      out.push(new TimeWindow(start, start + size));
    return out;
  };
}

// ---------------------------------------------------------------------------------------------

const VARIANTS: Variant[] = ['reduce', 'aggregate', 'process', 'reduce+process', 'aggregate+process'];

describe('WindowOperator: tumbling and sliding event-time windows against the reference', () => {
  const input = randomInput(42, 3000, { keys: 5, step: 10, disorder: 300, bound: 150, startAt: -2000 });
  // Sliding windows end at least size - slide after an element, so lateness needs wider disorder.
  const wide = randomInput(43, 3000, { keys: 5, step: 10, disorder: 700, bound: 150, startAt: -2000 });

  for (const variant of VARIANTS) {
    it(`tumbling(500, offset 120) with ${variant}`, async () => {
      const { op, out } = await harness({ assigner: tumbling(500, 120), lateDataTag: LATE, ...variantSpec(variant) });
      run(op, input);
      const expected = referenceFixed(input, tumblingAssign(500, 120), 0, variant);
      expect(out.log.filter((e) => e.kind === 'out').length).toBeGreaterThan(50);
      expect(out.side(LATE).length).toBeGreaterThan(10);
      expect(segments(out.log)).toEqual(segments(expected));
    });

    it(`sliding(600, 200) with ${variant}`, async () => {
      const { op, out } = await harness({ assigner: sliding(600, 200), lateDataTag: LATE, ...variantSpec(variant) });
      run(op, wide);
      const expected = referenceFixed(wide, slidingAssign(600, 200), 0, variant);
      expect(out.side(LATE).length).toBeGreaterThan(0);
      expect(segments(out.log)).toEqual(segments(expected));
    });
  }

  it('allowed lateness: late elements within it fire the window again with the updated contents', async () => {
    const { op, out } = await harness({
      assigner: tumbling(500),
      lateDataTag: LATE,
      allowedLateness: 200,
      ...variantSpec('process'),
    });
    run(op, input);
    const expected = referenceFixed(input, tumblingAssign(500), 200, 'process');
    // Late firings happen: some window is emitted more than once, each time with more elements.
    const firings = new Map<string, number>();
    for (const v of out.values()) {
      const id = (v as string).split('|').slice(0, 3).join('|');
      firings.set(id, (firings.get(id) ?? 0) + 1);
    }
    expect([...firings.values()].some((n) => n > 1)).toBe(true);
    expect(segments(out.log)).toEqual(segments(expected));
    // Fewer elements are late than without the lateness.
    const strict = referenceFixed(input, tumblingAssign(500), 0, 'process').filter((e) => e.kind === 'side').length;
    expect(out.side(LATE).length).toBeLessThan(strict);
  });

  it('sliding windows with allowed lateness and aggregate+process', async () => {
    const { op, out } = await harness({
      assigner: sliding(600, 200),
      lateDataTag: LATE,
      allowedLateness: 100,
      ...variantSpec('aggregate+process'),
    });
    run(op, input);
    expect(segments(out.log)).toEqual(
      segments(referenceFixed(input, slidingAssign(600, 200), 100, 'aggregate+process')),
    );
  });

  it('without a late-data tag, late elements are dropped and counted', async () => {
    const { op, out } = await harness({ assigner: tumbling(500), ...variantSpec('reduce') });
    run(op, input);
    const expected = referenceFixed(input, tumblingAssign(500), 0, 'reduce');
    const lateCount = expected.filter((e) => e.kind === 'side').length;
    expect(out.log.some((e) => e.kind === 'side')).toBe(false);
    expect(op.numLateRecordsDropped).toBe(lateCount);
    expect(segments(out.log)).toEqual(segments(expected.filter((e) => e.kind !== 'side')));
  });
});

describe('WindowOperator: event-time session windows against the reference', () => {
  // Wide disorder relative to the gap, so windows arrive out of order and bridge existing sessions.
  const input = randomInput(7, 2500, { keys: 4, step: 40, disorder: 400, bound: 200 });

  for (const variant of VARIANTS) {
    it(`withGap(100) with ${variant}`, async () => {
      const { op, out } = await harness({ assigner: sessions(100), lateDataTag: LATE, ...variantSpec(variant) });
      run(op, input);
      const expected = referenceSessions(input, 100, 0, variant);
      expect(out.side(LATE).length).toBeGreaterThan(0);
      expect(segments(out.log)).toEqual(segments(expected));
    });
  }

  it('sessions merge multi-window bridges: a session made of many out-of-order elements', async () => {
    const input2 = randomInput(99, 2000, { keys: 2, step: 30, disorder: 600, bound: 300 });
    const { op, out } = await harness({ assigner: sessions(50), lateDataTag: LATE, ...variantSpec('process') });
    run(op, input2);
    const expected = referenceSessions(input2, 50, 0, 'process');
    // Some session really was built from more elements than one gap holds in order.
    expect(out.values().some((v) => (v as string).split('|')[3]!.split(',').length >= 4)).toBe(true);
    expect(segments(out.log)).toEqual(segments(expected));
  });

  it('sessions with allowed lateness: late elements extend and re-fire sessions', async () => {
    const { op, out } = await harness({
      assigner: sessions(100),
      lateDataTag: LATE,
      allowedLateness: 150,
      ...variantSpec('aggregate+process'),
    });
    run(op, input);
    expect(segments(out.log)).toEqual(segments(referenceSessions(input, 100, 150, 'aggregate+process')));
  });

  it('dynamic gaps: the gap comes from the element', async () => {
    // Sessions of one key merged by an element whose gap spans both, then a contained window that changes nothing.
    const { op, out } = await harness({
      assigner: dynamicSessions((e) => (e as Rec).v),
      allowedLateness: 5,
      ...variantSpec('process'),
    });
    op.processElement({ key: 'a', v: 10 }, 0); // [0, 10)
    op.processElement({ key: 'a', v: 10 }, 30); // [30, 40)
    expect(await op.numWindows()).toBe(2);
    expect(op.numTimers()).toBe(4); // per session: the trigger's end timer and the cleanup timer
    op.processElement({ key: 'a', v: 25 }, 8); // [8, 33) bridges both
    expect(await op.numWindows()).toBe(1);
    expect(op.numTimers()).toBe(2);
    op.processElement({ key: 'a', v: 2 }, 12); // [12, 14) inside
    op.processWatermark(38);
    expect(out.values()).toEqual([]);
    op.processWatermark(39);
    expect(out.values()).toEqual(['a|0|40|2,10,10,25']);
    op.processWatermark(43);
    expect(await op.numKeys()).toBe(1);
    op.processWatermark(44);
    expect(await op.numKeys()).toBe(0);
    expect(op.numTimers()).toBe(0);
  });
});

describe('WindowOperator: cleanup and state', () => {
  it('holds no state, timers or keys once the watermark passes every window end plus lateness', async () => {
    const input = randomInput(3, 1500, { keys: 6, step: 10, disorder: 200, bound: 100 });
    const lastFinite =
      input[input.length - 2]!.kind === 'wm'
        ? input[input.length - 2]!.ts
        : Math.max(...input.filter((i) => i.kind === 'wm' && i.ts < MAX_WATERMARK).map((i) => i.ts));
    for (const assigner of [tumbling(300), sliding(300, 100), sessions(60)]) {
      const { op } = await harness({ assigner, allowedLateness: 120, ...variantSpec('process') });
      run(op, input.slice(0, -1));
      expect(await op.numWindows()).toBeGreaterThan(0);
      op.processWatermark(lastFinite + 100_000);
      expect(await op.numWindows()).toBe(0);
      expect(await op.numKeys()).toBe(0);
      expect(op.numTimers()).toBe(0);
      expect(await op.numTriggerStates()).toBe(0);
    }
  });

  it('keeps a window until end + lateness, then clears it exactly at that watermark', async () => {
    const { op, out } = await harness({
      assigner: tumbling(100),
      allowedLateness: 50,
      lateDataTag: LATE,
      ...variantSpec('reduce'),
    });
    op.processElement({ key: 'a', v: 1 }, 10);
    op.processWatermark(99);
    expect(out.values()).toEqual([{ key: 'a', v: 1 }]);
    expect(await op.numWindows()).toBe(1);
    op.processElement({ key: 'a', v: 2 }, 20); // late firing
    expect(out.values()).toEqual([
      { key: 'a', v: 1 },
      { key: 'a', v: 3 },
    ]);
    op.processWatermark(148);
    expect(await op.numWindows()).toBe(1);
    op.processWatermark(149);
    expect(await op.numWindows()).toBe(0);
    expect(await op.numKeys()).toBe(0);
    op.processElement({ key: 'a', v: 4 }, 99); // 99 + 50 <= 149: late
    expect(out.side(LATE)).toEqual([{ key: 'a', v: 4 }]);
    // Output records carry the window's max timestamp; the watermarks are forwarded after the firings.
    expect(out.log.filter((e) => e.kind === 'out').map((e) => e.ts)).toEqual([99, 99]);
    expect(out.log.filter((e) => e.kind === 'wm').map((e) => e.ts)).toEqual([99, 148, 149]);
    expect(out.log[0]).toEqual({ kind: 'out', value: { key: 'a', v: 1 }, ts: 99 });
    expect(out.log[1]).toEqual({ kind: 'wm', ts: 99 });
  });

  it('the end of input (the maximum watermark) fires every pending window', async () => {
    const { op, out } = await harness({ assigner: tumbling(1000), ...variantSpec('aggregate') });
    for (let i = 0; i < 50; i++) op.processElement({ key: `k${i % 3}`, v: i }, i * 97);
    op.processWatermark(MAX_WATERMARK);
    const total = (out.values() as string[]).reduce((n, s) => n + Number(s.split(':')[0]), 0);
    expect(total).toBe(50);
    expect(await op.numWindows()).toBe(0);
  });
});

describe('WindowOperator: count windows', () => {
  it('countWindow(n): a purging count trigger on global windows emits every n elements per key', async () => {
    const { op, out } = await harness({
      assigner: globalWindows(),
      trigger: PurgingTrigger.of(CountTrigger.of(3)) as Trigger<unknown, Window>,
      ...variantSpec('reduce'),
    });
    const seq = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const v of seq) op.processElement({ key: v % 2 ? 'odd' : 'even', v }, undefined);
    // odd: 1,3,5 -> 9 then 7 pending; even: 2,4,6 -> 12 then 8 pending
    expect(out.values()).toEqual([
      { key: 'odd', v: 9 },
      { key: 'even', v: 12 },
    ]);
    expect(out.log.filter((e) => e.kind === 'out').every((e) => e.ts === GlobalWindow.get().maxTimestamp())).toBe(true);
    expect(await op.numWindows()).toBe(2);
    // The global window never ends: the maximum watermark fires nothing and clears nothing.
    op.processWatermark(MAX_WATERMARK);
    expect(out.values().length).toBe(2);
    expect(op.numTimers()).toBe(0);
  });

  it('countWindow(n, slide): count trigger with a count evictor keeps the last n elements', async () => {
    const { op, out } = await harness({
      assigner: globalWindows(),
      trigger: CountTrigger.of(2) as Trigger<unknown, Window>,
      evictor: countEvictor(3),
      ...variantSpec('reduce'),
    });
    for (let v = 1; v <= 7; v++) op.processElement({ key: 'a', v }, undefined);
    // Fires after 2, 4, 6 elements, summing the last 3 kept: 1+2, 2+3+4, 4+5+6.
    expect(out.values()).toEqual([
      { key: 'a', v: 3 },
      { key: 'a', v: 9 },
      { key: 'a', v: 15 },
    ]);
  });

  it('an evictor with a process function sees only what the evictor keeps', async () => {
    const seen: number[][] = [];
    const { op } = await harness({
      assigner: globalWindows(),
      trigger: CountTrigger.of(4) as Trigger<unknown, Window>,
      evictor: countEvictor(2),
      windowFunction: (_k: unknown, _c: unknown, els: Iterable<unknown>) => {
        seen.push([...els].map((e) => (e as Rec).v));
      },
    });
    for (let v = 1; v <= 8; v++) op.processElement({ key: 'a', v }, undefined);
    expect(seen).toEqual([
      [3, 4],
      [7, 8],
    ]);
  });
});

describe('WindowOperator: processing-time windows', () => {
  it('tumbling processing-time windows fire when the clock passes their end', async () => {
    const { op, out, time } = await harness({ assigner: tumbling(100, 0, false), ...variantSpec('process') });
    time.time = 5;
    op.processElement({ key: 'a', v: 1 }, undefined);
    op.processElement({ key: 'b', v: 2 }, 12345); // the event timestamp does not matter
    time.advance(50);
    op.processElement({ key: 'a', v: 3 }, undefined);
    expect(out.values()).toEqual([]);
    time.advance(99);
    expect((out.values() as string[]).sort()).toEqual(['a|0|100|1,3', 'b|0|100|2']);
    expect(await op.numWindows()).toBe(0);
    time.advance(150);
    op.processElement({ key: 'a', v: 4 }, undefined);
    // Watermarks do not fire processing-time windows.
    op.processWatermark(MAX_WATERMARK);
    expect(out.values().length).toBe(2);
    time.advance(199);
    expect(out.values()[2]).toBe('a|100|200|4');
    expect(await op.numKeys()).toBe(0);
    expect(op.numTimers()).toBe(0);
  });

  it('processing-time sessions merge and fire after the gap', async () => {
    const { op, out, time } = await harness({ assigner: sessions(30, false), ...variantSpec('aggregate+process') });
    time.advance(0);
    op.processElement({ key: 'a', v: 1 }, undefined);
    time.advance(20);
    op.processElement({ key: 'a', v: 2 }, undefined);
    time.advance(45);
    op.processElement({ key: 'a', v: 3 }, undefined);
    expect(out.values()).toEqual([]);
    time.advance(74);
    expect(out.values()).toEqual(['a|0|75|3:6']);
    expect(await op.numKeys()).toBe(0);
  });
});

describe('WindowOperator: functions and contexts', () => {
  it('non-keyed windows (windowAll) keep one window for all elements', async () => {
    const { op, out } = await harness({ assigner: tumbling(10), ...variantSpec('aggregate') }, false);
    for (let i = 0; i < 20; i++) op.processElement({ key: `k${i}`, v: 1 }, i);
    op.processWatermark(MAX_WATERMARK);
    expect(out.values()).toEqual(['10:10', '10:10']);
  });

  it('gives the process function the window, key, watermark and a side output; opens and closes it', async () => {
    const calls: string[] = [];
    const fn = {
      open: () => calls.push('open'),
      close: () => calls.push('close'),
      process(key: unknown, ctx: ProcessWindowContext<Window>, elements: Iterable<unknown>, out: Collector<unknown>) {
        calls.push(`process ${String(key)} wm=${ctx.currentWatermark()} pt=${ctx.currentProcessingTime()}`);
        ctx.output({ id: 'meta' }, `${tw(ctx).start}-${tw(ctx).end}`);
        out.collect([...elements].length);
      },
    };
    const { op, out, time } = await harness({ assigner: tumbling(10), windowFunction: fn });
    time.time = 777;
    await op.open();
    op.processElement({ key: 'x', v: 1 }, 3);
    op.processElement({ key: 'x', v: 1 }, 4);
    op.processWatermark(12);
    await op.close();
    expect(calls).toEqual(['open', 'process x wm=12 pt=777', 'close']);
    expect(out.log).toEqual([
      { kind: 'side', tag: 'meta', value: '0-10', ts: 9 },
      { kind: 'out', value: 2, ts: 9 },
      { kind: 'wm', ts: 12 },
    ]);
  });

  it('wraps errors from user code with the operator name', async () => {
    const { op } = await harness({
      assigner: tumbling(10),
      reduceFunction: () => {
        throw new Error('boom');
      },
    });
    op.processElement({ key: 'a', v: 1 }, 1);
    let caught: unknown;
    try {
      op.processElement({ key: 'a', v: 2 }, 2);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserCodeError);
    expect((caught as UserCodeError).operatorName).toBe('Window(test)');
    expect((caught as UserCodeError).message).toBe('boom');
  });

  it('refuses a merging assigner with a trigger that cannot merge', async () => {
    const noMerge = {
      ...EventTimeTrigger.create(),
      onElement: () => 'CONTINUE',
      canMerge: () => false,
    } as unknown as Trigger<unknown, Window>;
    await expect(harness({ assigner: sessions(10), trigger: noMerge })).rejects.toThrow(/merging window assigner/);
  });

  it('structured keys share state by value', async () => {
    const out = new RecordingOutput();
    const op = new WindowOperator({
      descriptor: {
        id: 'b'.repeat(32),
        name: 'W',
        kind: 'window',
        config: windowConfig(),
        stateful: true,
        outputs: [],
      },
      userCode: {
        assigner: tumbling(10),
        trigger: EventTimeTrigger.create(),
        allowedLateness: 0,
        reduceFunction: (a: unknown, b: unknown) => [(a as number[])[0], (a as number[])[1]! + (b as number[])[1]!],
      },
      keySelector: (r) => ({ id: (r as number[])[0] }),
      output: out,
      services: services(new ManualTime()),
    });
    await initializeOperator(op);
    op.processElement([1, 5], 1);
    op.processElement([1, 6], 2);
    op.processElement([2, 7], 3);
    expect(await op.numKeys()).toBe(2);
    op.processWatermark(9);
    expect(out.values().sort((a, b) => (a as number[])[0]! - (b as number[])[0]!)).toEqual([
      [1, 11],
      [2, 7],
    ]);
  });
});
