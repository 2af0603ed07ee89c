import { describe, expect, it } from 'vitest';
import {
  ContinuousEventTimeTrigger,
  CountEvictor,
  CountTrigger,
  DynamicEventTimeSessionWindows,
  EventTimeSessionWindows,
  EventTimeTrigger,
  GlobalWindow,
  GlobalWindows,
  NeverTrigger,
  ProcessingTimeSessionWindows,
  ProcessingTimeTrigger,
  PurgingTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  type OnMergeContext,
  type TimestampedValue,
  type Trigger,
  type TriggerState,
  type Window,
} from 'weir';
import { mulberry32 } from '../reference/random.js';

const rng = mulberry32;

const pt = (now: number) => ({ getCurrentProcessingTime: () => now });
const spans = (ws: Window[]) => ws.map((w) => (w as TimeWindow).id());

describe('TimeWindow', () => {
  it('has end - 1 as max timestamp and start:end as id', () => {
    const w = new TimeWindow(10, 20);
    expect(w.maxTimestamp()).toBe(19);
    expect(w.id()).toBe('10:20');
    expect(w.equals(new TimeWindow(10, 20))).toBe(true);
    expect(w.equals(new TimeWindow(10, 21))).toBe(false);
  });

  it('computes window starts with offsets, also for negative timestamps', () => {
    const s = TimeWindow.getWindowStartWithOffset;
    expect(s(0, 0, 10)).toBe(0);
    expect(s(9, 0, 10)).toBe(0);
    expect(s(10, 0, 10)).toBe(10);
    expect(s(-1, 0, 10)).toBe(-10);
    expect(s(-10, 0, 10)).toBe(-10);
    expect(s(-11, 0, 10)).toBe(-20);
    expect(s(7, 3, 10)).toBe(3);
    expect(s(2, 3, 10)).toBe(-7);
    expect(s(-5, -3, 10)).toBe(-13);
    expect(s(-3, -3, 10)).toBe(-3);
  });

  it('intersects when touching, and covers both', () => {
    const a = new TimeWindow(0, 5);
    expect(a.intersects(new TimeWindow(5, 10))).toBe(true);
    expect(a.intersects(new TimeWindow(6, 10))).toBe(false);
    expect(new TimeWindow(6, 10).intersects(a)).toBe(false);
    expect(a.intersects(new TimeWindow(-3, 0))).toBe(true);
    expect(a.cover(new TimeWindow(3, 9)).id()).toBe('0:9');
    expect(new TimeWindow(3, 4).cover(a).id()).toBe('0:5');
  });

  it('GlobalWindow is one window that never ends', () => {
    expect(GlobalWindow.get()).toBe(GlobalWindow.get());
    expect(GlobalWindow.get().maxTimestamp()).toBe(Number.MAX_SAFE_INTEGER);
    expect(GlobalWindow.get().id()).toBe('global');
  });
});

describe('window assigners', () => {
  it('tumbling event time: one window aligned to size and offset', () => {
    const a = TumblingEventTimeWindows.of(10);
    expect(spans(a.assignWindows('x', 0, pt(0)))).toEqual(['0:10']);
    expect(spans(a.assignWindows('x', 19, pt(0)))).toEqual(['10:20']);
    expect(spans(a.assignWindows('x', -1, pt(0)))).toEqual(['-10:0']);
    expect(spans(a.assignWindows('x', -10, pt(0)))).toEqual(['-10:0']);
    const o = TumblingEventTimeWindows.of(10, 3);
    expect(spans(o.assignWindows('x', 2, pt(0)))).toEqual(['-7:3']);
    expect(spans(o.assignWindows('x', 3, pt(0)))).toEqual(['3:13']);
    expect(spans(TumblingEventTimeWindows.of(10, -3).assignWindows('x', -4, pt(0)))).toEqual(['-13:-3']);
    expect(a.isEventTime()).toBe(true);
    expect(a.getDefaultTrigger()).toBeInstanceOf(EventTimeTrigger);
    expect(a.describe()).toEqual({ kind: 'tumblingEventTime', size: 10, offset: 0 });
    expect(TumblingEventTimeWindows.of('1 s').describe()).toEqual({ kind: 'tumblingEventTime', size: 1000, offset: 0 });
  });

  it('sliding event time: every window containing the timestamp, as Flink orders them', () => {
    const a = SlidingEventTimeWindows.of(10, 5);
    expect(spans(a.assignWindows('x', 12, pt(0)))).toEqual(['10:20', '5:15']);
    expect(spans(a.assignWindows('x', 10, pt(0)))).toEqual(['10:20', '5:15']);
    expect(spans(a.assignWindows('x', -1, pt(0)))).toEqual(['-5:5', '-10:0']);
    // size not a multiple of slide
    expect(spans(SlidingEventTimeWindows.of(10, 4).assignWindows('x', 9, pt(0)))).toEqual(['8:18', '4:14', '0:10']);
    expect(spans(SlidingEventTimeWindows.of(10, 4).assignWindows('x', 10, pt(0)))).toEqual(['8:18', '4:14']);
    // slide larger than size leaves gaps
    expect(spans(SlidingEventTimeWindows.of(3, 5).assignWindows('x', 4, pt(0)))).toEqual([]);
    expect(spans(SlidingEventTimeWindows.of(3, 5).assignWindows('x', 6, pt(0)))).toEqual(['5:8']);
    expect(spans(SlidingEventTimeWindows.of(10, 5, 2).assignWindows('x', 1, pt(0)))).toEqual(['-3:7', '-8:2']);
    expect(a.describe()).toEqual({ kind: 'slidingEventTime', size: 10, slide: 5, offset: 0 });
  });

  it('sliding windows agree with a brute-force search on random input', () => {
    const r = rng(7);
    for (let i = 0; i < 300; i++) {
      const slide = 1 + Math.floor(r() * 20);
      const size = 1 + Math.floor(r() * 60);
      const offset = Math.floor(r() * (2 * slide - 1)) - (slide - 1);
      const ts = Math.floor(r() * 2000) - 1000;
      const expected: string[] = [];
      for (let start = ts + 200; start >= ts - 200; start--) {
        if ((((start - offset) % slide) + slide) % slide === 0 && start <= ts && ts < start + size)
          expected.push(`${start}:${start + size}`);
      }
      expect(spans(SlidingEventTimeWindows.of(size, slide, offset).assignWindows(null, ts, pt(0)))).toEqual(expected);
    }
  });

  it('sessions: [ts, ts + gap), fixed or from the element', () => {
    expect(spans(EventTimeSessionWindows.withGap(5).assignWindows('x', 7, pt(0)))).toEqual(['7:12']);
    const dyn = EventTimeSessionWindows.withDynamicGap((e: { gap: number }) => e.gap);
    expect(dyn).toBeInstanceOf(DynamicEventTimeSessionWindows);
    expect(spans(dyn.assignWindows({ gap: 3 }, -2, pt(0)))).toEqual(['-2:1']);
    expect(() => dyn.assignWindows({ gap: 0 }, 1, pt(0))).toThrow(/0 < gap/);
    expect(spans(EventTimeSessionWindows.withDynamicGap({ extract: () => 4 }).assignWindows(1, 1, pt(0)))).toEqual([
      '1:5',
    ]);
    expect(EventTimeSessionWindows.withGap(5).describe()).toEqual({ kind: 'eventTimeSession', gap: 5 });
    expect(dyn.describe()).toEqual({ kind: 'eventTimeSession', dynamicGap: true });
  });

  it('processing-time assigners use the processing clock, not the record timestamp', () => {
    expect(spans(TumblingProcessingTimeWindows.of(10).assignWindows('x', 3, pt(25)))).toEqual(['20:30']);
    expect(spans(TumblingProcessingTimeWindows.of(10, 5).assignWindows('x', undefined, pt(25)))).toEqual(['25:35']);
    expect(spans(SlidingProcessingTimeWindows.of(10, 5).assignWindows('x', undefined, pt(12)))).toEqual([
      '10:20',
      '5:15',
    ]);
    expect(spans(ProcessingTimeSessionWindows.withGap(4).assignWindows('x', undefined, pt(100)))).toEqual(['100:104']);
    expect(
      spans(ProcessingTimeSessionWindows.withDynamicGap((e: number) => e).assignWindows(7, undefined, pt(100))),
    ).toEqual(['100:107']);
    for (const a of [
      TumblingProcessingTimeWindows.of(10),
      SlidingProcessingTimeWindows.of(10, 5),
      ProcessingTimeSessionWindows.withGap(4),
    ]) {
      expect(a.isEventTime()).toBe(false);
      expect(a.getDefaultTrigger()).toBeInstanceOf(ProcessingTimeTrigger);
    }
  });

  it('GlobalWindows puts everything in the global window and never fires by default', () => {
    const g = GlobalWindows.create();
    expect(g.assignWindows()).toEqual([GlobalWindow.get()]);
    expect(g.isEventTime()).toBe(false);
    expect(g.getDefaultTrigger()).toBeInstanceOf(NeverTrigger);
    expect(g.describe()).toEqual({ kind: 'global' });
  });

  it('event-time assigners reject records without timestamp with a hint', () => {
    for (const a of [
      TumblingEventTimeWindows.of(10),
      SlidingEventTimeWindows.of(10, 5),
      EventTimeSessionWindows.withGap(3),
    ]) {
      expect(() => a.assignWindows('x', undefined, pt(0))).toThrow(/did you forget assignTimestampsAndWatermarks/i);
    }
  });

  it('rejects invalid sizes, slides, offsets and gaps', () => {
    expect(() => TumblingEventTimeWindows.of(0)).toThrow(/positive/);
    expect(() => TumblingEventTimeWindows.of(10, 10)).toThrow(/abs\(offset\) < size/);
    expect(() => TumblingProcessingTimeWindows.of(10, -10)).toThrow(/abs\(offset\) < size/);
    expect(() => SlidingEventTimeWindows.of(10, 0)).toThrow(/positive/);
    expect(() => SlidingEventTimeWindows.of(10, 5, 5)).toThrow(/abs\(offset\) < slide/);
    expect(() => EventTimeSessionWindows.withGap(-1)).toThrow(/positive/);
    expect(() => TumblingEventTimeWindows.of(1.5)).toThrow(/whole number/);
    expect(() => TumblingEventTimeWindows.of('soon')).toThrow(/invalid duration/);
  });
});

describe('session merging', () => {
  it('merges overlapping and touching windows, reporting only groups of more than one', () => {
    const calls: [string[], string][] = [];
    const ws = [
      new TimeWindow(10, 15),
      new TimeWindow(0, 5),
      new TimeWindow(5, 8),
      new TimeWindow(20, 25),
      new TimeWindow(12, 18),
    ];
    EventTimeSessionWindows.withGap(5).mergeWindows(ws, (toMerge, result) =>
      calls.push([spans(toMerge).sort(), result.id()]),
    );
    expect(calls).toEqual([
      [['0:5', '5:8'], '0:8'],
      [['10:15', '12:18'], '10:18'],
    ]);
  });

  // Reference: windows are connected when they intersect; each connected component of more than
  // one window is one merge, into the cover of its members.
  function referenceMerges(ws: TimeWindow[]): Map<string, string[]> {
    const parent = ws.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
    for (let i = 0; i < ws.length; i++)
      for (let j = i + 1; j < ws.length; j++) if (ws[i]!.intersects(ws[j]!)) parent[find(i)] = find(j);
    const groups = new Map<number, TimeWindow[]>();
    ws.forEach((w, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), w]));
    const out = new Map<string, string[]>();
    for (const g of groups.values()) {
      if (g.length < 2) continue;
      const cover = g.reduce((a, b) => a.cover(b));
      out.set(cover.id(), spans(g).sort());
    }
    return out;
  }

  it('mergeWindows matches the connected components of random windows', () => {
    const r = rng(42);
    for (let round = 0; round < 200; round++) {
      const seen = new Set<string>();
      const ws: TimeWindow[] = [];
      const n = 1 + Math.floor(r() * 12);
      while (ws.length < n) {
        const start = Math.floor(r() * 200) - 100;
        const w = new TimeWindow(start, start + 1 + Math.floor(r() * 20));
        if (!seen.has(w.id())) {
          seen.add(w.id());
          ws.push(w);
        }
      }
      const got = new Map<string, string[]>();
      TimeWindow.mergeWindows(ws, (toMerge, result) => got.set(result.id(), spans(toMerge).sort()));
      expect(got).toEqual(referenceMerges(ws));
    }
  });

  it('incremental merging of out-of-order elements ends with the reference sessions', () => {
    const r = rng(2024);
    for (let round = 0; round < 50; round++) {
      const gap = 1 + Math.floor(r() * 10);
      const assigner = EventTimeSessionWindows.withGap(gap);
      const timestamps = Array.from({ length: 40 }, () => Math.floor(r() * 300) - 50);
      // As the WindowOperator's MergingWindowSet: add each element's window, then merge.
      let sessions: TimeWindow[] = [];
      for (const ts of timestamps) {
        const [w] = assigner.assignWindows(null, ts, pt(0));
        const all = [...sessions.filter((s) => !s.equals(w!)), w!];
        assigner.mergeWindows(all, (toMerge, result) => {
          const ids = new Set(toMerge.map((m) => m.id()));
          const cover = toMerge.reduce((x, y) => x.cover(y));
          if (toMerge.length < 2 || !cover.equals(result) || !ids.has(w!.id()))
            throw new Error(`bad merge of ${spans(toMerge)} into ${result.id()}`);
          sessions = [...sessions.filter((s) => !ids.has(s.id())), result];
        });
        if (!sessions.some((s) => s.start <= w!.start && w!.end <= s.end)) sessions.push(w!);
        sessions.sort((a, b) => a.start - b.start);
        for (let i = 1; i < sessions.length; i++)
          if (sessions[i - 1]!.intersects(sessions[i]!)) throw new Error(`sessions still overlap: ${spans(sessions)}`);
      }
      // Reference: sort the timestamps; a gap larger than `gap` between neighbours ends a session.
      const sorted = [...timestamps].sort((a, b) => a - b);
      const expected: string[] = [];
      let start = sorted[0]!;
      let end = start + gap;
      for (const ts of sorted.slice(1)) {
        if (ts <= end) end = Math.max(end, ts + gap);
        else {
          expected.push(`${start}:${end}`);
          start = ts;
          end = ts + gap;
        }
      }
      expected.push(`${start}:${end}`);
      expect(spans(sessions)).toEqual(expected);
    }
  });
});

/** A TriggerContext for one key: timers and per-window state, the clocks set by the test. */
class FakeContext implements OnMergeContext {
  watermark = Number.MIN_SAFE_INTEGER;
  now = 0;
  readonly eventTimers = new Set<string>();
  readonly processingTimers = new Set<string>();
  readonly state = new Map<string, unknown>();
  window: Window = new TimeWindow(0, 10);
  mergedWindows: Window[] = [];

  getCurrentProcessingTime(): number {
    return this.now;
  }
  getCurrentWatermark(): number {
    return this.watermark;
  }
  registerEventTimeTimer(time: number): void {
    this.eventTimers.add(`${this.window.id()}@${time}`);
  }
  deleteEventTimeTimer(time: number): void {
    this.eventTimers.delete(`${this.window.id()}@${time}`);
  }
  registerProcessingTimeTimer(time: number): void {
    this.processingTimers.add(`${this.window.id()}@${time}`);
  }
  deleteProcessingTimeTimer(time: number): void {
    this.processingTimers.delete(`${this.window.id()}@${time}`);
  }
  getPartitionedState<V>(name: string): TriggerState<V> {
    const k = `${this.window.id()}/${name}`;
    return {
      value: () => this.state.get(k) as V | undefined,
      update: (v: V) => void this.state.set(k, v),
      clear: () => void this.state.delete(k),
    };
  }
  mergePartitionedState<V>(name: string, merge: (a: V, b: V) => V): void {
    let acc: V | undefined;
    for (const w of this.mergedWindows) {
      const v = this.state.get(`${w.id()}/${name}`) as V | undefined;
      if (v !== undefined) acc = acc === undefined ? v : merge(acc, v);
    }
    if (acc !== undefined) this.state.set(`${this.window.id()}/${name}`, acc);
  }
  on(w: Window): this {
    this.window = w;
    return this;
  }
  /** As the operator does: a timer is gone once it fires. */
  fire(t: Trigger<unknown, Window>, time: number): string {
    this.eventTimers.delete(`${this.window.id()}@${time}`);
    return t.onEventTime(time, this.window, this);
  }
}

describe('triggers', () => {
  const w = new TimeWindow(0, 10);

  it('EventTimeTrigger registers the end timer, fires at it, and fires late elements at once', () => {
    const t = EventTimeTrigger.create();
    const ctx = new FakeContext().on(w);
    expect(t.onElement('a', 3, w, ctx)).toBe('CONTINUE');
    expect([...ctx.eventTimers]).toEqual(['0:10@9']);
    expect(t.onEventTime(8, w, ctx)).toBe('CONTINUE');
    expect(t.onEventTime(9, w, ctx)).toBe('FIRE');
    expect(t.onProcessingTime(9, w, ctx)).toBe('CONTINUE');
    ctx.watermark = 9;
    expect(t.onElement('late', 2, w, ctx)).toBe('FIRE');
    t.clear(w, ctx);
    expect(ctx.eventTimers.size).toBe(0);
    expect(t.canMerge()).toBe(true);
    ctx.watermark = 20;
    const merged = new TimeWindow(0, 25);
    t.onMerge(merged, ctx.on(merged));
    expect(ctx.eventTimers.has('0:25@24')).toBe(true);
    const past = new TimeWindow(0, 15);
    t.onMerge(past, ctx.on(past));
    expect(ctx.eventTimers.has('0:15@14')).toBe(false);
    expect(t.describe()).toEqual({ kind: 'eventTime' });
  });

  it('ProcessingTimeTrigger fires on its processing-time timer', () => {
    const t = ProcessingTimeTrigger.create();
    const ctx = new FakeContext().on(w);
    expect(t.onElement('a', undefined, w, ctx)).toBe('CONTINUE');
    expect([...ctx.processingTimers]).toEqual(['0:10@9']);
    expect(t.onEventTime(9, w, ctx)).toBe('CONTINUE');
    expect(t.onProcessingTime(9, w, ctx)).toBe('FIRE');
    t.clear(w, ctx);
    expect(ctx.processingTimers.size).toBe(0);
    ctx.now = 5;
    const merged = new TimeWindow(0, 30);
    t.onMerge(merged, ctx.on(merged));
    expect([...ctx.processingTimers]).toEqual(['0:30@29']);
  });

  it('CountTrigger fires every n elements per window and sums counts on merge', () => {
    const t = CountTrigger.of(3);
    const ctx = new FakeContext().on(w);
    const results = Array.from({ length: 7 }, () => t.onElement('x', 1, w, ctx));
    expect(results).toEqual(['CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE']);
    const other = new TimeWindow(20, 30);
    t.onElement('y', 21, other, ctx.on(other));
    const merged = new TimeWindow(0, 30);
    ctx.mergedWindows = [w, other];
    t.onMerge(merged, ctx.on(merged));
    expect(t.onElement('z', 22, merged, ctx)).toBe('FIRE'); // 1 + 1 merged, + 1
    t.onElement('z', 22, merged, ctx);
    t.clear(merged, ctx);
    expect(ctx.getPartitionedState('count').value()).toBeUndefined();
    expect(() => CountTrigger.of(0)).toThrow(/positive integer/);
    expect(t.describe()).toEqual({ kind: 'count', maxCount: 3 });
  });

  it('ContinuousEventTimeTrigger fires at every interval and at the end of the window', () => {
    const t = ContinuousEventTimeTrigger.of(4);
    const win = new TimeWindow(0, 11);
    const ctx = new FakeContext().on(win);
    expect(t.onElement('a', 5, win, ctx)).toBe('CONTINUE');
    // End timer plus the first interval boundary after 5 - 5 % 4 = 4.
    expect([...ctx.eventTimers].sort()).toEqual(['0:11@10', '0:11@8']);
    expect(t.onElement('b', 6, win, ctx)).toBe('CONTINUE');
    expect(ctx.fire(t, 8)).toBe('FIRE');
    // The next one is capped at the window's max timestamp.
    expect(ctx.getPartitionedState('fire-time').value()).toBe(10);
    expect([...ctx.eventTimers]).toEqual(['0:11@10']);
    expect(t.onEventTime(9, win, ctx)).toBe('CONTINUE');
    expect(ctx.fire(t, 10)).toBe('FIRE');
    t.clear(win, ctx);
    expect(ctx.eventTimers.size).toBe(0);
    ctx.watermark = 10;
    expect(t.onElement('late', 3, win, ctx)).toBe('FIRE');
  });

  it('ContinuousEventTimeTrigger keeps the earliest fire time when windows merge', () => {
    const t = ContinuousEventTimeTrigger.of(10);
    const ctx = new FakeContext();
    const a = new TimeWindow(0, 100);
    const b = new TimeWindow(30, 130);
    t.onElement('a', 3, a, ctx.on(a));
    t.onElement('b', 35, b, ctx.on(b));
    const merged = new TimeWindow(0, 130);
    ctx.mergedWindows = [a, b];
    t.onMerge(merged, ctx.on(merged));
    expect(ctx.getPartitionedState('fire-time').value()).toBe(10);
    expect(ctx.eventTimers.has('0:130@10')).toBe(true);
    expect(ctx.eventTimers.has('0:130@129')).toBe(true);
  });

  it('PurgingTrigger turns FIRE into FIRE_AND_PURGE and delegates the rest', () => {
    const t = PurgingTrigger.of(CountTrigger.of(2));
    const ctx = new FakeContext().on(w);
    expect(t.onElement('a', 1, w, ctx)).toBe('CONTINUE');
    expect(t.onElement('b', 1, w, ctx)).toBe('FIRE_AND_PURGE');
    const e = PurgingTrigger.of(EventTimeTrigger.create());
    expect(e.onEventTime(9, w, ctx)).toBe('FIRE_AND_PURGE');
    expect(e.onEventTime(5, w, ctx)).toBe('CONTINUE');
    expect(e.canMerge()).toBe(true);
    expect(PurgingTrigger.of(NeverTrigger.create()).canMerge()).toBe(false);
    expect(t.describe()).toEqual({ kind: 'purging', nested: { kind: 'count', maxCount: 2 } });
  });

  it('NeverTrigger never fires', () => {
    const t: Trigger<unknown, Window> = NeverTrigger.create();
    const ctx = new FakeContext().on(GlobalWindow.get());
    expect(t.onElement('a', 1, GlobalWindow.get(), ctx)).toBe('CONTINUE');
    expect(t.onEventTime(Number.MAX_SAFE_INTEGER, GlobalWindow.get(), ctx)).toBe('CONTINUE');
    expect(t.onProcessingTime(1, GlobalWindow.get(), ctx)).toBe('CONTINUE');
    expect(ctx.eventTimers.size + ctx.processingTimers.size).toBe(0);
  });
});

describe('CountEvictor', () => {
  const tv = (n: number): TimestampedValue<number>[] =>
    Array.from({ length: n }, (_, i) => ({ value: i, timestamp: i }));
  const wm = { getCurrentWatermark: () => 0 };

  it('keeps the last n elements before the window function', () => {
    const e = CountEvictor.of(3);
    expect(e.evictBefore(tv(5), 5, GlobalWindow.get(), wm).map((x) => x.value)).toEqual([2, 3, 4]);
    expect(e.evictBefore(tv(2), 2, GlobalWindow.get(), wm).map((x) => x.value)).toEqual([0, 1]);
    expect(e.evictAfter(tv(5), 5, GlobalWindow.get(), wm)).toHaveLength(5);
  });

  it('evicts after the function with doEvictAfter', () => {
    const e = CountEvictor.of(2, true);
    expect(e.evictBefore(tv(5), 5, GlobalWindow.get(), wm)).toHaveLength(5);
    expect(e.evictAfter(tv(5), 5, GlobalWindow.get(), wm).map((x) => x.value)).toEqual([3, 4]);
    expect(e.describe()).toEqual({ kind: 'count', maxCount: 2, doEvictAfter: true });
  });
});
