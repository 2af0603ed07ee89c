// weir/testing as a job's author uses it: a KeyedProcessFunction with MapState, event-time timers
// and a late-data side output, driven through KeyedOneInputHarness on randomized out-of-order
// input and checked against a plain loop; a snapshot taken half way and restored into a new
// harness (the other state backend, or three subtasks) gives the same output.
import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  MapStateDescriptor,
  OutputTag,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
} from 'weir';
import {
  KeyedOneInputHarness,
  repartition,
  StreamRecord,
  subtaskIndexForKey,
  Watermark,
  type OutputElement,
} from 'weir/testing';
import { mulberry32 } from '../reference/random.js';

interface Ev {
  key: string;
  v: number;
}

type Step = { kind: 'record'; e: Ev; ts: number } | { kind: 'watermark'; ts: number };

const BUCKET = 100;
const late = new OutputTag<Ev>('late');

/** Sums per key and 100 ms bucket, emitted when the watermark passes the bucket; late records to a side output. */
class BucketSums extends KeyedProcessFunction<string, Ev, string> {
  private sums!: MapState<number, number>;
  opened: { index: number; parallelism: number } | undefined;
  closed = false;

  override open(ctx: RuntimeContext): void {
    this.sums = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, number>('sums'));
    this.opened = { index: ctx.getIndexOfThisSubtask(), parallelism: ctx.getNumberOfParallelSubtasks() };
  }

  processElement(e: Ev, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    const start = Math.floor(ctx.timestamp()! / BUCKET) * BUCKET;
    const end = start + BUCKET - 1;
    if (end <= ctx.timerService().currentWatermark()) {
      ctx.output(late, e);
      return;
    }
    this.sums.put(start, (this.sums.get(start) ?? 0) + e.v);
    ctx.timerService().registerEventTimeTimer(end);
  }

  override onTimer(time: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    const start = time - BUCKET + 1;
    out.collect(`${ctx.getCurrentKey()}|${start}|${this.sums.get(start)}`);
    this.sums.remove(start);
  }

  override close(): void {
    this.closed = true;
  }
}

/** Records with timestamps up to 150 ms out of order, watermarks 120 ms behind the largest: some records are late. */
function script(seed: number, n: number, keys: number): Step[] {
  const rnd = mulberry32(seed);
  const steps: Step[] = [];
  let maxTs = -Infinity;
  let wm = -Infinity;
  for (let i = 0; i < n; i++) {
    const ts = Math.max(0, i * 5 + Math.floor(rnd() * 300) - 150);
    steps.push({ kind: 'record', e: { key: `k${Math.floor(rnd() * keys)}`, v: 1 + Math.floor(rnd() * 10) }, ts });
    maxTs = Math.max(maxTs, ts);
    if (i % 25 === 24 && maxTs - 120 > wm) steps.push({ kind: 'watermark', ts: (wm = maxTs - 120) });
  }
  steps.push({ kind: 'watermark', ts: maxTs + 1_000 });
  return steps;
}

/** The plain loop: what the function must emit, between which watermarks, and what is late. */
function reference(steps: readonly Step[]): {
  segments: string[][];
  late: Ev[];
  openBuckets: (upTo: number) => number;
  openKeys: (upTo: number) => number;
} {
  const sums = new Map<string, number>();
  const segments: string[][] = [[]];
  const lateOut: Ev[] = [];
  const openAfter: number[] = [];
  const keysAfter: number[] = [];
  let wm = -Infinity;
  for (const s of steps) {
    if (s.kind === 'record') {
      const start = Math.floor(s.ts / BUCKET) * BUCKET;
      if (start + BUCKET - 1 <= wm) lateOut.push(s.e);
      else sums.set(`${s.e.key}|${start}`, (sums.get(`${s.e.key}|${start}`) ?? 0) + s.e.v);
    } else {
      wm = s.ts;
      const fired = [...sums].filter(([id]) => Number(id.split('|')[1]) + BUCKET - 1 <= wm);
      for (const [id, sum] of fired) {
        segments[segments.length - 1]!.push(`${id}|${sum}`);
        sums.delete(id);
      }
      segments.push([]);
    }
    openAfter.push(sums.size);
    keysAfter.push(new Set([...sums.keys()].map((id) => id.split('|')[0])).size);
  }
  return {
    segments: segments.map((x) => x.sort()),
    late: lateOut,
    openBuckets: (upTo) => openAfter[upTo - 1] ?? 0,
    openKeys: (upTo) => keysAfter[upTo - 1] ?? 0,
  };
}

/** The harness output cut at its watermarks, each part sorted (timers of one watermark fire in timestamp order, keys in any). */
function segmentsOf(out: readonly OutputElement<string>[]): string[][] {
  const segs: string[][] = [[]];
  for (const e of out) {
    if (e instanceof Watermark) segs.push([]);
    else segs[segs.length - 1]!.push(e.value);
  }
  return segs.map((x) => x.sort());
}

function feed(h: KeyedOneInputHarness<string, Ev, string>, steps: readonly Step[]): void {
  for (const s of steps) {
    if (s.kind === 'record') h.processElement(s.e, s.ts);
    else h.processWatermark(s.ts);
  }
}

const keyOf = (e: Ev) => e.key;

/** A cut right after a watermark, near `fraction` of the steps. */
function cutAfterWatermark(steps: readonly Step[], fraction: number): number {
  let i = Math.floor(steps.length * fraction);
  while (steps[i - 1]!.kind !== 'watermark') i++;
  return i;
}

/**
 * Watermarks are not part of a snapshot: a restored operator's event time starts over until its
 * input sends one (in a job, the restored sources do). The test sends the last one again; it fires
 * nothing (its timers fired before the snapshot) and is dropped from the output.
 */
function resendWatermark(h: KeyedOneInputHarness<string, Ev, string>, steps: readonly Step[], cut: number): void {
  const wm = (steps[cut - 1] as { ts: number }).ts;
  h.processWatermark(wm);
  expect(h.extractOutput()).toEqual([new Watermark(wm)]);
}

describe('KeyedOneInputHarness', () => {
  const steps = script(14, 1500, 12);
  const ref = reference(steps);

  for (const stateBackend of ['heap', 'level'] as const) {
    it(`runs a KeyedProcessFunction with MapState, timers and a side output as the plain loop does (${stateBackend})`, async () => {
      const fn = new BucketSums();
      const h = new KeyedOneInputHarness(fn, keyOf, { stateBackend });
      await h.open();
      expect(fn.opened).toEqual({ index: 0, parallelism: 1 });
      const half = Math.floor(steps.length / 2);
      feed(h, steps.slice(0, half));
      // One timer per open bucket; one state entry (a MapState) per key with open buckets.
      expect(h.numEventTimeTimers()).toBe(ref.openBuckets(half));
      expect(h.numKeyedStateEntries()).toBe(ref.openKeys(half));
      feed(h, steps.slice(half));
      expect(h.numEventTimeTimers()).toBe(0);
      const out = h.extractOutput();
      expect(segmentsOf(out)).toEqual(ref.segments);
      // Records carry their timer's timestamp, and come before the watermark that fired them.
      let wm = -Infinity;
      for (const e of out) {
        if (e instanceof Watermark) wm = e.timestamp;
        else expect(e.timestamp! > wm && (e.timestamp! + 1) % BUCKET === 0).toBe(true);
      }
      expect(h.getSideOutput(late).map((r) => r.value)).toEqual(ref.late);
      expect(ref.late.length).toBeGreaterThan(10);
      await h.close();
      expect(fn.closed).toBe(true);
    });
  }

  it('restores a snapshot taken half way into a new harness on the other backend: the same output as without it', async () => {
    const cut = cutAfterWatermark(steps, 0.4);
    const first = new KeyedOneInputHarness(new BucketSums(), keyOf, { stateBackend: 'heap' });
    await first.open();
    feed(first, steps.slice(0, cut));
    const beforeCut = first.extractOutput();
    const snapshot = await first.snapshot();
    // Work after the snapshot is not in it.
    feed(first, steps.slice(cut, cut + 50));
    await first.close();

    const second = new KeyedOneInputHarness(new BucketSums(), keyOf, { stateBackend: 'level' });
    await second.initializeState(snapshot);
    await second.open();
    expect(second.numEventTimeTimers()).toBe(ref.openBuckets(cut));
    resendWatermark(second, steps, cut);
    feed(second, steps.slice(cut));
    expect(segmentsOf([...beforeCut, ...second.extractOutput()])).toEqual(ref.segments);
    await second.close();
  });

  it('splits a snapshot among three subtasks by key group (repartition): together they emit what one would', async () => {
    const cut = cutAfterWatermark(steps, 0.5);
    const one = new KeyedOneInputHarness(new BucketSums(), keyOf);
    await one.open();
    feed(one, steps.slice(0, cut));
    const timers = one.numEventTimeTimers();
    const entries = one.numKeyedStateEntries();
    const snapshot = await one.snapshot();
    const firstPart = one.extractOutputStreamRecords().map((r) => r.value);
    await one.close();

    const fns = [0, 1, 2].map(() => new BucketSums());
    const parts = repartition(snapshot, 3);
    const subtasks = await Promise.all(
      parts.map(async (part, i) => {
        const h = new KeyedOneInputHarness(fns[i]!, keyOf, {
          parallelism: 3,
          subtaskIndex: i,
          stateBackend: i === 1 ? 'level' : 'heap',
        });
        await h.initializeState(part);
        await h.open();
        return h;
      }),
    );
    expect(fns.map((f) => f.opened)).toEqual([0, 1, 2].map((index) => ({ index, parallelism: 3 })));
    // Every timer and state entry landed in exactly one subtask.
    expect(subtasks.reduce((n, h) => n + h.numEventTimeTimers(), 0)).toBe(timers);
    expect(subtasks.reduce((n, h) => n + h.numKeyedStateEntries(), 0)).toBe(entries);
    for (const h of subtasks) resendWatermark(h, steps, cut);
    for (const s of steps.slice(cut)) {
      if (s.kind === 'watermark') for (const h of subtasks) h.processWatermark(s.ts);
      else subtasks[subtaskIndexForKey(s.e.key, 3)]!.processElement(s.e, s.ts);
    }
    const all = [...firstPart, ...subtasks.flatMap((h) => h.extractOutputStreamRecords().map((r) => r.value))].sort();
    expect(all).toEqual(ref.segments.flat().sort());
    for (const h of subtasks) await h.close();
  });

  it('refuses a key of another subtask, and a cut snapshot in the wrong subtask', async () => {
    const h = new KeyedOneInputHarness(new BucketSums(), keyOf, { parallelism: 4, subtaskIndex: 2 });
    await h.open();
    const foreign = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].find((k) => !h.ownsKey(k))!;
    expect(() => h.processElement({ key: foreign, v: 1 }, 5)).toThrow(/key group/i);
    const parts = repartition(await h.snapshot(), 2);
    await h.close();
    const wrong = new KeyedOneInputHarness(new BucketSums(), keyOf, { parallelism: 2, subtaskIndex: 0 });
    await expect(wrong.initializeState(parts[1]!)).rejects.toThrow(/subtask 1 of 2/);
    await wrong.close();
  });

  it('fires processing-time timers as setProcessingTime moves the clock', async () => {
    class Reminder extends KeyedProcessFunction<string, Ev, string> {
      private seen!: ValueState<number>;
      override open(): void {
        this.seen = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('seen'));
      }
      processElement(_e: Ev, ctx: KeyedProcessContext<string>): void {
        this.seen.update((this.seen.value() ?? 0) + 1);
        ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 1_000);
      }
      override onTimer(time: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()} seen ${this.seen.value()} at ${time} (${ctx.timeDomain()})`);
        this.seen.clear();
      }
    }
    const h = new KeyedOneInputHarness(new Reminder(), keyOf, { initialProcessingTime: 10 });
    await h.open();
    h.processElement({ key: 'a', v: 1 });
    h.setProcessingTime(500);
    h.processElement({ key: 'a', v: 1 });
    h.processElement({ key: 'b', v: 1 });
    expect(h.numProcessingTimeTimers()).toBe(3);
    h.setProcessingTime(1_010);
    expect(h.extractOutput()).toEqual([new StreamRecord('a seen 2 at 1010 (PROCESSING_TIME)')]);
    const snapshot = await h.snapshot();
    await h.close();
    const restored = new KeyedOneInputHarness(new Reminder(), keyOf, {
      stateBackend: 'level',
      initialProcessingTime: 1_200,
    });
    await restored.initializeState(snapshot);
    await restored.open();
    expect(restored.numProcessingTimeTimers()).toBe(2);
    restored.setProcessingTime(1_500);
    // Timers of one time fire in key-group order after a restore, in no order a test should rely on.
    expect(restored.extractOutputValues().sort()).toEqual([
      'a seen null at 1500 (PROCESSING_TIME)',
      'b seen 1 at 1500 (PROCESSING_TIME)',
    ]);
    expect(restored.numProcessingTimeTimers()).toBe(0);
    await restored.close();
  });
});
