// How long a user's tests take, run in this process as a test would: (a) a harness test (a
// keyed function with state and event-time timers: 100 records, a watermark, a snapshot restored
// into a new harness) and (b) an in-process job (10 000 records through keyBy and a tumbling
// event-time window, executeAndCollect on the mini cluster). p50 over 20 runs each, after a
// warm-up; the aims are 50 ms and 500 ms.
import { performance } from 'node:perf_hooks';
import {
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type ValueState,
} from '../../api/index.js';
import { KeyedOneInputHarness } from '../../taskmanager/testing/index.js';
import type { Benchmark, BenchOptions, BenchmarkResult } from '../lib/benchmark.js';
import { median } from '../lib/stats.js';

const RUNS = 20;
const HARNESS_RECORDS = 100;
const JOB_RECORDS = 10_000;

interface Click {
  user: string;
  ts: number;
}

/** Counts clicks per user and says so when event time passes a click by a second. */
class CountWithTimers extends KeyedProcessFunction<string, Click, string> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  processElement(click: Click, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    this.count.update((this.count.value() ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(click.ts + 1000);
  }

  override onTimer(ts: number, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()} ${this.count.value()} at ${ts}`);
  }
}

async function harnessTest(): Promise<number> {
  const h = new KeyedOneInputHarness(new CountWithTimers(), (c: Click) => c.user);
  await h.open();
  for (let i = 0; i < HARNESS_RECORDS; i++) h.processElement({ user: `u${i % 10}`, ts: i * 10 }, i * 10);
  h.processWatermark(HARNESS_RECORDS * 10 + 1000);
  const fired = h.extractOutputValues().length;
  const snapshot = await h.snapshot();
  await h.close();
  const restored = new KeyedOneInputHarness(new CountWithTimers(), (c: Click) => c.user);
  await restored.initializeState(snapshot);
  await restored.open();
  restored.processElement({ user: 'u0', ts: 5000 }, 5000);
  await restored.close();
  return fired;
}

async function inProcessJob(): Promise<number> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const clicks = Array.from({ length: JOB_RECORDS }, (_, i) => ({ user: `u${i % 100}`, ts: i }));
  const out = await env
    .fromElements(...clicks)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forMonotonousTimestamps<Click>().withTimestampAssigner((c) => c.ts),
    )
    .keyBy((c) => c.user)
    .window(TumblingEventTimeWindows.of(1000))
    .reduce((a, b) => ({ user: a.user, ts: Math.max(a.ts, b.ts) }))
    .executeAndCollect();
  return out.length;
}

async function timed(f: () => Promise<number>, expected: number, what: string): Promise<number[]> {
  const n = await f(); // warm-up: loads the runtime's modules and lets the JIT see the code
  if (n !== expected) throw new Error(`${what}: ${n} results, expected ${expected}`);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times;
}

export const testingLevels: Benchmark = {
  name: 'testing-levels',
  description: `a harness test (${HARNESS_RECORDS} keyed records with timers, snapshot and restore) and an in-process job (${JOB_RECORDS} records, keyBy + tumbling window), p50 of ${RUNS}`,
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const harness = await timed(harnessTest, HARNESS_RECORDS, 'harness test');
    options.log(`harness test: p50 ${median(harness).toFixed(1)} ms`);
    const job = await timed(inProcessJob, (JOB_RECORDS / 1000) * 100, 'in-process job');
    options.log(`in-process job: p50 ${median(job).toFixed(1)} ms`);
    const range = (xs: number[]) => `p50 of ${RUNS}, ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} ms`;
    return {
      benchmark: 'testing-levels',
      description: this.description,
      figures: [
        {
          name: 'harness test (aim < 50 ms)',
          value: Math.round(median(harness) * 10) / 10,
          unit: 'ms',
          note: range(harness),
        },
        {
          name: 'in-process job, 10 000 records (aim < 500 ms)',
          value: Math.round(median(job) * 10) / 10,
          unit: 'ms',
          note: range(job),
        },
      ],
      details: { harnessMs: harness, jobMs: job },
    };
  },
};
