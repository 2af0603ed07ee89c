// Nexmark q8 (monitor new users: persons and auctions joined in 10 s tumbling windows) throughput
// in events per second, three ways in one run:
//   (a) a hand-written loop over the same generated events computing the same results
//       (bench/benchmarks/nexmark-q8-loop.ts) — the baseline;
//   (b) Weir at parallelism 1 on one TaskManager;
//   (c) Weir at parallelism 2 on two TaskManagers (one slot each): the join's keyBy shuffles,
//       half over gRPC.
// Each Weir run is checked to deliver exactly as many results as the loop.
import { nexmarkConfig } from 'weir/nexmark';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { formatCount, median, medianNote, perSecond } from '../lib/stats.js';
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

async function measureWeir(
  options: BenchOptions,
  label: string,
  taskManagers: number,
  parallelism: number,
  events: number,
  expected: number,
): Promise<WeirRun[]> {
  options.log(`${label}: starting ${taskManagers} TaskManager(s) with 1 slot each`);
  const cluster = await BenchCluster.start({ taskManagers, slots: 1 });
  try {
    const jarId = await cluster.upload(await cluster.bundle(JOB));
    await runWeir(cluster, jarId, Math.min(events, WARMUP_EVENTS), parallelism, undefined);
    const runs: WeirRun[] = [];
    for (let r = 0; r < options.repetitions; r++) {
      const run = await runWeir(cluster, jarId, events, parallelism, expected);
      runs.push(run);
      options.log(
        `${label} q8: run ${r + 1}: ${formatCount(run.eventsPerSecond)} events/s (${(run.durationMs / 1000).toFixed(2)} s)`,
      );
    }
    options.log(`${label} q8 tasks: ${runs[0]?.vertices.join(' | ')}`);
    return runs;
  } finally {
    await cluster.stop();
  }
}

export const nexmarkQ8: Benchmark = {
  name: 'nexmark-q8',
  description:
    'Nexmark q8 (monitor new users, 10 s tumbling-window join of persons and auctions): hand-written loop vs Weir p1 vs Weir p2 (two TaskManagers)',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const events = Math.max(20_000, Math.round(EVENTS * options.scale));

    // (a)
    loop(Math.min(events, WARMUP_EVENTS));
    const loopRates: number[] = [];
    let expected = 0;
    for (let r = 0; r < options.repetitions; r++) {
      const [ms, results] = loop(events);
      expected = results;
      loopRates.push(perSecond(events, ms));
    }
    if (expected === 0) throw new Error('the q8 loop produced no results: the benchmark would measure nothing');
    options.log(
      `(a) q8 loop: ${loopRates.map(formatCount).join(', ')} events/s, ${expected} results (checksum ${newUserChecksum()})`,
    );

    // (b), (c)
    const chained = await measureWeir(options, '(b) Weir p1', 1, 1, events, expected);
    const shuffled = await measureWeir(options, '(c) Weir p2', 2, 2, events, expected);

    const a = median(loopRates);
    const bRates = chained.map((r) => r.eventsPerSecond);
    const cRates = shuffled.map((r) => r.eventsPerSecond);
    const b = median(bRates);
    const c = median(cRates);
    const figures: Figure[] = [
      { name: 'q8 (a) hand-written loop', value: a, unit: 'events/s', note: medianNote(loopRates) },
      { name: 'q8 (b) Weir p1', value: b, unit: 'events/s', note: medianNote(bRates) },
      { name: 'q8 (c) Weir p2, 2 TaskManagers', value: c, unit: 'events/s', note: medianNote(cRates) },
      { name: 'q8 b/a', value: b / a, unit: 'ratio' },
      { name: 'q8 c/a', value: c / a, unit: 'ratio' },
      { name: 'q8 c/b', value: c / b, unit: 'ratio' },
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
        ratios: { bOverA: b / a, cOverA: c / a, cOverB: c / b },
        runs: { a: loopRates, b: chained, c: shuffled },
      },
    };
  },
};
