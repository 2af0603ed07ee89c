// Nexmark q8 (monitor new users: persons and auctions joined in 10 s tumbling windows) throughput
// in events per second, three ways in one run:
//   (a) a hand-written loop over the same generated events computing the same results
//       (bench/benchmarks/nexmark-q8-loop.ts) — the baseline;
//   (b) Weir at parallelism 1 on one TaskManager;
//   (c) Weir at parallelism 2 on two TaskManagers (one slot each): the join's keyBy shuffles,
//       half over gRPC.
// Measured in rounds (bench/lib/rounds.ts): each round runs the loop, then (b) and (c) on clusters
// started for them, so a ratio compares runs minutes apart at most; the median of the rounds'
// ratios is reported. Each Weir run is checked to deliver exactly as many results as the loop.
import { nexmarkConfig } from 'weir/nexmark';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import type { BenchCluster } from '../lib/cluster.js';
import { measureInRounds, medianRatio, ratioFigure, type RoundVariant } from '../lib/rounds.js';
import { formatCount, median, medianFigure, perSecond } from '../lib/stats.js';
import { runCounted, type WeirRun } from '../lib/weir-run.js';
import { newUserChecksum, q8Loop } from './nexmark-q8-loop.js';

const JOB = 'bench/jobs/nexmark-q8.ts';
// Enough that each Weir run lasts several seconds: a job's fresh slot threads run unoptimized code
// for about a second (see nexmark.ts).
const EVENTS = 9_000_000;
const WARMUP_EVENTS = 100_000;
const OUT_OF_ORDERNESS_MS = 200;
const SIZE_MS = 10_000;

/** (a): returns [ms, results]. */
function loop(events: number): [number, number] {
  const config = nexmarkConfig({ outOfOrdernessMs: OUT_OF_ORDERNESS_MS });
  const t0 = performance.now();
  const results = q8Loop(events, config, SIZE_MS);
  return [performance.now() - t0, results];
}

function runWeir(
  cluster: BenchCluster,
  jarId: string,
  events: number,
  parallelism: number,
  expected: number | undefined,
): Promise<WeirRun> {
  return runCounted(
    cluster,
    jarId,
    [String(events), String(OUT_OF_ORDERNESS_MS), String(SIZE_MS)],
    parallelism,
    events,
    expected,
    'q8',
  );
}

/** One variant: per round, a warm-up run and a measured one on the round's cluster. */
function weirVariant(
  options: BenchOptions,
  label: string,
  taskManagers: number,
  parallelism: number,
  events: number,
  expected: () => number,
): RoundVariant<WeirRun> {
  return {
    label,
    shape: { taskManagers, slots: 1 },
    async measure({ cluster, jarId }) {
      await runWeir(cluster, jarId, Math.min(events, WARMUP_EVENTS), parallelism, undefined);
      const run = await runWeir(cluster, jarId, events, parallelism, expected());
      options.log(
        `${label} q8: ${formatCount(run.eventsPerSecond)} events/s (${(run.durationMs / 1000).toFixed(2)} s); tasks: ${run.vertices.join(' | ')}`,
      );
      return run;
    },
  };
}

export const nexmarkQ8: Benchmark = {
  name: 'nexmark-q8',
  description:
    'Nexmark q8 (monitor new users, 10 s tumbling-window join of persons and auctions): hand-written loop vs Weir p1 vs Weir p2 (two TaskManagers)',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const events = Math.max(20_000, Math.round(EVENTS * options.scale));

    // (a) once to warm up in this process, then once per round before (b) and (c).
    loop(Math.min(events, WARMUP_EVENTS));
    const loopRates: number[] = [];
    let expected = 0;
    const rounds = await measureInRounds(
      options,
      JOB,
      {
        b: weirVariant(options, '(b) Weir p1', 1, 1, events, () => expected),
        c: weirVariant(options, '(c) Weir p2', 2, 2, events, () => expected),
      },
      () => {
        const [ms, results] = loop(events);
        if (results === 0) throw new Error('the q8 loop produced no results: the benchmark would measure nothing');
        expected = results;
        loopRates.push(perSecond(events, ms));
        options.log(
          `(a) q8 loop: ${formatCount(loopRates.at(-1)!)} events/s, ${expected} results (checksum ${newUserChecksum()})`,
        );
      },
    );
    const chained = rounds.b;
    const shuffled = rounds.c;
    const a = median(loopRates);
    const bRates = chained.map((r) => r.eventsPerSecond);
    const cRates = shuffled.map((r) => r.eventsPerSecond);
    const b = median(bRates);
    const c = median(cRates);
    const ratios = {
      bOverA: medianRatio(bRates, loopRates),
      cOverA: medianRatio(cRates, loopRates),
      cOverB: medianRatio(cRates, bRates),
    };
    const figures: Figure[] = [
      medianFigure('q8 (a) hand-written loop', loopRates, 'events/s'),
      medianFigure('q8 (b) Weir p1', bRates, 'events/s'),
      medianFigure('q8 (c) Weir p2, 2 TaskManagers', cRates, 'events/s'),
      ratioFigure('q8 b/a', bRates, loopRates),
      ratioFigure('q8 c/a', cRates, loopRates),
      ratioFigure('q8 c/b', cRates, bRates),
    ];
    return {
      benchmark: this.name,
      description: this.description,
      figures,
      details: {
        events,
        outOfOrdernessMs: OUT_OF_ORDERNESS_MS,
        sizeMs: SIZE_MS,
        expectedResults: expected,
        eventsPerSecond: { a, b, c },
        ratios,
        runs: { a: loopRates, b: chained, c: shuffled },
      },
    };
  },
};
