import { describe, expect, it } from 'vitest';
import { EventTimeSessionWindows } from '../../api/windowing/session-windows.js';
import { TimeWindow } from '../../api/windowing/time-window.js';
import type { MergingWindowAssigner, Window } from '../../api/windowing/types.js';
import { MergingWindowSet } from '../../taskmanager/operators/merging-window-set.js';

interface MergeCall {
  result: string;
  merged: string[];
  stateResult: string;
  mergedState: string[];
}

function setup() {
  const set = new MergingWindowSet<Window>(
    EventTimeSessionWindows.withGap(10) as unknown as MergingWindowAssigner<unknown, Window>,
  );
  const calls: MergeCall[] = [];
  const add = (start: number, end: number): string =>
    set
      .addWindow(new TimeWindow(start, end), (result, merged, stateResult, mergedState) =>
        calls.push({
          result: result.id(),
          merged: merged.map((w) => w.id()).sort(),
          stateResult: stateResult.id(),
          mergedState: mergedState.map((w) => w.id()),
        }),
      )
      .id();
  const stateOf = (start: number, end: number) => set.getStateWindow(new TimeWindow(start, end))?.id();
  return { set, calls, add, stateOf };
}

describe('MergingWindowSet', () => {
  it('keeps disjoint windows as their own state windows', () => {
    const { set, calls, add, stateOf } = setup();
    expect(add(0, 10)).toBe('0:10');
    expect(add(20, 30)).toBe('20:30');
    expect(calls).toEqual([]);
    expect(set.size).toBe(2);
    expect(stateOf(0, 10)).toBe('0:10');
    expect(stateOf(20, 30)).toBe('20:30');
  });

  it('extends a window without moving its state', () => {
    const { calls, add, stateOf } = setup();
    add(0, 10);
    expect(add(5, 15)).toBe('0:15');
    expect(calls).toEqual([{ result: '0:15', merged: ['0:10'], stateResult: '0:10', mergedState: [] }]);
    expect(stateOf(0, 15)).toBe('0:10');
    expect(stateOf(0, 10)).toBeUndefined();
  });

  it('bridges two windows: the result keeps one state window and absorbs the other', () => {
    const { set, calls, add, stateOf } = setup();
    add(0, 10);
    add(20, 30);
    expect(add(8, 22)).toBe('0:30');
    expect(calls.length).toBe(1);
    const c = calls[0]!;
    expect(c.result).toBe('0:30');
    expect(c.merged).toEqual(['0:10', '20:30']);
    expect([c.stateResult, ...c.mergedState].sort()).toEqual(['0:10', '20:30']);
    expect(stateOf(0, 30)).toBe(c.stateResult);
    expect(set.size).toBe(1);
  });

  it('a window inside (or equal to) an in-flight window merges nothing', () => {
    const { set, calls, add } = setup();
    add(0, 10);
    add(5, 25); // now 0:25 with state window 0:10
    calls.length = 0;
    expect(add(3, 9)).toBe('0:25');
    expect(add(0, 25)).toBe('0:25');
    expect(calls).toEqual([]);
    expect(set.getStateWindow(new TimeWindow(0, 25))!.id()).toBe('0:10');
  });

  it('touching windows merge, as in Flink', () => {
    const { add } = setup();
    add(0, 10);
    expect(add(10, 20)).toBe('0:20');
  });

  it('retires windows, and refuses to retire what is not in flight', () => {
    const { set, add } = setup();
    add(0, 10);
    set.retireWindow(new TimeWindow(0, 10));
    expect(set.size).toBe(0);
    expect(() => set.retireWindow(new TimeWindow(0, 10))).toThrow(/not in the in-flight/);
  });

  it('randomized: in-flight windows stay disjoint, cover every added window, and each state window is used once', () => {
    const { set, add } = setup();
    let seed = 11;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const added: TimeWindow[] = [];
    for (let i = 0; i < 400; i++) {
      const start = rand(5000);
      const w = new TimeWindow(start, start + 1 + rand(40));
      added.push(w);
      const resultId = add(w.start, w.end);
      const [rs, re] = resultId.split(':').map(Number) as [number, number];
      expect(rs <= w.start && re >= w.end).toBe(true);
      const windows = set.windows() as TimeWindow[];
      const sorted = [...windows].sort((a, b) => a.start - b.start);
      for (let j = 1; j < sorted.length; j++) expect(sorted[j - 1]!.end < sorted[j]!.start).toBe(true);
      const states = windows.map((x) => set.getStateWindow(x)!.id());
      expect(new Set(states).size).toBe(states.length);
    }
    const windows = set.windows() as TimeWindow[];
    for (const w of added) expect(windows.some((x) => x.start <= w.start && x.end >= w.end)).toBe(true);
  });
});
