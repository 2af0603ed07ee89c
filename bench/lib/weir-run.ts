// One measured Weir run of an event-counting benchmark job: run to FINISHED, check the result count
// against the hand-written loop's, and take the rate over the running window.
import type { BenchCluster } from './cluster.js';
import type { JobDetails } from './rest-types.js';
import { perSecond } from './stats.js';
import { steadyRate, type WarmMark } from './steady-rate.js';
import { runningWindow } from './timing.js';

export interface WeirRun {
  jobId: string;
  eventsPerSecond: number;
  /** The rate after warm-up, when the job marked its end (bench/lib/steady-rate.ts). */
  steadyEventsPerSecond?: number;
  durationMs: number;
  results: number;
  vertices: string[];
}

/** A metric summed over all vertices of a job. */
export function sumMetric(job: JobDetails, metric: string): number {
  return job.vertices.reduce((a, v) => a + (v.metrics[metric] ?? 0), 0);
}

/** Runs the job once; throws if its sinks received a different number of results than `expected`. */
export async function runCounted(
  cluster: BenchCluster,
  jarId: string,
  args: string[],
  parallelism: number,
  events: number,
  expected: number | undefined,
  label: string,
  warm?: WarmMark,
): Promise<WeirRun> {
  const jobId = await cluster.run(jarId, args, parallelism);
  const job = await cluster.waitForFinished(jobId);
  const results = sumMetric(job, 'sink-records');
  if (expected !== undefined && results !== expected)
    throw new Error(`${label} job ${jobId}: ${results} results, the hand-written loop produced ${expected}`);
  const w = runningWindow(job);
  return {
    jobId,
    eventsPerSecond: perSecond(events, w.durationMs),
    steadyEventsPerSecond: warm ? steadyRate(warm, events, w.lastFinishedAt) : undefined,
    durationMs: w.durationMs,
    results,
    vertices: job.vertices.map((v) => `${v.name} (${v.parallelism})`),
  };
}
