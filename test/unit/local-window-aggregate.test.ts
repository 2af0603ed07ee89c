// A window aggregation split in two (taskmanager/operators/local-window-aggregate.ts) emits what the
// window operator alone emits: two upstream subtasks with fixed-seed random out-of-order input
// (late records included) feed a window operator through a simulated exchange, once as elements
// and once through a local phase each; the channels interleave in the same seeded order of
// watermark-to-watermark segments, and the window operator's watermark is the lower of the two.
import { describe, expect, it } from 'vitest';
import { SlidingEventTimeWindows } from '../../api/windowing/sliding-windows.js';
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-windows.js';
import type { AggregateFunction, Window, WindowAssigner, WindowOperatorSpec } from '../../api/windowing/types.js';
import type { WindowConfig } from '../../common/jobgraph.js';
import {
  LocalWindowAggregateOperator,
  MAX_PARTIALS,
  type LocalWindowAggregateCode,
} from '../../taskmanager/operators/local-window-aggregate.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { WindowOperator } from '../../taskmanager/operators/window-operator.js';
import { windowConfig } from '../helpers/descriptors.js';
import { ManualTime } from '../helpers/manual-time.js';
import { initializeOperator } from '../helpers/operator-state.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { sumReduce, type Rec } from '../helpers/window-variants.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { mulberry32 } from '../reference/random.js';
import { MAX_WATERMARK, perEventWatermarkStream, type StreamEvent } from '../reference/stream.js';

const countSum: AggregateFunction<unknown, { count: number; sum: number }, string> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (r, acc) => {
    acc.count++;
    acc.sum += (r as Rec).v;
    return acc;
  },
  getResult: (acc) => `${acc.count}:${acc.sum}`,
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
};

type Item = { kind: 'record'; value: unknown; ts: number | undefined } | { kind: 'wm'; ts: number };

class ListOutput implements Output {
  readonly items: Item[] = [];
  collect(value: unknown, ts: number | undefined): void {
    // What the exchange does: the receiver gets its own copy.
    this.items.push({ kind: 'record', value: structuredClone(value), ts });
  }
  collectSide(): void {
    throw new Error('no side outputs here');
  }
  emitWatermark(ts: number): void {
    this.items.push({ kind: 'wm', ts });
  }
}

const services = () => fakeTaskServices({ processingTime: new ManualTime(), taskName: 'Window' });

async function globalWindow(spec: WindowOperatorSpec, preAggregated: boolean, output: Output): Promise<WindowOperator> {
  const config: WindowConfig = { ...windowConfig('k'), ...(preAggregated ? { preAggregated } : {}) };
  const op = new WindowOperator({
    descriptor: { id: 'a'.repeat(32), name: 'Window', kind: 'window', config, stateful: true, outputs: [] },
    userCode: spec,
    keySelector: (r) => (r as Rec).key,
    output,
    services: services(),
  });
  // Heap state keeps no files: nothing to dispose of.
  await initializeOperator(op);
  return op;
}

function localPhase(spec: WindowOperatorSpec, output: Output): LocalWindowAggregateOperator {
  const code: LocalWindowAggregateCode = { spec, key: (r) => (r as Rec).key };
  return new LocalWindowAggregateOperator({
    descriptor: {
      id: 'b'.repeat(32),
      name: 'Local Window',
      kind: 'localWindowAggregate',
      config: { windowOperator: 'a'.repeat(32) },
      stateful: false,
      outputs: [],
    },
    userCode: code,
    output,
    services: services(),
  });
}

/** One upstream subtask's stream: records moving forward, some of them beyond the watermark's bound and their windows. */
function upstream(seed: number, n: number, keys: number, disorder: number): StreamEvent<Rec>[] {
  const r = mulberry32(seed);
  let base = 0;
  const records = Array.from({ length: n }, () => {
    base += Math.floor(r() * 16);
    return {
      rec: { key: `k${Math.floor(r() * keys)}`, v: 1 + Math.floor(r() * 100) },
      ts: base - Math.floor(r() * disorder),
    };
  });
  return perEventWatermarkStream(records, (x) => x.ts, 120).map((ev) =>
    ev.kind === 'record' ? { ...ev, value: ev.value.rec } : ev,
  );
}

/** What each upstream subtask sends, as segments ending with a watermark: through a local phase or as it is. */
function channel(events: StreamEvent<Rec>[], local: WindowOperatorSpec | undefined, barriers: () => boolean): Item[] {
  const out = new ListOutput();
  const phase = local && localPhase(local, out);
  for (const ev of events) {
    if (ev.kind === 'watermark') {
      if (phase) phase.processWatermark(ev.timestamp);
      else out.emitWatermark(ev.timestamp);
      continue;
    }
    if (phase) phase.processElement(ev.value, ev.timestamp);
    else out.collect(ev.value, ev.timestamp);
    if (phase && barriers()) phase.prepareSnapshotPreBarrier(1);
  }
  return out.items;
}

function segmentsOf(items: Item[]): Item[][] {
  const segs: Item[][] = [[]];
  for (const it of items) {
    segs[segs.length - 1]!.push(it);
    if (it.kind === 'wm') segs.push([]);
  }
  return segs.filter((s) => s.length > 0);
}

/** Feeds the channels' segments in a seeded order into the window operator, through a watermark valve. */
async function runExchange(
  spec: WindowOperatorSpec,
  preAggregated: boolean,
  channels: Item[][],
  seed: number,
): Promise<{ lines: string[]; dropped: number; received: number }> {
  const out = new ListOutput();
  const op = await globalWindow(spec, preAggregated, out);
  const segs = channels.map(segmentsOf);
  const next = segs.map(() => 0);
  const wms = segs.map(() => Number.MIN_SAFE_INTEGER);
  let current = Number.MIN_SAFE_INTEGER;
  let received = 0;
  const r = mulberry32(seed);
  for (;;) {
    const open = segs.map((s, i) => i).filter((i) => next[i]! < segs[i]!.length);
    if (open.length === 0) break;
    const c = open[Math.floor(r() * open.length)]!;
    for (const it of segs[c]![next[c]!++]!) {
      if (it.kind === 'record') {
        received++;
        op.processElement(it.value, it.ts);
        continue;
      }
      wms[c] = it.ts;
      const min = Math.min(...wms);
      if (min > current) {
        current = min;
        op.processWatermark(min);
      }
    }
  }
  const lines = out.items.flatMap((it) =>
    it.kind === 'record' ? [`${String(it.ts)} ${JSON.stringify(it.value)}`] : [],
  );
  return { lines, dropped: op.numLateRecordsDropped, received };
}

function spec(assigner: WindowAssigner<unknown, Window>, fn: 'reduce' | 'aggregate'): WindowOperatorSpec {
  return {
    assigner,
    trigger: assigner.getDefaultTrigger(),
    allowedLateness: 0,
    ...(fn === 'reduce' ? { reduceFunction: sumReduce } : { aggregateFunction: countSum }),
  };
}

const CASES = [
  {
    name: 'sliding(600, 200) with an aggregate',
    spec: spec(SlidingEventTimeWindows.of(600, 200) as unknown as WindowAssigner<unknown, Window>, 'aggregate'),
    seed: 21,
    disorder: 1200,
  },
  {
    name: 'sliding(500, 200, offset 30) with a reduce',
    spec: spec(SlidingEventTimeWindows.of(500, 200, 30) as unknown as WindowAssigner<unknown, Window>, 'reduce'),
    seed: 22,
    disorder: 1200,
  },
  {
    name: 'tumbling(400, offset 70) with an aggregate',
    spec: spec(TumblingEventTimeWindows.of(400, 70) as unknown as WindowAssigner<unknown, Window>, 'aggregate'),
    seed: 23,
    disorder: 500,
  },
];

describe('a window aggregation split into a local and a global phase', () => {
  for (const c of CASES) {
    it(`${c.name}: the same windows, the same late records dropped, fewer records exchanged`, async () => {
      const inputs = [upstream(c.seed, 3000, 9, c.disorder), upstream(c.seed + 100, 3000, 9, c.disorder)];
      const barrier = mulberry32(c.seed + 7);
      const onePhase = await runExchange(
        c.spec,
        false,
        inputs.map((events) => channel(events, undefined, () => false)),
        c.seed,
      );
      const twoPhase = await runExchange(
        c.spec,
        true,
        inputs.map((events) => channel(events, c.spec, () => barrier() < 0.01)),
        c.seed,
      );
      expect(onePhase.lines.length).toBeGreaterThan(200);
      expect(onePhase.dropped).toBeGreaterThan(20);
      expect(multisetDiff(twoPhase.lines, onePhase.lines)).toEqual(NO_DIFF);
      expect(twoPhase.dropped).toBe(onePhase.dropped);
      expect(twoPhase.received).toBeLessThan(onePhase.received);
    });
  }

  it('holds a partial until the watermark reaches its slice, and sends everything at a barrier and at the end', async () => {
    const out = new ListOutput();
    const s = spec(TumblingEventTimeWindows.of(100) as unknown as WindowAssigner<unknown, Window>, 'aggregate');
    const local = localPhase(s, out);
    local.processElement({ key: 'a', v: 1 }, 10);
    local.processElement({ key: 'a', v: 2 }, 20);
    local.processElement({ key: 'b', v: 5 }, 150);
    expect(out.items).toEqual([]);
    expect(local.stateEntries()).toBe(2);
    // Below the first slice's last millisecond: nothing yet.
    local.processWatermark(98);
    expect(out.items).toEqual([{ kind: 'wm', ts: 98 }]);
    local.processWatermark(99);
    expect(out.items.slice(1)).toEqual([
      { kind: 'record', value: ['a', { count: 2, sum: 3 }], ts: 99 },
      { kind: 'wm', ts: 99 },
    ]);
    // Late for this subtask: on at once, alone.
    local.processElement({ key: 'a', v: 4 }, 50);
    expect(out.items[3]).toEqual({ kind: 'record', value: ['a', { count: 1, sum: 4 }], ts: 99 });
    local.prepareSnapshotPreBarrier(1);
    expect(out.items[4]).toEqual({ kind: 'record', value: ['b', { count: 1, sum: 5 }], ts: 199 });
    expect(local.stateEntries()).toBe(0);
    local.processElement({ key: 'c', v: 7 }, 250);
    await local.finish();
    expect(out.items[5]).toEqual({ kind: 'record', value: ['c', { count: 1, sum: 7 }], ts: 299 });
    local.processWatermark(MAX_WATERMARK);
    expect(out.items.length).toBe(7);
  });

  it(`sends everything once it holds ${MAX_PARTIALS} partials`, () => {
    const out = new ListOutput();
    const s = spec(TumblingEventTimeWindows.of(100) as unknown as WindowAssigner<unknown, Window>, 'reduce');
    const local = localPhase(s, out);
    for (let i = 0; i < MAX_PARTIALS - 1; i++) local.processElement({ key: `k${i}`, v: 1 }, 10);
    expect(out.items.length).toBe(0);
    local.processElement({ key: 'k0', v: 1 }, 20);
    expect(out.items.length).toBe(0);
    local.processElement({ key: 'last', v: 1 }, 30);
    expect(out.items.length).toBe(MAX_PARTIALS);
    expect(out.items[0]).toEqual({ kind: 'record', value: ['k0', { key: 'k0', v: 2 }], ts: 99 });
    expect(local.stateEntries()).toBe(0);
  });

  it('fails on an element without a timestamp as the window would', () => {
    const s = spec(TumblingEventTimeWindows.of(100) as unknown as WindowAssigner<unknown, Window>, 'reduce');
    const local = localPhase(s, new ListOutput());
    expect(() => local.processElement({ key: 'a', v: 1 }, undefined)).toThrow(/timestamp/);
  });
});
