// Sliced windows (taskmanager/operators/window-slicing.ts) change nothing but the cost: on fixed-seed
// random out-of-order input with late records, the sliced operator emits exactly what the general
// path emits, and what the plain window reference computes, also when its state goes through
// checkpoints into operators at another parallelism (key groups moved) on either backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../api/functions.js';
import { EventTimeTrigger } from '../../api/windowing/event-time-trigger.js';
import { SlidingEventTimeWindows } from '../../api/windowing/sliding-windows.js';
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-windows.js';
import type {
  AggregateFunction,
  ProcessWindowContext,
  Trigger,
  Window,
  WindowAssigner,
  WindowOperatorSpec,
} from '../../api/windowing/types.js';
import { windowOperator as windowOperatorSpec } from '../../api/windowing/window-operator-spec.js';
import {
  assignToKeyGroup,
  keyGroupRangeFor,
  operatorIndexForKeyGroup,
  type KeyGroupRange,
} from '../../common/keygroups.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { WindowOperator } from '../../taskmanager/operators/window-operator.js';
import { SLICES_STATE } from '../../taskmanager/operators/window-slicing.js';
import { createKeyedStateBackend, restoreKeyedState } from '../../taskmanager/state/backend-factory.js';
import { OperatorStateBackend } from '../../taskmanager/state/operator-state.js';
import { readSnapshotFile, writeSnapshotFile } from '../../taskmanager/state/snapshot-file.js';
import type { KeyedStateBackend } from '../../taskmanager/state/types.js';
import { ManualTime } from '../helpers/manual-time.js';
import { initializeOperator, type BackendType } from '../helpers/operator-state.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { sumReduce, tw, variantSpec as variants, type Rec, type Variant } from '../helpers/window-variants.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { mulberry32 } from '../reference/random.js';
import { perEventWatermarkStream, type StreamEvent } from '../reference/stream.js';
import { referenceWindows, type RefAssigner } from '../reference/windows.js';
import { windowConfig } from '../helpers/descriptors.js';

const LATE = 'late';
const MAX_PARALLELISM = 128;

const countSum: AggregateFunction<unknown, unknown, unknown> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (r, acc) => {
    const a = acc as { count: number; sum: number };
    a.count++;
    a.sum += (r as Rec).v;
    return a;
  },
  getResult: (acc) => `${(acc as { count: number }).count}:${(acc as { sum: number }).sum}`,
  // Reuses its second argument as the result, which Flink's contract allows.
  merge: (a, b) => {
    const x = a as { count: number; sum: number };
    const y = b as { count: number; sum: number };
    y.count += x.count;
    y.sum += x.sum;
    return y;
  },
};

const render = (
  key: unknown,
  ctx: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
): void => {
  // Elements in arrival order (process over all elements keeps them).
  const all = [...elements].map((e) => (typeof e === 'string' ? e : (e as Rec).v));
  out.collect(`${String(key)}|${tw(ctx).start}|${tw(ctx).end}|${all.join(',')}`);
};

function variantSpec(variant: Variant): Partial<WindowOperatorSpec> {
  return variants(variant, countSum, render);
}

function expectedLine(variant: Variant, key: string, w: { start: number; end: number }, vs: number[]): string {
  const sum = vs.reduce((a, b) => a + b, 0);
  switch (variant) {
    case 'reduce':
      return JSON.stringify({ key, v: sum });
    case 'aggregate':
      return JSON.stringify(`${vs.length}:${sum}`);
    case 'process':
      return JSON.stringify(`${key}|${w.start}|${w.end}|${vs.join(',')}`);
    case 'reduce+process':
      return JSON.stringify(`${key}|${w.start}|${w.end}|${sum}`);
    case 'aggregate+process':
      return JSON.stringify(`${key}|${w.start}|${w.end}|${vs.length}:${sum}`);
  }
}

function assignerOf(ref: RefAssigner): WindowAssigner<unknown, Window> {
  if (ref.kind === 'tumbling')
    return TumblingEventTimeWindows.of(ref.size, ref.offset ?? 0) as unknown as WindowAssigner<unknown, Window>;
  if (ref.kind === 'sliding')
    return SlidingEventTimeWindows.of(ref.size, ref.slide, ref.offset ?? 0) as unknown as WindowAssigner<
      unknown,
      Window
    >;
  throw new Error('sessions are not sliced');
}

/** The EventTimeTrigger's behaviour in an object that is not one: the operator keeps the general path. */
function generalTrigger(): Trigger<unknown, Window> {
  return Object.create(EventTimeTrigger.create()) as Trigger<unknown, Window>;
}

function makeOperator(spec: WindowOperatorSpec, output: Output, time: ManualTime): WindowOperator {
  return new WindowOperator({
    descriptor: {
      id: 'a'.repeat(32),
      name: 'Window',
      kind: 'window',
      config: windowConfig('k'),
      stateful: true,
      outputs: [],
    },
    userCode: spec,
    keySelector: (r) => (r as Rec).key,
    output,
    services: fakeTaskServices({ processingTime: time, taskName: 'Window' }),
  });
}

type Emitted =
  | { kind: 'out'; value: unknown; ts: number | undefined }
  | { kind: 'side'; tag: string; value: unknown; ts: number | undefined }
  | { kind: 'wm'; ts: number };

class SwitchableOutput implements Output {
  enabled = true;
  constructor(readonly log: Emitted[]) {}
  collect(value: unknown, ts: number | undefined): void {
    if (this.enabled) this.log.push({ kind: 'out', value: structuredClone(value), ts });
  }
  collectSide(tag: string, value: unknown, ts: number | undefined): void {
    if (this.enabled) this.log.push({ kind: 'side', tag, value: structuredClone(value), ts });
  }
  emitWatermark(ts: number): void {
    if (this.enabled) this.log.push({ kind: 'wm', ts });
  }
}

/** Records moving forward by up to 2 * step with disorder up to `disorder`; keys k0..k(keys-1). */
function randomRecords(
  seed: number,
  n: number,
  keys: number,
  step: number,
  disorder: number,
): { rec: Rec; ts: number }[] {
  const r = mulberry32(seed);
  let base = -3000;
  return Array.from({ length: n }, () => {
    base += Math.floor(r() * step * 2);
    return {
      rec: { key: `k${Math.floor(r() * keys)}`, v: 1 + Math.floor(r() * 100) },
      ts: base - Math.floor(r() * disorder),
    };
  });
}

function streamOf(seed: number, n: number, keys: number, disorder: number, bound: number): StreamEvent<Rec>[] {
  const records = randomRecords(seed, n, keys, 8, disorder);
  return perEventWatermarkStream(records, (x) => x.ts, bound).map((ev) =>
    ev.kind === 'record' ? { ...ev, value: ev.value.rec } : ev,
  );
}

/** Output between watermarks sorted (order within one is free); side outputs as they came. */
function segments(log: readonly Emitted[]): string[][] {
  const segs: string[][] = [[]];
  for (const e of log) {
    if (e.kind === 'wm') segs.push([]);
    segs[segs.length - 1]!.push(JSON.stringify(e));
  }
  return segs.map((s) => s.sort());
}

const outputs = (log: readonly Emitted[]): string[] =>
  log.filter((e) => e.kind === 'out').map((e) => JSON.stringify((e as { value: unknown }).value));
const lateOnes = (log: readonly Emitted[]): string[] =>
  log.filter((e) => e.kind === 'side' && e.tag === LATE).map((e) => JSON.stringify((e as { value: unknown }).value));

interface Case {
  name: string;
  assigner: RefAssigner;
  lateness: number;
  variants: Variant[];
  seed: number;
  disorder: number;
}

// Disorder beyond the watermark's bound (120 ms) plus lateness, and beyond size - slide for sliding windows, so some records are late.
const CASES: Case[] = [
  {
    name: 'tumbling(400, offset 70)',
    assigner: { kind: 'tumbling', size: 400, offset: 70 },
    lateness: 0,
    variants: ['reduce', 'aggregate', 'process', 'aggregate+process'],
    seed: 11,
    disorder: 400,
  },
  {
    name: 'tumbling(300), lateness 150',
    assigner: { kind: 'tumbling', size: 300 },
    lateness: 150,
    variants: ['reduce+process', 'process', 'aggregate'],
    seed: 12,
    disorder: 700,
  },
  {
    name: 'sliding(600, 200)',
    assigner: { kind: 'sliding', size: 600, slide: 200 },
    lateness: 0,
    variants: ['reduce', 'aggregate', 'aggregate+process'],
    seed: 13,
    disorder: 900,
  },
  // Slices of gcd(500, 200) = 100: windows end every second slice.
  {
    name: 'sliding(500, 200, offset 30), lateness 250',
    assigner: { kind: 'sliding', size: 500, slide: 200, offset: 30 },
    lateness: 250,
    variants: ['reduce+process', 'aggregate', 'reduce'],
    seed: 14,
    disorder: 1100,
  },
  {
    name: 'sliding(300, 300) (one slice per window)',
    assigner: { kind: 'sliding', size: 300, slide: 300 },
    lateness: 50,
    variants: ['aggregate+process'],
    seed: 15,
    disorder: 500,
  },
];

function specFor(c: Case, variant: Variant, trigger?: Trigger<unknown, Window>): WindowOperatorSpec {
  const assigner = assignerOf(c.assigner);
  return {
    assigner,
    trigger: trigger ?? assigner.getDefaultTrigger(),
    allowedLateness: c.lateness,
    lateDataTag: LATE,
    ...variantSpec(variant),
  };
}

describe('sliced windows emit what the general path emits', () => {
  for (const c of CASES) {
    const stream = streamOf(c.seed, 2500, 7, c.disorder, 120);
    for (const variant of c.variants) {
      it(`${c.name} with ${variant}`, async () => {
        const run = async (trigger?: Trigger<unknown, Window>) => {
          const log: Emitted[] = [];
          const op = makeOperator(specFor(c, variant, trigger), new SwitchableOutput(log), new ManualTime());
          await initializeOperator(op);
          for (const ev of stream) {
            if (ev.kind === 'record') op.processElement(ev.value, ev.timestamp);
            else op.processWatermark(ev.timestamp);
          }
          return { log, op };
        };
        const sliced = await run();
        const general = await run(generalTrigger());
        expect(sliced.op.sliced).toBe(true);
        expect(general.op.sliced).toBe(false);
        expect(lateOnes(sliced.log).length).toBeGreaterThan(0);
        expect(outputs(sliced.log).length).toBeGreaterThan(100);
        expect(segments(sliced.log)).toEqual(segments(general.log));
        expect(lateOnes(sliced.log)).toEqual(lateOnes(general.log));
        expect(sliced.op.numLateRecordsDropped).toBe(0);
        // Everything is cleaned up at the end.
        expect(await sliced.op.numWindows()).toBe(0);
        expect(sliced.op.numTimers()).toBe(0);
      });
    }
  }

  it('sets one window timer per key whose slices follow one another (a chain), and fires what the general path fires', async () => {
    // Windows of 1000 sliding by 100: each slice is in ten windows, which would be ten timers per slice.
    const spec = (trigger?: Trigger<unknown, Window>): WindowOperatorSpec => ({
      ...specFor(
        {
          name: 'sliding(1000, 100)',
          assigner: { kind: 'sliding', size: 1000, slide: 100 },
          lateness: 0,
          variants: [],
          seed: 0,
          disorder: 0,
        },
        'aggregate+process',
      ),
      ...(trigger ? { trigger } : {}),
    });
    const run = async (trigger?: Trigger<unknown, Window>) => {
      const log: Emitted[] = [];
      const op = makeOperator(spec(trigger), new SwitchableOutput(log), new ManualTime());
      await initializeOperator(op);
      return { log, op };
    };
    const sliced = await run();
    const general = await run(generalTrigger());
    const r = mulberry32(21);
    // Keys k0..k4 in each of 30 consecutive slices; k5 in slices 0 and 25 only (two chains).
    for (let slice = 0; slice < 30; slice++) {
      for (let i = 0; i < 20; i++) {
        const rec = { key: `k${Math.floor(r() * 5)}`, v: 1 + Math.floor(r() * 9) };
        const ts = slice * 100 + Math.floor(r() * 100);
        for (const { op } of [sliced, general]) op.processElement(rec, ts);
      }
      if (slice === 0 || slice === 25)
        for (const { op } of [sliced, general]) op.processElement({ key: 'k5', v: 1 }, slice * 100 + 50);
    }
    // The general path: one timer per window of each key; the chain: one per key and run of slices.
    expect(sliced.op.numTimers()).toBe(7);
    expect(general.op.numTimers()).toBe(5 * 39 + 2 * 10);
    for (const wm of [450, 1999, 2499, 3000, 5000]) {
      for (const { op } of [sliced, general]) op.processWatermark(wm);
      expect(sliced.op.numTimers()).toBeLessThanOrEqual(7);
    }
    expect(outputs(sliced.log).length).toBe(5 * 39 + 2 * 10);
    expect(segments(sliced.log)).toEqual(segments(general.log));
    for (const { op } of [sliced, general]) op.processWatermark(Number.MAX_SAFE_INTEGER);
    expect(segments(sliced.log)).toEqual(segments(general.log));
    expect(sliced.op.numTimers()).toBe(0);
    expect(await sliced.op.numWindows()).toBe(0);
  });

  it('keeps the general path where slicing would show: process functions on sliding windows, evictors, custom triggers, aggregates without merge()', () => {
    const sliding = assignerOf({ kind: 'sliding', size: 600, slide: 200 });
    const tumbling = assignerOf({ kind: 'tumbling', size: 600 });
    const time = new ManualTime();
    const sliced = (spec: WindowOperatorSpec) => makeOperator(spec, new SwitchableOutput([]), time).sliced;
    expect(
      sliced({
        assigner: sliding,
        trigger: sliding.getDefaultTrigger(),
        allowedLateness: 0,
        aggregateFunction: countSum,
      }),
    ).toBe(true);
    expect(
      sliced({ assigner: sliding, trigger: sliding.getDefaultTrigger(), allowedLateness: 0, windowFunction: render }),
    ).toBe(false);
    expect(
      sliced({ assigner: tumbling, trigger: tumbling.getDefaultTrigger(), allowedLateness: 0, windowFunction: render }),
    ).toBe(true);
    expect(
      sliced({ assigner: tumbling, trigger: generalTrigger(), allowedLateness: 0, reduceFunction: sumReduce }),
    ).toBe(false);
    expect(
      sliced({
        assigner: tumbling,
        trigger: tumbling.getDefaultTrigger(),
        allowedLateness: 0,
        reduceFunction: sumReduce,
        evictor: { evictBefore: (e) => e, evictAfter: (e) => e, describe: () => ({}) },
      }),
    ).toBe(false);
    // The API marks an AggregateFunction without merge(): sliding windows could not combine its slices.
    const noMerge = { createAccumulator: () => 0, add: (_v: unknown, a: number) => a + 1, getResult: (a: number) => a };
    const built = (assigner: WindowAssigner<unknown, Window>) =>
      windowOperatorSpec(
        {
          assigner: assigner as never,
          trigger: assigner.getDefaultTrigger() as never,
          evictor: undefined,
          allowedLateness: 0,
          lateDataTag: undefined,
        },
        { kind: 'aggregate', aggregate: noMerge },
        false,
        'aggregate',
      ).userFunction as WindowOperatorSpec;
    expect(sliced(built(sliding))).toBe(false);
    expect(sliced(built(tumbling))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Checkpoints and restores at another parallelism: each subtask owns its key groups; at a cut every
// subtask snapshots (and goes on a little, its output dropped, before its file is written), and
// the next parallelism's subtasks restore from all files, each taking its key groups.

interface Subtask {
  op: WindowOperator;
  keyed: KeyedStateBackend;
  range: KeyGroupRange;
  output: SwitchableOutput;
  dir: string | undefined;
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

async function startSubtask(
  spec: WindowOperatorSpec,
  backend: BackendType,
  range: KeyGroupRange,
  log: Emitted[],
  files: { path: string; sha256: string }[],
): Promise<Subtask> {
  const dir = backend === 'level' ? tempDir('weir-slices-level-') : undefined;
  const keyed = await createKeyedStateBackend(backend, {
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: range,
    dir: dir ?? '',
  });
  const output = new SwitchableOutput(log);
  const op = makeOperator(spec, output, new ManualTime());
  if (files.length > 0) await restoreKeyedState(keyed, files, (meta, entry) => op.restoreRawKeyedState(meta, entry));
  await op.initializeState({
    isRestored: () => files.length > 0,
    getOperatorStateStore: () => new OperatorStateBackend(),
    keyedStateBackend: keyed,
    getBroadcastState: () => undefined as never,
  });
  await op.open();
  return { op, keyed, range, output, dir };
}

/** Runs `stream` through subtasks at each parallelism of `plan` in turn; returns everything emitted and the states each checkpoint held. */
async function runRescaled(
  spec: () => WindowOperatorSpec,
  stream: StreamEvent<Rec>[],
  plan: { parallelism: number; backend: BackendType }[],
  stepsAfterBarrier: number,
): Promise<{ log: Emitted[]; states: string[][] }> {
  const log: Emitted[] = [];
  const states: string[][] = [];
  const snapshots = tempDir('weir-slices-chk-');
  let files: { path: string; sha256: string }[] = [];
  let next = 0;
  let lastWatermark: number | undefined;
  for (let part = 0; part < plan.length; part++) {
    const { parallelism, backend } = plan[part]!;
    const subtasks: Subtask[] = [];
    for (let i = 0; i < parallelism; i++)
      subtasks.push(await startSubtask(spec(), backend, keyGroupRangeFor(MAX_PARALLELISM, parallelism, i), log, files));
    // A snapshot holds no watermark: the restored subtasks get the last one again, as replayed sources soon give it.
    if (lastWatermark !== undefined) {
      for (const s of subtasks) {
        s.output.enabled = false;
        s.op.processWatermark(lastWatermark);
        s.output.enabled = true;
      }
    }
    const end = part === plan.length - 1 ? stream.length : Math.floor(((part + 1) * stream.length) / plan.length);
    const deliver = (ev: StreamEvent<Rec>) => {
      if (ev.kind === 'record') {
        const owner = operatorIndexForKeyGroup(
          MAX_PARALLELISM,
          parallelism,
          assignToKeyGroup(ev.value.key, MAX_PARALLELISM),
        );
        subtasks[owner]!.op.processElement(ev.value, ev.timestamp);
      } else for (const s of subtasks) s.op.processWatermark(ev.timestamp);
    };
    for (; next < end; next++) {
      const ev = stream[next]!;
      deliver(ev);
      if (ev.kind === 'watermark') lastWatermark = ev.timestamp;
    }
    if (part === plan.length - 1) {
      for (const s of subtasks) await s.op.close();
      for (const s of subtasks) await s.keyed.dispose();
      break;
    }
    // The barrier: every subtask takes the synchronous part of its checkpoint.
    const taken = subtasks.map((s, i) => ({
      s,
      i,
      keyedSnapshot: s.keyed.snapshot(),
      raw: s.op.snapshotRawKeyedState(),
    }));
    // They go on a little before the files are written (that output is lost with them).
    for (const s of subtasks) s.output.enabled = false;
    for (let i = next; i < Math.min(next + stepsAfterBarrier, stream.length); i++) deliver(stream[i]!);
    files = [];
    for (const { s, i, keyedSnapshot, raw } of taken) {
      const path = join(snapshots, `chk-${part}-${i}`);
      try {
        const { sha256 } = await writeSnapshotFile(path, {
          operatorId: 'f'.repeat(32),
          subtaskIndex: i,
          maxParallelism: MAX_PARALLELISM,
          keyGroupRange: s.range,
          operatorStates: [],
          keyed: keyedSnapshot,
          extraKeyed: raw && raw.entries.length > 0 ? raw : undefined,
        });
        files.push({ path, sha256 });
      } finally {
        keyedSnapshot.release();
      }
      await s.op.close();
      await s.keyed.dispose();
    }
    states.push(
      [
        ...new Set(
          (
            await Promise.all(files.map(async (f) => (await readSnapshotFile(f.path)).states.map((m) => m.name)))
          ).flat(),
        ),
      ].sort(),
    );
  }
  return { log, states };
}

describe('sliced windows restored at another parallelism match the reference', () => {
  const plans: { name: string; steps: { parallelism: number; backend: BackendType }[] }[] = [
    {
      name: 'heap p2 -> heap p3 -> level p1',
      steps: [
        { parallelism: 2, backend: 'heap' },
        { parallelism: 3, backend: 'heap' },
        { parallelism: 1, backend: 'level' },
      ],
    },
    {
      name: 'level p3 -> heap p2 -> level p4',
      steps: [
        { parallelism: 3, backend: 'level' },
        { parallelism: 2, backend: 'heap' },
        { parallelism: 4, backend: 'level' },
      ],
    },
  ];
  let planIndex = 0;
  for (const c of CASES) {
    const stream = streamOf(c.seed + 100, 3000, 12, c.disorder, 120);
    for (const variant of c.variants.slice(0, 2)) {
      const plan = plans[planIndex++ % plans.length]!;
      it(`${c.name} with ${variant}, ${plan.name}`, async () => {
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
        expect(ref.fired.length).toBeGreaterThan(100);
        expect(ref.late.length).toBeGreaterThan(0);
        if (c.lateness > 0) expect(ref.lateFirings).toBeGreaterThan(0);
        const { log, states } = await runRescaled(() => specFor(c, variant), stream, plan.steps, 50);
        expect(multisetDiff(outputs(log), ref.fired)).toEqual(NO_DIFF);
        expect(
          multisetDiff(
            lateOnes(log),
            ref.late.map((r) => JSON.stringify(r)),
          ),
        ).toEqual(NO_DIFF);
        // The checkpoints held slices (sliding windows; a tumbling window is kept as the general path keeps it) and timers.
        const sliced = c.assigner.kind === 'sliding' && c.assigner.size !== c.assigner.slide;
        for (const names of states) {
          expect(names.includes(SLICES_STATE)).toBe(sliced);
          expect(names).toContain('_window-contents');
          expect(names).toContain('_timer/window-timers/event');
        }
      });
    }
  }
});
