// PipelineHarness on windowed streams built with the normal API, running the real WindowOperator:
// tumbling, sliding and session windows with allowed lateness and late-data side outputs on
// randomized out-of-order input against the plain reference loop (test/reference/windows.ts);
// a snapshot taken half way restored into a new harness (other backend, other parallelism);
// WindowOperatorTest-style cases by hand (count trigger on merged sessions, purging trigger with
// lateness, processing-time windows by setProcessingTime, end-of-stream global windows), and
// assigners a user extended.
import { describe, expect, it } from 'vitest';
import {
  CountTrigger,
  EventTimeSessionWindows,
  EventTimeTrigger,
  GlobalWindows,
  OutputTag,
  PurgingTrigger,
  SlidingEventTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  type DataStream,
  type ProcessWindowContext,
  type Collector,
  type Window,
  type WindowAssignerContext,
} from 'weir';
import {
  PipelineHarness,
  repartition,
  StreamRecord,
  subtaskIndexForKey,
  Watermark,
  type HarnessOptions,
} from 'weir/testing';
import { mulberry32 } from '../reference/random.js';
import { referenceWindows, type RefAssigner } from '../reference/windows.js';
import { MAX_WATERMARK, type StreamEvent } from '../reference/stream.js';

interface Ev {
  key: string;
  v: number;
}

const lateTag = new OutputTag<Ev>('late');
const render = (key: string, w: { start: number; end: number }, sum: number) => `${key}|${w.start}|${w.end}|${sum}`;

/** sum per key and window, rendered with the window by a ProcessWindowFunction after the pre-aggregation. */
function windowSums(assigner: RefAssigner, allowedLateness: number) {
  return (s: DataStream<Ev>): DataStream<string> => {
    const keyed = s.keyBy((e) => e.key);
    const windowed =
      assigner.kind === 'tumbling'
        ? keyed.window(TumblingEventTimeWindows.of(assigner.size))
        : assigner.kind === 'sliding'
          ? keyed.window(SlidingEventTimeWindows.of(assigner.size, assigner.slide))
          : keyed.window(EventTimeSessionWindows.withGap(assigner.gap));
    return windowed
      .allowedLateness(allowedLateness)
      .sideOutputLateData(lateTag)
      .reduce<string>(
        (a, b) => ({ key: a.key, v: a.v + b.v }),
        (key: string, ctx: ProcessWindowContext<Window>, sums: Iterable<Ev>, out: Collector<string>) => {
          for (const s of sums) out.collect(render(key, ctx.window as TimeWindow, s.v));
        },
      );
  };
}

/** Out of order by up to 400 ms, watermarks 250 ms behind the largest timestamp: some records late, some within lateness. */
function stream(seed: number, n: number, keys: number): StreamEvent<Ev>[] {
  const rnd = mulberry32(seed);
  const out: StreamEvent<Ev>[] = [];
  let maxTs = -Infinity;
  let wm = -Infinity;
  for (let i = 0; i < n; i++) {
    const timestamp = Math.max(0, i * 20 + Math.floor(rnd() * 800) - 400);
    out.push({
      kind: 'record',
      value: { key: `k${Math.floor(rnd() * keys)}`, v: 1 + Math.floor(rnd() * 9) },
      timestamp,
    });
    maxTs = Math.max(maxTs, timestamp);
    if (i % 10 === 9 && maxTs - 250 > wm) out.push({ kind: 'watermark', timestamp: (wm = maxTs - 250) });
  }
  out.push({ kind: 'watermark', timestamp: MAX_WATERMARK });
  return out;
}

function expected(events: readonly StreamEvent<Ev>[], assigner: RefAssigner, allowedLateness: number) {
  return referenceWindows(events, {
    assigner,
    allowedLateness,
    keyOf: (e: Ev) => e.key,
    fire: (key, w, elements) => [
      render(
        key,
        w,
        elements.reduce((n, e) => n + e.v, 0),
      ),
    ],
  });
}

function feed(h: PipelineHarness<Ev, string>, events: readonly StreamEvent<Ev>[]): void {
  for (const ev of events) {
    if (ev.kind === 'record') h.processElement(ev.value, ev.timestamp);
    else h.processWatermark(ev.timestamp);
  }
}

const cases: { name: string; assigner: RefAssigner; lateness: number }[] = [
  { name: 'tumbling', assigner: { kind: 'tumbling', size: 1000 }, lateness: 300 },
  { name: 'sliding', assigner: { kind: 'sliding', size: 1000, slide: 250 }, lateness: 0 },
  { name: 'session', assigner: { kind: 'session', gap: 150 }, lateness: 200 },
];

describe('PipelineHarness on windowed streams', () => {
  const events = stream(21, 1500, 9);

  for (const { name, assigner, lateness } of cases) {
    const ref = expected(events, assigner, lateness);

    it(`${name} windows with lateness and late data: every firing and late record of the reference`, async () => {
      const h = new PipelineHarness(windowSums(assigner, lateness));
      await h.open();
      feed(h, events);
      const records = h.extractOutputStreamRecords();
      expect(records.map((r) => r.value).sort()).toEqual([...ref.fired].sort());
      // A window's result carries the window's last timestamp.
      for (const r of records) expect(r.timestamp).toBe(Number(r.value.split('|')[2]) - 1);
      expect(h.getSideOutput(lateTag).map((r) => r.value)).toEqual(ref.late);
      expect(ref.late.length + ref.droppedFromLateWindows).toBeGreaterThan(0);
      if (lateness > 0) expect(ref.lateFirings).toBeGreaterThan(0);
      expect(h.numKeyedStateEntries()).toBe(0);
      expect(h.numEventTimeTimers()).toBe(0);
      await h.close();
    });

    it(`${name} windows: a snapshot half way, restored on the other backend and split over two subtasks, gives the same output`, async () => {
      let cut = Math.floor(events.length / 2);
      while (events[cut - 1]!.kind !== 'watermark') cut++;
      const wm = events[cut - 1]!.timestamp;
      const first = new PipelineHarness(windowSums(assigner, lateness), { stateBackend: 'level' });
      await first.open();
      feed(first, events.slice(0, cut));
      const before = first.extractOutputValues();
      const lateBefore = first.getSideOutput(lateTag).map((r) => r.value);
      const timers = first.numEventTimeTimers();
      const snapshot = await first.snapshot();
      await first.close();

      const restored = await Promise.all(
        repartition(snapshot, 2).map(async (part, subtaskIndex) => {
          const options: HarnessOptions = { parallelism: 2, subtaskIndex, stateBackend: 'heap' };
          const h = new PipelineHarness(windowSums(assigner, lateness), options);
          await h.initializeState(part);
          await h.open();
          // Event time starts over after a restore until the input sends a watermark (in a job, the restored sources do).
          h.processWatermark(wm);
          expect(h.extractOutput()).toEqual([new Watermark(wm)]);
          return h;
        }),
      );
      expect(restored[0]!.numEventTimeTimers() + restored[1]!.numEventTimeTimers()).toBe(timers);
      for (const ev of events.slice(cut)) {
        if (ev.kind === 'watermark') for (const h of restored) h.processWatermark(ev.timestamp);
        else restored[subtaskIndexForKey(ev.value.key, 2)]!.processElement(ev.value, ev.timestamp);
      }
      const after = restored.flatMap((h) => h.extractOutputValues());
      expect([...before, ...after].sort()).toEqual([...ref.fired].sort());
      const lateAfter = restored.flatMap((h) => h.getSideOutput(lateTag).map((r) => r.value));
      expect([...lateBefore, ...lateAfter].sort(byJson)).toEqual([...ref.late].sort(byJson));
      for (const h of restored) await h.close();
    });
  }

  it('count trigger on merged sessions (PurgingTrigger of CountTrigger): counts merge, each firing purges', async () => {
    const h = new PipelineHarness((s: DataStream<Ev>) =>
      s
        .keyBy((e) => e.key)
        .window(EventTimeSessionWindows.withGap(3000))
        .trigger(PurgingTrigger.of(CountTrigger.of(3)))
        .process((key: string, ctx: ProcessWindowContext<Window>, elements: Iterable<Ev>, out: Collector<string>) => {
          const w = ctx.window as TimeWindow;
          out.collect(`${key}|${w.start}|${w.end}|${[...elements].map((e) => e.v).join(',')}`);
        }),
    );
    await h.open();
    for (const [v, ts] of [
      [0, 0],
      [1000, 1000],
      [2500, 2500],
      [3500, 3500],
      [4000, 4000],
      [20000, 20000],
      [4500, 4500],
    ] as const) {
      h.processElement({ key: 'k', v }, ts);
    }
    h.processWatermark(30_000);
    expect(h.extractOutput()).toEqual([
      new StreamRecord('k|0|5500|0,1000,2500', 5499),
      new StreamRecord('k|0|7500|3500,4000,4500', 7499),
      new Watermark(30_000),
    ]);
    await h.close();
  });

  it('a purging event-time trigger with allowed lateness fires late elements alone, then drops what is too late', async () => {
    const h = new PipelineHarness((s: DataStream<Ev>) =>
      s
        .keyBy((e) => e.key)
        .window(TumblingEventTimeWindows.of(1000))
        .trigger(PurgingTrigger.of(EventTimeTrigger.create()))
        .allowedLateness(500)
        .sideOutputLateData(lateTag)
        .process((key: string, ctx: ProcessWindowContext<Window>, elements: Iterable<Ev>, out: Collector<string>) => {
          out.collect(`${key}|${(ctx.window as TimeWindow).start}|${[...elements].map((e) => e.v).join(',')}`);
        }),
    );
    await h.open();
    h.processElement({ key: 'a', v: 100 }, 100);
    h.processElement({ key: 'a', v: 200 }, 200);
    h.processWatermark(999);
    h.processElement({ key: 'a', v: 300 }, 300);
    h.processWatermark(1499);
    h.processElement({ key: 'a', v: 400 }, 400);
    expect(h.extractOutput()).toEqual([
      new StreamRecord('a|0|100,200', 999),
      new Watermark(999),
      new StreamRecord('a|0|300', 999),
      new Watermark(1499),
    ]);
    expect(h.getSideOutput(lateTag)).toEqual([new StreamRecord({ key: 'a', v: 400 }, 400)]);
    expect(h.numKeyedStateEntries()).toBe(0);
    await h.close();
  });

  it('processing-time windows fire as setProcessingTime moves the clock', async () => {
    const h = new PipelineHarness(
      (s: DataStream<Ev>) =>
        s
          .keyBy((e) => e.key)
          .window(TumblingProcessingTimeWindows.of(1000))
          .reduce((a, b) => ({ key: a.key, v: a.v + b.v })),
      { initialProcessingTime: 100 },
    );
    await h.open();
    h.processElement({ key: 'a', v: 1 });
    h.processElement({ key: 'b', v: 2 });
    h.setProcessingTime(998);
    h.processElement({ key: 'a', v: 3 });
    expect(h.numProcessingTimeTimers()).toBe(2);
    // The window [0, 1000) fires at its last millisecond, as in Flink.
    h.setProcessingTime(999);
    expect(h.extractOutput()).toEqual([
      new StreamRecord({ key: 'a', v: 4 }, 999),
      new StreamRecord({ key: 'b', v: 2 }, 999),
    ]);
    h.setProcessingTime(1000);
    h.processElement({ key: 'a', v: 5 });
    const snapshot = await h.snapshot();
    await h.close();
    const restored = new PipelineHarness(
      (s: DataStream<Ev>) =>
        s
          .keyBy((e) => e.key)
          .window(TumblingProcessingTimeWindows.of(1000))
          .reduce((a, b) => ({ key: a.key, v: a.v + b.v })),
      { initialProcessingTime: 1500, stateBackend: 'level' },
    );
    await restored.initializeState(snapshot);
    await restored.open();
    restored.setProcessingTime(2500);
    expect(restored.extractOutput()).toEqual([new StreamRecord({ key: 'a', v: 5 }, 1999)]);
    await restored.close();
  });

  it('GlobalWindows.createWithEndOfStreamTrigger() fires once, at the end of input', async () => {
    const h = new PipelineHarness((s: DataStream<Ev>) =>
      s
        .keyBy((e) => e.key)
        .window(GlobalWindows.createWithEndOfStreamTrigger())
        .reduce((a, b) => ({ key: a.key, v: a.v + b.v })),
    );
    await h.open();
    const rnd = mulberry32(5);
    const totals = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const e = { key: `k${Math.floor(rnd() * 6)}`, v: Math.floor(rnd() * 100) };
      totals.set(e.key, (totals.get(e.key) ?? 0) + e.v);
      h.processElement(e, Math.floor(rnd() * 10_000));
    }
    h.processWatermark(1_000_000);
    expect(h.extractOutputValues()).toEqual([]);
    await h.endInput();
    const out = h.extractOutput();
    expect(out.at(-1)).toEqual(new Watermark(Number.MAX_SAFE_INTEGER));
    expect(
      new Map(out.filter((e): e is StreamRecord<Ev> => e instanceof StreamRecord).map((r) => [r.value.key, r.value.v])),
    ).toEqual(totals);
    await h.close();
  });

  it('runs assigners a user extended: windows of two sizes per element, and sessions with a gap per element', async () => {
    /** Every element in a 100 ms and in a 200 ms window: windows of one key that start together but differ. */
    class TwoSizes extends TumblingEventTimeWindows {
      constructor() {
        super(100, 0);
      }
      override assignWindows(_e: unknown, timestamp: number | undefined, _ctx?: WindowAssignerContext): TimeWindow[] {
        return [100, 200].map(
          (size) => new TimeWindow(Math.floor(timestamp! / size) * size, Math.floor(timestamp! / size) * size + size),
        );
      }
    }
    /** Sessions of 50 ms for small values and 500 ms for large ones. */
    class ValueGapSessions extends EventTimeSessionWindows {
      constructor() {
        super(500);
      }
      override assignWindows(e: unknown, timestamp: number | undefined): TimeWindow[] {
        return [new TimeWindow(timestamp!, timestamp! + ((e as Ev).v < 5 ? 50 : 500))];
      }
    }
    const sums = (assigner: TwoSizes | ValueGapSessions) => (s: DataStream<Ev>) =>
      s
        .keyBy((e) => e.key)
        .window(assigner)
        .reduce<string>(
          (a, b) => ({ key: a.key, v: a.v + b.v }),
          (key: string, ctx: ProcessWindowContext<Window>, it: Iterable<Ev>, out: Collector<string>) => {
            for (const x of it) out.collect(render(key, ctx.window as TimeWindow, x.v));
          },
        );
    const rnd = mulberry32(8);
    const input = Array.from({ length: 400 }, (_, i) => ({
      e: { key: `k${Math.floor(rnd() * 4)}`, v: 1 + Math.floor(rnd() * 9) },
      ts: i * 7,
    }));

    const tumbling = new PipelineHarness(sums(new TwoSizes()));
    await tumbling.open();
    for (const { e, ts } of input) tumbling.processElement(e, ts);
    await tumbling.endInput();
    const want = new Map<string, number>();
    for (const { e, ts } of input) {
      for (const size of [100, 200]) {
        const id = `${e.key}|${Math.floor(ts / size) * size}|${Math.floor(ts / size) * size + size}`;
        want.set(id, (want.get(id) ?? 0) + e.v);
      }
    }
    expect(tumbling.extractOutputValues().sort()).toEqual([...want].map(([id, n]) => `${id}|${n}`).sort());
    await tumbling.close();

    const sessions = new PipelineHarness(sums(new ValueGapSessions()));
    await sessions.open();
    for (const { e, ts } of input) sessions.processElement(e, ts);
    await sessions.endInput();
    // Plain loop: per key, in time order, an element extends the session when it starts before the session's end.
    const lines: string[] = [];
    for (const key of new Set(input.map((x) => x.e.key))) {
      let cur: { start: number; end: number; sum: number } | undefined;
      for (const { e, ts } of input.filter((x) => x.e.key === key)) {
        const end = ts + (e.v < 5 ? 50 : 500);
        if (cur && ts <= cur.end) cur = { start: cur.start, end: Math.max(cur.end, end), sum: cur.sum + e.v };
        else {
          if (cur) lines.push(render(key, cur, cur.sum));
          cur = { start: ts, end, sum: e.v };
        }
      }
      if (cur) lines.push(render(key, cur, cur.sum));
    }
    expect(sessions.extractOutputValues().sort()).toEqual(lines.sort());
    await sessions.close();
  });
});

function byJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
