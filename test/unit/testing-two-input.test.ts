// Two-input harnesses: a join-like KeyedCoProcessFunction (both sides buffered in ListState,
// cleaned up by event-time timers, late records to a side output) on two randomized out-of-order
// inputs with their own watermarks, against a plain loop; restored half way into a new harness on
// the other backend; and a CoProcessFunction without keys.
import { describe, expect, it } from 'vitest';
import {
  CoProcessFunction,
  EventTimeSessionWindows,
  KeyedCoProcessFunction,
  ListStateDescriptor,
  OutputTag,
  SlidingEventTimeWindows,
  type DataStream,
  type Collector,
  type CoProcessContext,
  type KeyedCoProcessContext,
  type CoOnTimerContext,
  type ListState,
} from 'weir';
import {
  KeyedTwoInputHarness,
  StreamRecord,
  TwoInputHarness,
  TwoInputPipelineHarness,
  Watermark,
  type HarnessSnapshot,
} from 'weir/testing';
import { referenceWindowJoin } from '../reference/joins.js';
import { mulberry32 } from '../reference/random.js';

interface Side {
  id: string;
  key: string;
  ts: number;
}

const BOUND = 100;
const late = new OutputTag<string>('late');

/** Pairs of the two sides with the same key and timestamps at most BOUND apart, each emitted once. */
class BoundedJoin extends KeyedCoProcessFunction<string, Side, Side, string> {
  private left!: ListState<Side>;
  private right!: ListState<Side>;

  override open(): void {
    this.left = this.getRuntimeContext().getListState(new ListStateDescriptor<Side>('left'));
    this.right = this.getRuntimeContext().getListState(new ListStateDescriptor<Side>('right'));
  }

  processElement1(l: Side, ctx: KeyedCoProcessContext<string>, out: Collector<string>): void {
    this.onSide(l, ctx, out, this.left, this.right, (o) => `${l.id}+${o.id}`);
  }

  processElement2(r: Side, ctx: KeyedCoProcessContext<string>, out: Collector<string>): void {
    this.onSide(r, ctx, out, this.right, this.left, (o) => `${o.id}+${r.id}`);
  }

  private onSide(
    e: Side,
    ctx: KeyedCoProcessContext<string>,
    out: Collector<string>,
    mine: ListState<Side>,
    other: ListState<Side>,
    pair: (o: Side) => string,
  ): void {
    if (e.ts <= ctx.timerService().currentWatermark()) {
      ctx.output(late, e.id);
      return;
    }
    for (const o of other.get()) if (Math.abs(o.ts - e.ts) <= BOUND) out.collect(pair(o));
    mine.add(e);
    ctx.timerService().registerEventTimeTimer(e.ts + BOUND);
  }

  override onTimer(time: number, _ctx: CoOnTimerContext<string>): void {
    for (const s of [this.left, this.right]) {
      const keep = [...s.get()].filter((e) => e.ts + BOUND > time);
      if (keep.length === 0) s.clear();
      else s.update(keep);
    }
  }
}

type Step = { input: 1 | 2; kind: 'record'; e: Side } | { input: 1 | 2; kind: 'watermark'; ts: number };

/** Two inputs interleaved at random, each out of order by up to 120 ms with watermarks 90 ms behind its own largest timestamp. */
function script(seed: number, n: number, keys: number): Step[] {
  const rnd = mulberry32(seed);
  const steps: Step[] = [];
  const maxTs = [0, -Infinity, -Infinity];
  const wm = [0, -Infinity, -Infinity];
  const count = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const input = rnd() < 0.5 ? 1 : 2;
    const ts = Math.max(0, i * 4 + Math.floor(rnd() * 240) - 120);
    steps.push({
      input,
      kind: 'record',
      e: { id: `${input === 1 ? 'L' : 'R'}${count[input]!++}`, key: `k${Math.floor(rnd() * keys)}`, ts },
    });
    maxTs[input] = Math.max(maxTs[input]!, ts);
    if (rnd() < 0.08 && maxTs[input]! - 90 > wm[input]!)
      steps.push({ input, kind: 'watermark', ts: (wm[input] = maxTs[input]! - 90) });
  }
  return steps;
}

/** The plain loop: on-time records (after the smaller of both watermarks), every close pair once, at the later arrival's timestamp. */
function reference(steps: readonly Step[]): { pairs: string[]; late: string[] } {
  const wm = [0, -Infinity, -Infinity];
  const onTime: { e: Side; input: number; order: number }[] = [];
  const lateIds: string[] = [];
  steps.forEach((s, order) => {
    if (s.kind === 'watermark') wm[s.input] = Math.max(wm[s.input]!, s.ts);
    else if (s.e.ts <= Math.min(wm[1]!, wm[2]!)) lateIds.push(s.e.id);
    else onTime.push({ e: s.e, input: s.input, order });
  });
  const pairs: string[] = [];
  for (const l of onTime.filter((x) => x.input === 1)) {
    for (const r of onTime.filter((x) => x.input === 2)) {
      if (l.e.key !== r.e.key || Math.abs(l.e.ts - r.e.ts) > BOUND) continue;
      pairs.push(`${l.e.id}+${r.e.id}@${(l.order > r.order ? l : r).e.ts}`);
    }
  }
  return { pairs: pairs.sort(), late: lateIds };
}

const key = (s: Side) => s.key;

type TwoInputs = Pick<
  KeyedTwoInputHarness<string, Side, Side, string>,
  'processElement1' | 'processElement2' | 'processWatermark1' | 'processWatermark2'
>;

function feed(h: TwoInputs, steps: readonly Step[]): void {
  for (const s of steps) {
    if (s.kind === 'record') {
      if (s.input === 1) h.processElement1(s.e, s.e.ts);
      else h.processElement2(s.e, s.e.ts);
    } else if (s.input === 1) h.processWatermark1(s.ts);
    else h.processWatermark2(s.ts);
  }
}

function pairsOf(h: KeyedTwoInputHarness<string, Side, Side, string>): string[] {
  return h.extractOutputStreamRecords().map((r) => `${r.value}@${r.timestamp}`);
}

describe('KeyedTwoInputHarness', () => {
  const steps = script(3, 1200, 15);
  const ref = reference(steps);

  it('joins two out-of-order inputs with their own watermarks as the plain loop does, and cleans up with timers', async () => {
    const h = new KeyedTwoInputHarness(new BoundedJoin(), key, key);
    await h.open();
    feed(h, steps);
    expect(pairsOf(h).sort()).toEqual(ref.pairs);
    expect(h.getSideOutput(late).map((r) => r.value)).toEqual(ref.late);
    expect(ref.pairs.length).toBeGreaterThan(100);
    expect(ref.late.length).toBeGreaterThan(5);
    // Both inputs at the end: every buffered row is cleaned up, every timer fired.
    h.processWatermark(Number.MAX_SAFE_INTEGER);
    expect(h.numEventTimeTimers()).toBe(0);
    expect(h.numKeyedStateEntries()).toBe(0);
    await h.close();
  });

  it('restores half way into a new harness on the level backend: the same pairs as without the snapshot', async () => {
    const cut = Math.floor(steps.length / 2);
    const first = new KeyedTwoInputHarness(new BoundedJoin(), key, key);
    await first.open();
    feed(first, steps.slice(0, cut));
    const before = pairsOf(first);
    const buffered = first.numKeyedStateEntries();
    const snapshot: HarnessSnapshot = await first.snapshot();
    await first.close();

    const second = new KeyedTwoInputHarness(new BoundedJoin(), key, key, { stateBackend: 'level' });
    await second.initializeState(snapshot);
    await second.open();
    expect(second.numKeyedStateEntries()).toBe(buffered);
    // Watermarks are not in a snapshot: each input sends its last one again (in a job, the restored sources would).
    const last = (input: 1 | 2) =>
      Math.max(
        ...steps
          .slice(0, cut)
          .filter((s): s is Extract<Step, { kind: 'watermark' }> => s.kind === 'watermark' && s.input === input)
          .map((s) => s.ts),
      );
    second.processWatermark1(last(1));
    second.processWatermark2(last(2));
    expect(second.extractOutput()).toEqual([new Watermark(Math.min(last(1), last(2)))]);
    feed(second, steps.slice(cut));
    expect([...before, ...pairsOf(second)].sort()).toEqual(ref.pairs);
    await second.close();
  });
});

describe('TwoInputHarness', () => {
  it('runs a CoProcessFunction: a control input filters the other; the watermark is the smaller of both', async () => {
    class Blocklist extends CoProcessFunction<string, string, string> {
      private readonly blocked = new Set<string>();
      processElement1(word: string, ctx: CoProcessContext, out: Collector<string>): void {
        if (!this.blocked.has(word)) out.collect(`${word}@${ctx.timestamp()}`);
      }
      processElement2(word: string): void {
        this.blocked.add(word);
      }
    }
    const h = new TwoInputHarness(new Blocklist());
    await h.open();
    h.processElement1('a', 1);
    h.processElement2('b', 2);
    h.processElement1('b', 3);
    h.processElement1('c');
    h.processWatermark1(10);
    h.processWatermark2(5);
    h.processWatermark2(20);
    expect(h.extractOutput()).toEqual([
      new StreamRecord('a@1', 1),
      new StreamRecord('c@null'),
      new Watermark(5),
      new Watermark(10),
    ]);
    await h.close();
  });
});

describe('TwoInputPipelineHarness', () => {
  /** Each input out of order by less than its watermark's 60 ms bound: no late data, so the result is the nested loop's. */
  function sides(seed: number, n: number): { lefts: Side[]; rights: Side[]; steps: Step[] } {
    const rnd = mulberry32(seed);
    const lefts: Side[] = [];
    const rights: Side[] = [];
    const steps: Step[] = [];
    const maxTs = [0, -Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      const input = rnd() < 0.5 ? 1 : 2;
      const e = {
        id: `${input === 1 ? 'L' : 'R'}${i}`,
        key: `k${Math.floor(rnd() * 6)}`,
        ts: i * 3 + Math.floor(rnd() * 60),
      };
      (input === 1 ? lefts : rights).push(e);
      steps.push({ input, kind: 'record', e });
      if (e.ts > maxTs[input]!) steps.push({ input, kind: 'watermark', ts: (maxTs[input] = e.ts) - 61 });
    }
    return { lefts, rights, steps };
  }

  for (const [name, assigner, ref] of [
    ['sliding', SlidingEventTimeWindows.of(100, 25), { kind: 'sliding', size: 100, slide: 25 }],
    ['session', EventTimeSessionWindows.withGap(20), { kind: 'session', gap: 20 }],
  ] as const) {
    it(`a ${name} window join written with the normal API matches the nested loop; watermarks combine over the union`, async () => {
      const { lefts, rights, steps } = sides(17, 800);
      const h = new TwoInputPipelineHarness((a: DataStream<Side>, b: DataStream<Side>) =>
        a
          .join(b)
          .where((l) => l.key)
          .equalTo((r) => r.key)
          .window(assigner)
          .apply((l, r) => `${l.id}+${r.id}`),
      );
      await h.open();
      feed(h, steps);
      // The join's window operator sees the smaller watermark of the two inputs, never the larger.
      const wm = (input: 1 | 2) =>
        Math.max(
          ...steps
            .filter((s): s is Extract<Step, { kind: 'watermark' }> => s.kind === 'watermark' && s.input === input)
            .map((s) => s.ts),
        );
      const marks = h.getOutput().filter((e): e is Watermark => e instanceof Watermark);
      expect(marks.at(-1)!.timestamp).toBe(Math.min(wm(1), wm(2)));
      await h.endInput();
      const want = referenceWindowJoin(
        lefts,
        rights,
        { assigner: ref, leftKey: key, rightKey: key, leftTs: (l) => l.ts, rightTs: (r) => r.ts },
        (l, r) => `${l.id}+${r.id}`,
      );
      expect(h.extractOutputValues().sort()).toEqual(want.sort());
      expect(want.length).toBeGreaterThan(200);
      await h.close();
    });
  }
});
