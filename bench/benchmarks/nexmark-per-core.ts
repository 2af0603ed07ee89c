// Nexmark q5, q7 and q8 as Flink's Nexmark results report them: events per second per core, with
// the level (LevelDB) backend and a checkpoint every 10 s. One TaskManager with two slots (a
// thread each, so both cores of this machine), parallelism 2; the cores used are the
// TaskManager's CPU seconds over the run (read from /proc), so the figure is events per CPU
// second. Flink's figures (the Nexmark project's published results with RocksDB, throughput per
// TaskManager core) stand beside them: other hardware and settings, so they show the order of
// magnitude, not a same-run ratio.
// Each run lasts about 25 s × scale (sized from a calibration run), so checkpoints are taken.
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { cpuDuring } from '../lib/process-cpu.js';
import { formatCount, median, medianFigure } from '../lib/stats.js';
import { runCounted } from '../lib/weir-run.js';

const QUERIES = ['q5', 'q7', 'q8'] as const;
type Query = (typeof QUERIES)[number];
/** Flink with RocksDB, events/s per TaskManager core (the Nexmark project's published results). */
const FLINK_PER_CORE: Record<Query, number> = { q5: 75_000, q7: 23_000, q8: 162_000 };
const CALIBRATION_EVENTS = 300_000;
const RUN_SECONDS = 25;

function job(query: Query): { entry: string; args: (events: number) => string[] } {
  if (query === 'q8') return { entry: 'bench/jobs/nexmark-q8.ts', args: (n) => [String(n), '200', '10000'] };
  return { entry: 'bench/jobs/nexmark.ts', args: (n) => [query, String(n), '200', '10000', '2000'] };
}

export const nexmarkPerCore: Benchmark = {
  name: 'nexmark-per-core',
  description:
    "Nexmark q5, q7, q8 with the level backend and a checkpoint every 10 s, one TaskManager of 2 slots at parallelism 2: events/s per core used, beside Flink's per-core figures",
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    options.log('nexmark-per-core: starting one TaskManager with 2 slots (level backend, checkpoints every 10 s)');
    const cluster = await BenchCluster.start({
      taskManagers: 1,
      slots: 2,
      config: { 'state.backend': 'level', 'execution.checkpointing.interval': '10 s' },
    });
    try {
      const pids = await cluster.taskManagerPids();
      for (const query of QUERIES) {
        const { entry, args } = job(query);
        const jarId = await cluster.upload(await cluster.bundle(entry));
        const calibration = await runCounted(
          cluster,
          jarId,
          args(CALIBRATION_EVENTS),
          2,
          CALIBRATION_EVENTS,
          undefined,
          query,
        );
        const events = Math.max(100_000, Math.round(calibration.eventsPerSecond * RUN_SECONDS * options.scale));
        const perCore: number[] = [];
        const rates: number[] = [];
        const cores: number[] = [];
        const checkpoints: number[] = [];
        for (let r = 0; r < options.repetitions; r++) {
          await cluster.awaitSpareThreads(); // not inside the CPU figure
          const { result: run, cpuSeconds: cpu } = await cpuDuring(pids, () =>
            runCounted(cluster, jarId, args(events), 2, events, undefined, query),
          );
          const completed = (await cluster.checkpoints(run.jobId)).counts.completed;
          perCore.push(events / cpu);
          rates.push(run.eventsPerSecond);
          cores.push(cpu / (run.durationMs / 1000));
          checkpoints.push(completed);
          options.log(
            `${query}: ${formatCount(run.eventsPerSecond)} events/s, ${cpu.toFixed(1)} CPU s over ${(run.durationMs / 1000).toFixed(1)} s (${(cpu / (run.durationMs / 1000)).toFixed(2)} cores): ${formatCount(events / cpu)} events/s per core; ${completed} checkpoints`,
          );
        }
        const value = median(perCore);
        figures.push(
          medianFigure(`${query} events/s per core (level, checkpoint every 10 s)`, perCore, 'events/s/core'),
          {
            name: `${query} Flink with RocksDB (published, per core)`,
            value: FLINK_PER_CORE[query],
            unit: 'events/s/core',
          },
          { name: `${query} Weir / Flink per core`, value: value / FLINK_PER_CORE[query], unit: 'ratio' },
        );
        details[query] = {
          events,
          perCore,
          eventsPerSecond: rates,
          coresUsed: cores,
          checkpointsCompleted: checkpoints,
        };
      }
    } finally {
      await cluster.stop();
    }
    return { benchmark: this.name, description: this.description, figures, details };
  },
};
