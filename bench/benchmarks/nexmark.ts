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
import { formatCount, median, medianNote, perSecond } from '../lib/stats.js';
import { sampleTaskManagerMemory, type TaskManagerMemory } from '../lib/taskmanager-memory.js';
import { measureInRounds, medianRatio, ratioNote, type RoundVariant } from '../lib/rounds.js';
import { runTwoChained } from '../lib/two-chained.js';
import { warmMark, type WarmMark } from '../lib/steady-rate.js';
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
/**
 * The share of a measured run's events before its warm-up mark: the rates "after warm-up" leave
 * them out, as Flink's Nexmark measures only after nexmark.metric.monitor.delay (bench/jobs/warm-mark.ts).
 */
const WARM_SHARE = 1 / 3;
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

function jobArgs(query: Query, events: number, phases: Phases = 'split', warm?: WarmMark): string[] {
  const args = [query, String(events), String(OUT_OF_ORDERNESS_MS), String(SIZE_MS), String(SLIDE_MS)];
  if (phases === 'aligned') args.push(phases, String(ALIGNED_DRIFT_MS), String(ALIGNED_UPDATE_MS));
  else if (phases === 'one-phase') args.push(phases);
  if (warm) args.push('warm', String(warm.events), warm.file);
  return args;
}

/** A measured run's warm-up mark: after WARM_SHARE of its events. */
function measuredWarmMark(cluster: BenchCluster, events: number): WarmMark {
  return warmMark(cluster, Math.round(events * WARM_SHARE));
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
        const mark = measuredWarmMark(cluster, events[query]);
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
        const mark = measuredWarmMark(cluster, n);
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
      const a = median(aRates);
      const bRates = runsOf('b', query).map((r) => r.eventsPerSecond);
      const cRates = runsOf('c', query).map((r) => r.eventsPerSecond);
      const dRates = runsOf('d', query).map((r) => r.eventsPerSecond);
      const d1Rates = runsOf('d1', query).map((r) => r.eventsPerSecond);
      const d2Rates = runsOf('d2', query).map((r) => r.eventsPerSecond);
      const c2Rates = runsOf('c2', query).map((r) => r.eventsPerSecond);
      const eRates = runsOf('e', query).map((r) => r.eventsPerSecond);
      // Within each round, then the median over the rounds.
      const ratios = {
        bOverA: medianRatio(bRates, aRates),
        cOverA: medianRatio(cRates, aRates),
        cOverB: medianRatio(cRates, bRates),
        dOverB: medianRatio(dRates, bRates),
        eOverB: medianRatio(eRates, bRates),
        dOverE: medianRatio(dRates, eRates),
        dOverD1: medianRatio(dRates, d1Rates),
        d2OverB: medianRatio(d2Rates, bRates),
        d2OverD: medianRatio(d2Rates, dRates),
        c2OverB: medianRatio(c2Rates, bRates),
        c2OverC: medianRatio(c2Rates, cRates),
      };
      // After warm-up: the same, from each run's warm-up mark on.
      const steady = (v: 'b' | 'c' | 'c2' | 'd' | 'd2' | 'e') => runsOf(v, query).map((r) => r.steadyEventsPerSecond!);
      const st = { b: steady('b'), c: steady('c'), c2: steady('c2'), d: steady('d'), d2: steady('d2'), e: steady('e') };
      const afterWarmUp = `from ${Math.round(WARM_SHARE * 100)} % of the events on`;
      const steadyPairs: Array<[string, number[], number[], string?]> = [
        ['b/a', st.b, aRates, `aim ≥ ${B_OVER_A_AIM[query]}; ${afterWarmUp}`],
        ['c/b', st.c, st.b, `aim ≥ 1; ${afterWarmUp}`],
        ['d/b', st.d, st.b, `aim ≥ 1.2; ${afterWarmUp}`],
        ['e/b', st.e, st.b],
        ['d/e', st.d, st.e],
        ['d2/d', st.d2, st.d],
        ['d2/b', st.d2, st.b, 'aligned sources, one TaskManager'],
        ['c2/b', st.c2, st.b, 'aligned sources, two TaskManagers'],
        ['c2/c', st.c2, st.c],
      ];
      const steadyRatios = Object.fromEntries(steadyPairs.map(([n, x, y]) => [n, medianRatio(x, y)]));
      const b = median(bRates);
      const c = median(cRates);
      const d = median(dRates);
      figures.push(
        { name: `${query} (a) hand-written loop`, value: a, unit: 'events/s', note: medianNote(loopRates[query]) },
        { name: `${query} (b) Weir p1, chained`, value: b, unit: 'events/s', note: medianNote(bRates) },
        { name: `${query} (c) Weir p2, 2 TaskManagers × 1 slot`, value: c, unit: 'events/s', note: medianNote(cRates) },
        { name: `${query} (d) Weir p2, 1 TaskManager × 2 slots`, value: d, unit: 'events/s', note: medianNote(dRates) },
        {
          name: `${query} b/a`,
          value: ratios.bOverA,
          unit: 'ratio',
          note: ratioNote(bRates, aRates, `aim ≥ ${B_OVER_A_AIM[query]}`),
        },
        { name: `${query} c/a`, value: ratios.cOverA, unit: 'ratio', note: ratioNote(cRates, aRates) },
        { name: `${query} c/b`, value: ratios.cOverB, unit: 'ratio', note: ratioNote(cRates, bRates, 'aim ≥ 1') },
        { name: `${query} d/b`, value: ratios.dOverB, unit: 'ratio', note: ratioNote(dRates, bRates, 'aim ≥ 1.2') },
        {
          name: `${query} (d1) as (d), window aggregation in one phase`,
          value: median(d1Rates),
          unit: 'events/s',
          note: medianNote(d1Rates),
        },
        {
          name: `${query} d/d1`,
          value: ratios.dOverD1,
          unit: 'ratio',
          note: ratioNote(dRates, d1Rates, 'what splitting the window aggregation gains'),
        },
        {
          name: `${query} (d2) as (d), sources aligned`,
          value: median(d2Rates),
          unit: 'events/s',
          note: `${medianNote(d2Rates)}; within ${ALIGNED_DRIFT_MS / 1000} s of event time, reports every ${ALIGNED_UPDATE_MS} ms`,
        },
        { name: `${query} d2/b`, value: ratios.d2OverB, unit: 'ratio', note: ratioNote(d2Rates, bRates) },
        {
          name: `${query} d2/d`,
          value: ratios.d2OverD,
          unit: 'ratio',
          note: ratioNote(d2Rates, dRates, 'above 1, what aligning the sources gains; below, what it costs'),
        },
        {
          name: `${query} (c2) as (c), sources aligned`,
          value: median(c2Rates),
          unit: 'events/s',
          note: `${medianNote(c2Rates)}; through the JobManager, as (d2)`,
        },
        { name: `${query} c2/b`, value: ratios.c2OverB, unit: 'ratio', note: ratioNote(c2Rates, bRates) },
        {
          name: `${query} c2/c`,
          value: ratios.c2OverC,
          unit: 'ratio',
          note: ratioNote(c2Rates, cRates, 'above 1, what aligning the sources gains; below, what it costs'),
        },
        {
          name: `${query} (e) two Weir p1 at once, 1 TaskManager × 2 slots`,
          value: median(eRates),
          unit: 'events/s',
          note: medianNote(eRates),
        },
        {
          name: `${query} e/b`,
          value: ratios.eOverB,
          unit: 'ratio',
          note: ratioNote(eRates, bRates, 'two cores with no exchange: the ceiling of c/b and d/b'),
        },
        {
          name: `${query} d/e`,
          value: ratios.dOverE,
          unit: 'ratio',
          note: ratioNote(dRates, eRates, 'what the exchange keeps of two cores'),
        },
      );
      figures.push(
        ...steadyPairs.map(([n, x, y, aim]) => ({
          name: `${query} ${n} after warm-up`,
          value: steadyRatios[n]!,
          unit: 'ratio',
          note: ratioNote(x, y, aim),
        })),
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
        eventsPerSecond: {
          a,
          b,
          c,
          c2: median(c2Rates),
          d,
          d1: median(d1Rates),
          d2: median(d2Rates),
          e: median(eRates),
        },
        ratios,
        afterWarmUp: {
          eventsPerSecond: st,
          ratios: steadyRatios,
        },
        runs: {
          a: aRates,
          b: runsOf('b', query),
          c: runsOf('c', query),
          d: runsOf('d', query),
          d1: runsOf('d1', query),
          d2: runsOf('d2', query),
          c2: runsOf('c2', query),
          e: runsOf('e', query),
        },
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
