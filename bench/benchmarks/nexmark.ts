// Nexmark q5 (hot items, sliding windows) and q7 (highest bid, tumbling windows) throughput in
// events per second, three ways in one run:
//   (a) a hand-written loop over the same generated events computing the same results
//       (bench/benchmarks/nexmark-loops.ts) — the baseline;
//   (b) Weir at parallelism 1 on one TaskManager: the whole query chains into one task;
//   (c) Weir at parallelism 2 on two TaskManagers (one slot each): both keyBy edges shuffle,
//       half over gRPC;
//   (d) Weir at parallelism 2 on one TaskManager with two slots: the same shuffles between the
//       slots of one process.
// Each Weir run is checked to deliver exactly as many results as the loop. While q5 runs, each
// TaskManager's resident memory is sampled (its heartbeats' figures) and the peak reported. The
// TaskManagers' CPU time per event (every thread, the whole job) says what a variant costs. The
// variants' clusters run side by side, and each repetition runs a, b, c and d back to back.
import { nexmarkConfig } from 'weir/nexmark';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import type { BenchCluster } from '../lib/cluster.js';
import { cpuFigures } from '../lib/cpu-figures.js';
import { cpuDuring } from '../lib/process-cpu.js';
import { withClustersSideBySide } from '../lib/side-by-side.js';
import { formatCount, median, medianNote, perSecond } from '../lib/stats.js';
import { sampleTaskManagerMemory, type TaskManagerMemory } from '../lib/taskmanager-memory.js';
import { runCounted, type WeirRun } from '../lib/weir-run.js';
import { q5Loop, q7Loop, resultChecksum } from './nexmark-loops.js';

const JOB = 'bench/jobs/nexmark.ts';
// Per query, enough that each Weir run lasts several seconds: every job starts on a fresh slot
// thread (user code is loaded anew), so its first second or so runs code not yet optimized, which
// short runs would mostly measure. p2 warms up slowest: its two busy slot threads leave the
// optimizing compiler's background threads no idle core. (With runs of 1.2 M and 3 M events, d/b
// read 0.61 and 0.63 where these lengths read 0.91 and 0.87, on the same build.)
const EVENTS = { q5: 6_000_000, q7: 15_000_000 } as const;
const WARMUP_EVENTS = 100_000;
const OUT_OF_ORDERNESS_MS = 200;
const SIZE_MS = 10_000;
const SLIDE_MS = 2_000;
const QUERIES = ['q5', 'q7'] as const;
type Query = (typeof QUERIES)[number];
/** The share of the hand-written loop's rate the chained job aims for (the cost of windows and timers). */
const B_OVER_A_AIM: Record<Query, number> = { q5: 0.4, q7: 0.5 };

function jobArgs(query: Query, events: number): string[] {
  return [query, String(events), String(OUT_OF_ORDERNESS_MS), String(SIZE_MS), String(SLIDE_MS)];
}

/** (a): returns [ms, results]. */
function loop(query: Query, events: number): [number, number] {
  const config = nexmarkConfig({ outOfOrdernessMs: OUT_OF_ORDERNESS_MS });
  const t0 = performance.now();
  const results = query === 'q5' ? q5Loop(events, config, SIZE_MS, SLIDE_MS) : q7Loop(events, config, SIZE_MS);
  return [performance.now() - t0, results];
}

function runWeir(
  cluster: BenchCluster,
  jarId: string,
  query: Query,
  events: number,
  parallelism: number,
  expectedResults: number | undefined,
): Promise<WeirRun> {
  return runCounted(cluster, jarId, jobArgs(query, events), parallelism, events, expectedResults, query);
}

type VariantKey = 'b' | 'c' | 'd';

/** A Weir variant: its cluster's shape, the job's parallelism and what its job graph must look like. */
interface Variant {
  key: VariantKey;
  label: string;
  shape: { taskManagers: number; slots: number };
  parallelism: number;
  check: (query: Query, run: WeirRun) => void;
}

function shuffles(label: string): (query: Query, run: WeirRun) => void {
  return (query, run) => {
    if (run.vertices.length < 2)
      throw new Error(`${label} ${query}: expected shuffles between tasks, got ${run.vertices.join(' | ')}`);
  };
}

const VARIANTS: readonly Variant[] = [
  {
    key: 'b',
    label: '(b) Weir p1',
    shape: { taskManagers: 1, slots: 1 },
    parallelism: 1,
    check: (query, run) => {
      if (run.vertices.length !== 1)
        throw new Error(`(b) ${query}: expected one chained task, got ${run.vertices.join(' | ')}`);
    },
  },
  { key: 'c', label: '(c) Weir p2', shape: { taskManagers: 2, slots: 1 }, parallelism: 2, check: shuffles('(c)') },
  { key: 'd', label: '(d) Weir p2', shape: { taskManagers: 1, slots: 2 }, parallelism: 2, check: shuffles('(d)') },
];

interface Measured {
  loopRates: Record<Query, number[]>;
  expected: Record<Query, number>;
  runs: Record<VariantKey, Record<Query, WeirRun[]>>;
  cpuUsPerEvent: Record<VariantKey, Record<Query, number[]>>;
  q5Memory: Record<VariantKey, TaskManagerMemory[]>;
}

/** Each repetition runs the loop (a), then b, c and d back to back (see side-by-side.ts). */
async function measure(options: BenchOptions, events: Record<Query, number>): Promise<Measured> {
  const perQuery = <T>(f: () => T): Record<Query, T> => ({ q5: f(), q7: f() });
  const perVariant = <T>(f: () => T): Record<VariantKey, T> => ({ b: f(), c: f(), d: f() });
  const m: Measured = {
    loopRates: perQuery(() => []),
    expected: perQuery(() => 0),
    runs: perVariant(() => perQuery(() => [])),
    cpuUsPerEvent: perVariant(() => perQuery(() => [])),
    q5Memory: perVariant(() => []),
  };
  return withClustersSideBySide(options, VARIANTS, JOB, async (started) => {
    for (const query of QUERIES) {
      loop(query, Math.min(events[query], WARMUP_EVENTS));
      for (const { variant: v, cluster, jarId } of started)
        v.check(
          query,
          await runWeir(cluster, jarId, query, Math.min(events[query], WARMUP_EVENTS), v.parallelism, undefined),
        );
      const memory = query === 'q5' ? started.map((s) => sampleTaskManagerMemory(s.cluster)) : [];
      try {
        for (let r = 0; r < options.repetitions; r++) {
          const [ms, results] = loop(query, events[query]);
          m.expected[query] = results;
          m.loopRates[query].push(perSecond(events[query], ms));
          options.log(
            `(a) ${query} loop: run ${r + 1}: ${formatCount(perSecond(events[query], ms))} events/s, ${results} results (checksum ${resultChecksum()})`,
          );
          for (const { variant: v, cluster, jarId, pids } of started) {
            const { result: run, cpuSeconds } = await cpuDuring(pids, () =>
              runWeir(cluster, jarId, query, events[query], v.parallelism, m.expected[query]),
            );
            v.check(query, run);
            m.runs[v.key][query].push(run);
            const us = (cpuSeconds * 1e6) / events[query];
            m.cpuUsPerEvent[v.key][query].push(us);
            options.log(
              `${v.label} ${query}: run ${r + 1}: ${formatCount(run.eventsPerSecond)} events/s (${(run.durationMs / 1000).toFixed(2)} s), ${us.toFixed(2)} µs CPU per event`,
            );
          }
        }
      } finally {
        const peaks = await Promise.all(memory.map((s) => s.stop()));
        peaks.forEach((p, i) => (m.q5Memory[started[i]!.variant.key] = p));
      }
      if (query === 'q5')
        for (const { variant: v } of started)
          options.log(
            `${v.label} q5: peak RSS ${m.q5Memory[v.key].map((x, i) => `TaskManager ${i + 1} ${mb(x.peakRss)} MB`).join(', ')}`,
          );
    }
    return m;
  });
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export const nexmark: Benchmark = {
  name: 'nexmark',
  description:
    'Nexmark q5 (hot items, 10 s/2 s sliding windows) and q7 (highest bid, 10 s tumbling windows): hand-written loop vs Weir p1 (chained) vs Weir p2 (two TaskManagers) vs Weir p2 (one TaskManager, two slots)',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const events = {
      q5: Math.max(20_000, Math.round(EVENTS.q5 * options.scale)),
      q7: Math.max(20_000, Math.round(EVENTS.q7 * options.scale)),
    };

    const { loopRates, expected, runs, cpuUsPerEvent, q5Memory } = await measure(options, events);

    const figures: Figure[] = [];
    const details: Record<string, unknown> = {
      events,
      outOfOrdernessMs: OUT_OF_ORDERNESS_MS,
      sizeMs: SIZE_MS,
      slideMs: SLIDE_MS,
      expectedResults: expected,
    };
    for (const query of QUERIES) {
      const a = median(loopRates[query]);
      const bRates = runs.b[query].map((r) => r.eventsPerSecond);
      const cRates = runs.c[query].map((r) => r.eventsPerSecond);
      const dRates = runs.d[query].map((r) => r.eventsPerSecond);
      const b = median(bRates);
      const c = median(cRates);
      const d = median(dRates);
      figures.push(
        { name: `${query} (a) hand-written loop`, value: a, unit: 'events/s', note: medianNote(loopRates[query]) },
        { name: `${query} (b) Weir p1, chained`, value: b, unit: 'events/s', note: medianNote(bRates) },
        { name: `${query} (c) Weir p2, 2 TaskManagers × 1 slot`, value: c, unit: 'events/s', note: medianNote(cRates) },
        { name: `${query} (d) Weir p2, 1 TaskManager × 2 slots`, value: d, unit: 'events/s', note: medianNote(dRates) },
        { name: `${query} b/a`, value: b / a, unit: 'ratio', note: `aim ≥ ${B_OVER_A_AIM[query]}` },
        { name: `${query} c/a`, value: c / a, unit: 'ratio' },
        { name: `${query} c/b`, value: c / b, unit: 'ratio', note: 'aim ≥ 1' },
        { name: `${query} d/b`, value: d / b, unit: 'ratio', note: 'aim ≥ 1.2' },
      );
      const cpu = { b: cpuUsPerEvent.b[query], c: cpuUsPerEvent.c[query], d: cpuUsPerEvent.d[query] };
      figures.push(...cpuFigures(`${query} `, 'event', cpu));
      details[query] = {
        eventsPerSecond: { a, b, c, d },
        ratios: { bOverA: b / a, cOverA: c / a, cOverB: c / b, dOverB: d / b },
        runs: { a: loopRates[query], b: runs.b[query], c: runs.c[query], d: runs.d[query] },
        cpuUsPerEvent: cpu,
      };
    }
    // Peak RSS per TaskManager over the measured q5 runs of each variant.
    for (const [variant, tms] of Object.entries(q5Memory)) {
      tms.forEach((m, i) =>
        figures.push({
          name: `q5 (${variant}) TaskManager ${i + 1} peak RSS`,
          value: m.peakRss / 2 ** 20,
          unit: 'MB',
          note: `heap in use ≤ ${mb(m.peakHeapUsed)} MB`,
        }),
      );
    }
    details.q5PeakMemory = q5Memory;
    return { benchmark: this.name, description: this.description, figures, details };
  },
};
