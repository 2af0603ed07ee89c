// Nexmark q5 (hot items, sliding windows) and q7 (highest bid, tumbling windows) throughput in
// events per second, several ways in one run:
//   (a) a hand-written loop over the same generated events computing the same results
//       (bench/benchmarks/nexmark-loops.ts) — the baseline;
//   (b) Weir at parallelism 1 on one TaskManager: the whole query chains into one task;
//   (c) Weir at parallelism 2 on two TaskManagers (one slot each): both keyBy edges shuffle,
//       half over gRPC;
//   (c2) as (c), with the source subtasks aligned as in (d2) below: they run in two TaskManagers,
//       so they align through the JobManager's answers;
//   (d) Weir at parallelism 2 on one TaskManager with two slots: the same shuffles between the
//       slots of one process;
//   (d1) as (d), with the window aggregations in one phase after the exchange: d/d1 is what
//       splitting them (api/local-window-aggregation.ts) gains;
//   (d2) as (d), with the source subtasks kept within ALIGNED_DRIFT_MS of event time of each other
//       (withWatermarkAlignment; both run in the one TaskManager, so they align on its board):
//       d2/d weighs what their drift costs (window state held for the faster one until the slower
//       one's watermark fires it) against what pausing a source costs;
//   (e) two copies of (b) at once on one TaskManager with two slots (bench/lib/two-chained.ts):
//       e/b is what two cores give with no exchange at all, d/e what the exchange keeps of it.
// The variants run in rounds (bench/lib/rounds.ts): a, b, c, d, then again, each Weir variant on a
// fresh cluster with a short warm-up run per query. A rate is the median over the rounds; a ratio
// is taken within each round, then the median over the rounds.
// Each Weir run is checked to deliver exactly as many results as the loop. While q5 runs, each
// TaskManager's resident memory is sampled (its heartbeats' figures) and the peak reported. The
// TaskManagers' CPU time per event (every thread, the whole job) says what a variant costs.
import { nexmarkConfig } from 'weir/nexmark';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import type { BenchCluster } from '../lib/cluster.js';
import { cpuFigures } from '../lib/cpu-figures.js';
import { cpuDuring } from '../lib/process-cpu.js';
import { formatCount, median, medianFigure, perSecond } from '../lib/stats.js';
import { sampleTaskManagerMemory, type TaskManagerMemory } from '../lib/taskmanager-memory.js';
import { measureInRounds, ratioFigure, type RoundVariant } from '../lib/rounds.js';
import { runTwoChained } from '../lib/two-chained.js';
import { AFTER_WARM_UP, warmArgs, warmMark, type WarmMark } from '../lib/steady-rate.js';
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

/** (d2): how far apart in event time the sources may get, and how often they report (ms). */
const ALIGNED_DRIFT_MS = 20_000;
const ALIGNED_UPDATE_MS = 50;

/**
 * 'one-phase': window aggregations not split around their exchange (variant d1); 'aligned':
 * sources kept in step (variant d2).
 */
type Phases = 'split' | 'one-phase' | 'aligned';

/** The Weir variants, in the order their figures are printed, and their names in the figures. */
const VARIANTS = ['b', 'c', 'c2', 'd', 'd1', 'd2', 'e'] as const;
type Variant = (typeof VARIANTS)[number];
const VARIANT_NAMES: Record<Variant, string> = {
  b: '(b) Weir p1, chained',
  c: '(c) Weir p2, 2 TaskManagers × 1 slot',
  c2: '(c2) as (c), sources aligned',
  d: '(d) Weir p2, 1 TaskManager × 2 slots',
  d1: '(d1) as (d), window aggregation in one phase',
  d2: '(d2) as (d), sources aligned',
  e: '(e) two Weir p1 at once, 1 TaskManager × 2 slots',
};
const ALIGNED_NOTE = `within ${ALIGNED_DRIFT_MS / 1000} s of event time, reports every ${ALIGNED_UPDATE_MS} ms`;
/** The parallel aims; b/a's is per query (B_OVER_A_AIM). */
const AIMS: Record<string, number> = { 'c/b': 1, 'd/b': 1.2 };

/** x/y per round, then the median; `note: 'aim'` prints the aim; afterWarmUp: also from the warm-up marks on. */
const RATIOS: Array<{ name: string; x: Variant; y: Variant | 'a'; note?: string; afterWarmUp?: boolean }> = [
  { name: 'b/a', x: 'b', y: 'a', note: 'aim', afterWarmUp: true },
  { name: 'c/a', x: 'c', y: 'a' },
  { name: 'c/b', x: 'c', y: 'b', note: 'aim', afterWarmUp: true },
  { name: 'd/b', x: 'd', y: 'b', note: 'aim', afterWarmUp: true },
  { name: 'd/d1', x: 'd', y: 'd1', note: 'what splitting the window aggregation gains' },
  { name: 'd2/b', x: 'd2', y: 'b', note: 'aligned sources, one TaskManager', afterWarmUp: true },
  {
    name: 'd2/d',
    x: 'd2',
    y: 'd',
    note: 'above 1, what aligning the sources gains; below, what it costs',
    afterWarmUp: true,
  },
  { name: 'c2/b', x: 'c2', y: 'b', note: 'aligned sources, two TaskManagers', afterWarmUp: true },
  {
    name: 'c2/c',
    x: 'c2',
    y: 'c',
    note: 'above 1, what aligning the sources gains; below, what it costs',
    afterWarmUp: true,
  },
  { name: 'e/b', x: 'e', y: 'b', note: 'two cores with no exchange: the ceiling of c/b and d/b', afterWarmUp: true },
  { name: 'd/e', x: 'd', y: 'e', note: 'what the exchange keeps of two cores', afterWarmUp: true },
];

function jobArgs(query: Query, events: number, phases: Phases = 'split', warm?: WarmMark): string[] {
  const args = [query, String(events), String(OUT_OF_ORDERNESS_MS), String(SIZE_MS), String(SLIDE_MS)];
  if (phases === 'aligned') args.push(phases, String(ALIGNED_DRIFT_MS), String(ALIGNED_UPDATE_MS));
  else if (phases === 'one-phase') args.push(phases);
  args.push(...warmArgs(warm));
  return args;
}

/** (d) and (d2) split their window aggregations around the exchange. */
function expectSplit(label: string, query: Query, run: WeirRun): void {
  if (!run.vertices.some((v) => v.includes('-> Local ')))
    throw new Error(
      `${label} ${query}: expected a window aggregation split around its exchange, got ${run.vertices.join(' | ')}`,
    );
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
  phases: Phases,
  warm?: WarmMark,
): Promise<WeirRun> {
  const args = jobArgs(query, events, phases, warm);
  return runCounted(cluster, jarId, args, parallelism, events, expectedResults, query, warm);
}

/** One round of a variant: per query, a warm-up run and a measured one. */
interface Round {
  runs: Record<Query, WeirRun>;
  cpuUsPerEvent: Record<Query, number>;
  q5Memory: TaskManagerMemory[];
}

function weirVariant(
  options: BenchOptions,
  label: string,
  shape: { taskManagers: number; slots: number },
  parallelism: number,
  events: Record<Query, number>,
  /** The loop's result counts, set by the round's loop before its Weir runs. */
  expected: Partial<Record<Query, number>>,
  check: (query: Query, job: WeirRun) => void,
  phases: Phases = 'split',
): RoundVariant<Round> {
  return {
    label,
    shape,
    async measure({ cluster, jarId, pids }): Promise<Round> {
      const runs = {} as Round['runs'];
      const cpuUsPerEvent = {} as Round['cpuUsPerEvent'];
      let q5Memory: TaskManagerMemory[] = [];
      for (const query of QUERIES) {
        const warm = await runWeir(
          cluster,
          jarId,
          query,
          Math.min(events[query], WARMUP_EVENTS),
          parallelism,
          undefined,
          phases,
        );
        check(query, warm);
        const memory = query === 'q5' ? sampleTaskManagerMemory(cluster) : undefined;
        const mark = warmMark(cluster, events[query]);
        try {
          await cluster.awaitSpareThreads(); // not inside the CPU figure
          const { result: run, cpuSeconds } = await cpuDuring(pids, () =>
            // NaN, which no count equals, were the round's loop not run first.
            runWeir(cluster, jarId, query, events[query], parallelism, expected[query] ?? NaN, phases, mark),
          );
          check(query, run);
          const us = (cpuSeconds * 1e6) / events[query];
          runs[query] = run;
          cpuUsPerEvent[query] = us;
          options.log(
            `${label} ${query}: ${formatCount(run.eventsPerSecond)} events/s (${(run.durationMs / 1000).toFixed(2)} s), ${formatCount(run.steadyEventsPerSecond!)} after warm-up, ${us.toFixed(2)} µs CPU per event`,
          );
        } finally {
          if (memory) q5Memory = await memory.stop();
        }
      }
      options.log(
        `${label} q5: peak RSS ${q5Memory.map((m, i) => `TaskManager ${i + 1} ${mb(m.peakRss)} MB`).join(', ')}`,
      );
      return { runs, cpuUsPerEvent, q5Memory };
    },
  };
}

/** (e): per round and query, a warm-up pair and a measured pair of chained jobs at once. */
function twoChainedVariant(
  options: BenchOptions,
  events: Record<Query, number>,
  expected: Partial<Record<Query, number>>,
): RoundVariant<Round> {
  return {
    label: '(e) two Weir p1 at once',
    shape: { taskManagers: 1, slots: 2 },
    async measure({ cluster, jarId, pids }): Promise<Round> {
      const runs = {} as Round['runs'];
      const cpuUsPerEvent = {} as Round['cpuUsPerEvent'];
      for (const query of QUERIES) {
        const warm = Math.min(events[query], WARMUP_EVENTS);
        await runTwoChained(cluster, jarId, jobArgs(query, warm), warm, pids, undefined);
        // NaN, which no count equals, were the round's loop not run first.
        const n = events[query];
        const mark = warmMark(cluster, n);
        const args = jobArgs(query, n, 'split', mark);
        const run = await runTwoChained(cluster, jarId, args, n, pids, expected[query] ?? NaN, mark);
        runs[query] = {
          jobId: run.jobs.map((j) => j.jid).join(','),
          eventsPerSecond: run.recordsPerSecond,
          steadyEventsPerSecond: run.steadyRecordsPerSecond,
          durationMs: run.durationMs,
          results: expected[query] ?? NaN,
          vertices: run.jobs[0]!.vertices.map((v) => `${v.name} (${v.parallelism})`),
        };
        cpuUsPerEvent[query] = (run.cpuSeconds * 1e6) / (2 * events[query]);
        options.log(
          `(e) two Weir p1 at once ${query}: ${formatCount(run.recordsPerSecond)} events/s together, ${formatCount(run.steadyRecordsPerSecond!)} after warm-up, ${cpuUsPerEvent[query].toFixed(2)} µs CPU per event`,
        );
      }
      return { runs, cpuUsPerEvent, q5Memory: [] };
    },
  };
}

/** Per TaskManager (in the JobManager's order), the highest peaks over the rounds. */
function peakOverRounds(rounds: Round[]): TaskManagerMemory[] {
  const peaks: TaskManagerMemory[] = [];
  for (const r of rounds)
    r.q5Memory.forEach((m, i) => {
      const p = (peaks[i] ??= { id: m.id, peakRss: 0, peakHeapUsed: 0 });
      p.peakRss = Math.max(p.peakRss, m.peakRss);
      p.peakHeapUsed = Math.max(p.peakHeapUsed, m.peakHeapUsed);
    });
  return peaks;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export const nexmark: Benchmark = {
  name: 'nexmark',
  description:
    'Nexmark q5 (hot items, 10 s/2 s sliding windows) and q7 (highest bid, 10 s tumbling windows): hand-written loop vs Weir p1 (chained) vs Weir p2 (two TaskManagers) vs Weir p2 (one TaskManager, two slots), with and without the split window aggregation, with its sources aligned (one or two TaskManagers), vs two Weir p1 at once (one TaskManager, two slots)',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const events = {
      q5: Math.max(20_000, Math.round(EVENTS.q5 * options.scale)),
      q7: Math.max(20_000, Math.round(EVENTS.q7 * options.scale)),
    };

    // (a) at the start of each round, in this process, with no cluster up; the first round's
    // results are what every Weir run must deliver.
    const loopRates: Record<Query, number[]> = { q5: [], q7: [] };
    const expected: Partial<Record<Query, number>> = {};
    for (const query of QUERIES) loop(query, Math.min(events[query], WARMUP_EVENTS));
    const loopRound = () => {
      for (const query of QUERIES) {
        const [ms, results] = loop(query, events[query]);
        expected[query] ??= results;
        if (results !== expected[query])
          throw new Error(`(a) ${query}: ${results} results, the first round produced ${expected[query]}`);
        loopRates[query].push(perSecond(events[query], ms));
        options.log(
          `(a) ${query} loop: ${formatCount(loopRates[query].at(-1)!)} events/s, ${results} results (checksum ${resultChecksum()})`,
        );
      }
    };

    /** (c2) and (d2): parallelism 2 with the sources aligned, split as (d). */
    const aligned = (label: string, shape: { taskManagers: number; slots: number }) =>
      weirVariant(
        options,
        `${label} Weir p2, sources aligned`,
        shape,
        2,
        events,
        expected,
        (query, run) => expectSplit(label, query, run),
        'aligned',
      );
    const variants = {
      // (b)
      b: weirVariant(options, '(b) Weir p1', { taskManagers: 1, slots: 1 }, 1, events, expected, (query, run) => {
        if (run.vertices.length !== 1)
          throw new Error(`(b) ${query}: expected one chained task, got ${run.vertices.join(' | ')}`);
      }),
      // (c)
      c: weirVariant(options, '(c) Weir p2', { taskManagers: 2, slots: 1 }, 2, events, expected, (query, run) => {
        if (run.vertices.length < 2)
          throw new Error(`(c) ${query}: expected shuffles between tasks, got ${run.vertices.join(' | ')}`);
      }),
      // (c2): (c) with its sources aligned.
      c2: aligned('(c2)', { taskManagers: 2, slots: 1 }),
      // (d)
      d: weirVariant(options, '(d) Weir p2', { taskManagers: 1, slots: 2 }, 2, events, expected, (query, run) =>
        expectSplit('(d)', query, run),
      ),
      // (d2): (d) with its sources aligned.
      d2: aligned('(d2)', { taskManagers: 1, slots: 2 }),
      // (d1): (d) with the window aggregation in one phase, after the exchange.
      d1: weirVariant(
        options,
        '(d1) Weir p2, one phase',
        { taskManagers: 1, slots: 2 },
        2,
        events,
        expected,
        (query, run) => {
          if (run.vertices.length < 2 || run.vertices.some((v) => v.includes('Local ')))
            throw new Error(`(d1) ${query}: expected shuffles and no local phase, got ${run.vertices.join(' | ')}`);
        },
        'one-phase',
      ),
      e: twoChainedVariant(options, events, expected),
    };
    const rounds = await measureInRounds(options, JOB, variants, loopRound);
    const runsOf = (v: keyof typeof rounds, query: Query) => rounds[v].map((r) => r.runs[query]);
    const cpuOf = (v: keyof typeof rounds, query: Query) => rounds[v].map((r) => r.cpuUsPerEvent[query]);

    const figures: Figure[] = [];
    const details: Record<string, unknown> = {
      events,
      outOfOrdernessMs: OUT_OF_ORDERNESS_MS,
      sizeMs: SIZE_MS,
      slideMs: SLIDE_MS,
      expectedResults: expected,
    };
    for (const query of QUERIES) {
      const aRates = loopRates[query];
      const rates = { a: aRates } as Record<Variant | 'a', number[]>;
      const steadyRates = { a: aRates } as Record<Variant | 'a', number[]>;
      for (const v of VARIANTS) {
        rates[v] = runsOf(v, query).map((r) => r.eventsPerSecond);
        if (v !== 'd1') steadyRates[v] = runsOf(v, query).map((r) => r.steadyEventsPerSecond!);
      }
      figures.push(
        medianFigure(`${query} (a) hand-written loop`, aRates, 'events/s'),
        ...VARIANTS.map((v) =>
          medianFigure(
            `${query} ${VARIANT_NAMES[v]}`,
            rates[v],
            'events/s',
            v === 'c2' || v === 'd2' ? ALIGNED_NOTE : undefined,
          ),
        ),
      );
      // Within each round, then the median over the rounds; after warm-up, from each run's mark on.
      const addRatio = (name: string, from: typeof rates, r: (typeof RATIOS)[number], note?: string) => {
        const figure = ratioFigure(`${query} ${name}`, from[r.x], from[r.y], note);
        figures.push(figure);
        return figure.value;
      };
      const aimOf = (r: (typeof RATIOS)[number]) => `aim ≥ ${AIMS[r.name] ?? B_OVER_A_AIM[query]}`;
      const ratios: Record<string, number> = {};
      const steadyRatios: Record<string, number> = {};
      for (const r of RATIOS) ratios[r.name] = addRatio(r.name, rates, r, r.note === 'aim' ? aimOf(r) : r.note);
      for (const r of RATIOS.filter((x) => x.afterWarmUp))
        steadyRatios[r.name] = addRatio(
          `${r.name} after warm-up`,
          steadyRates,
          r,
          r.note === 'aim' ? `${aimOf(r)}; ${AFTER_WARM_UP}` : undefined,
        );
      // (e)'s: what two busy slot threads cost per event with no exchange (the machine's share of d's).
      const cpu = {
        b: cpuOf('b', query),
        c: cpuOf('c', query),
        d: cpuOf('d', query),
        c2: cpuOf('c2', query),
        d2: cpuOf('d2', query),
        e: cpuOf('e', query),
      };
      figures.push(...cpuFigures(`${query} `, 'event', cpu));
      details[query] = {
        eventsPerSecond: Object.fromEntries(Object.entries(rates).map(([v, r]) => [v, median(r)])),
        ratios,
        afterWarmUp: { eventsPerSecond: steadyRates, ratios: steadyRatios },
        runs: { a: aRates, ...Object.fromEntries(VARIANTS.map((v) => [v, runsOf(v, query)])) },
        cpuUsPerEvent: cpu,
      };
    }
    // Peak RSS per TaskManager over the measured q5 runs of each variant.
    const memory = { b: peakOverRounds(rounds.b), c: peakOverRounds(rounds.c), d: peakOverRounds(rounds.d) };
    for (const [variant, tms] of Object.entries(memory)) {
      tms.forEach((m, i) =>
        figures.push({
          name: `q5 (${variant}) TaskManager ${i + 1} peak RSS`,
          value: m.peakRss / 2 ** 20,
          unit: 'MB',
          note: `heap in use ≤ ${mb(m.peakHeapUsed)} MB`,
        }),
      );
    }
    details.q5PeakMemory = memory;
    return { benchmark: this.name, description: this.description, figures, details };
  },
};
