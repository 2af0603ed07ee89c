// End-to-end latency, event creation to sink, at a fixed rate of 50 000 events/s for 10 s on two
// TaskManagers (bench/jobs/latency.ts: Nexmark source at parallelism 2, keyBy auction across the
// TaskManagers, a stateless map, a sink that records now - created). Prints p50 and p99 over the
// events after the first second (JIT warm-up and connection set-up), after one short warm-up job.
// Creation and arrival times come from different processes on this host (performance.timeOrigin
// + performance.now()), so figures carry that clock's sub-millisecond skew.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchmarkResult } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { formatCount, perSecond } from '../lib/stats.js';
import { runningWindow } from '../lib/timing.js';
import { LatencyHistogram, type HistogramData } from './latency-histogram.js';

const JOB = 'bench/jobs/latency.ts';
const RATE = 50_000;
const SECONDS = 10;
const WARMUP_SECONDS = 1;
const AIM_P99_MS = 50;

function readHistograms(dir: string): LatencyHistogram {
  if (!existsSync(dir)) throw new Error(`no latency output in ${dir}`);
  const parts = readdirSync(dir)
    .filter((f) => /^latency-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as HistogramData);
  if (parts.length !== 2) throw new Error(`expected latency files from 2 sink subtasks, found ${parts.length}`);
  return LatencyHistogram.merge(parts);
}

async function runOnce(
  cluster: BenchCluster,
  jarId: string,
  dir: string,
  seconds: number,
): Promise<{ jobId: string; histogram: LatencyHistogram; achievedRate: number; taskManagers: number }> {
  const jobId = await cluster.run(jarId, [dir, String(RATE), String(seconds), String(WARMUP_SECONDS)], 2);
  const job = await cluster.waitForFinished(jobId);
  const histogram = readHistograms(dir);
  const tms = new Set(job.vertices.flatMap((v) => v.subtasks.map((s) => s['taskmanager-id'])));
  return {
    jobId,
    histogram,
    achievedRate: perSecond(RATE * seconds, runningWindow(job).durationMs),
    taskManagers: tms.size,
  };
}

export const latency: Benchmark = {
  name: 'latency',
  description: `end-to-end latency (event creation to sink) at ${formatCount(RATE)} events/s for ${SECONDS} s: Nexmark source p2, keyBy across 2 TaskManagers, map, sink`,
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const seconds = Math.max(2, Math.round(SECONDS * Math.min(1, options.scale)));
    options.log('latency: starting 2 TaskManagers with 1 slot each');
    const cluster = await BenchCluster.start({ taskManagers: 2, slots: 1 });
    try {
      const jarId = await cluster.upload(await cluster.bundle(JOB));
      const warm = await runOnce(cluster, jarId, join(cluster.dir, 'latency-warmup'), 2);
      options.log(
        `latency: warm-up p50 ${warm.histogram.quantile(0.5).toFixed(2)} ms, p99 ${warm.histogram.quantile(0.99).toFixed(2)} ms`,
      );
      const run = await runOnce(cluster, jarId, join(cluster.dir, 'latency'), seconds);
      if (run.taskManagers !== 2)
        throw new Error(`the latency job ran on ${run.taskManagers} TaskManager(s), expected 2`);
      const h = run.histogram;
      const q = { p50: h.quantile(0.5), p90: h.quantile(0.9), p99: h.quantile(0.99), p999: h.quantile(0.999) };
      options.log(
        `latency: p50 ${q.p50.toFixed(2)} ms, p99 ${q.p99.toFixed(2)} ms, max ${h.toData().max.toFixed(1)} ms over ${h.count} bids; source rate ${formatCount(run.achievedRate)} events/s`,
      );
      return {
        benchmark: this.name,
        description: this.description,
        figures: [
          { name: 'p50', value: q.p50, unit: 'ms', note: `${h.count} bids after the first ${WARMUP_SECONDS} s` },
          { name: 'p99', value: q.p99, unit: 'ms', note: `aim < ${AIM_P99_MS} ms` },
          { name: 'p99.9', value: q.p999, unit: 'ms' },
          { name: 'events/s achieved', value: run.achievedRate, unit: 'events/s', note: `target ${formatCount(RATE)}` },
        ],
        details: {
          rate: RATE,
          seconds,
          warmupSeconds: WARMUP_SECONDS,
          jobId: run.jobId,
          samples: h.count,
          quantilesMs: q,
          maxMs: h.toData().max,
          achievedRate: run.achievedRate,
          aim: { p99Ms: AIM_P99_MS, met: q.p99 < AIM_P99_MS },
          warmup: { p50: warm.histogram.quantile(0.5), p99: warm.histogram.quantile(0.99) },
        },
      };
    } finally {
      await cluster.stop();
    }
  },
};
