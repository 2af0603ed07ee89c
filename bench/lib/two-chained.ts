// Variant (e) of the throughput benchmarks: two copies of the chained job (parallelism 1) at once,
// on one TaskManager with two slots. Nothing crosses between them, so (e) is what two cores give
// this job on this machine without any exchange (they share caches and memory bandwidth), the
// ceiling for the parallelism-2 variants: e/b says how far the machine lets a second core go,
// and d/e how much of that the exchange keeps.
import type { BenchCluster } from './cluster.js';
import { cpuDuring } from './process-cpu.js';
import type { JobDetails } from './rest-types.js';
import { perSecond } from './stats.js';
import { steadyRate, type WarmMark } from './steady-rate.js';
import { runningWindow } from './timing.js';
import { sumMetric } from './weir-run.js';

export interface TwoChainedRun {
  jobs: JobDetails[];
  /** Both jobs' records over the time from the first job's start to the last one's end. */
  recordsPerSecond: number;
  /** The same after warm-up, when both jobs marked its end in `warm` (bench/lib/steady-rate.ts). */
  steadyRecordsPerSecond?: number;
  durationMs: number;
  /** The TaskManagers' CPU time, every thread, while both ran. */
  cpuSeconds: number;
}

/**
 * Submits the job twice at parallelism 1 and waits for both; `records` is one job's count. Throws
 * unless each chained into one task and, when `expectedResults` is given, its sinks got that many.
 */
export async function runTwoChained(
  cluster: BenchCluster,
  jarId: string,
  args: string[],
  records: number,
  pids: number[],
  expectedResults: number | undefined,
  warm?: WarmMark,
): Promise<TwoChainedRun> {
  await cluster.awaitSpareThreads(); // not inside the CPU figure
  const { result: jobs, cpuSeconds } = await cpuDuring(pids, async () => {
    const ids = await Promise.all([cluster.run(jarId, args, 1), cluster.run(jarId, args, 1)]);
    return Promise.all(ids.map((id) => cluster.waitForFinished(id)));
  });
  for (const job of jobs) {
    if (job.vertices.length !== 1) throw new Error(`(e) job ${job.jid}: expected one chained task`);
    const results = sumMetric(job, 'sink-records');
    if (expectedResults !== undefined && results !== expectedResults)
      throw new Error(`(e) job ${job.jid}: its sinks received ${results} records, expected ${expectedResults}`);
  }
  const windows = jobs.map(runningWindow);
  const start = Math.min(...windows.map((w) => w.allRunningAt));
  const end = Math.max(...windows.map((w) => w.lastFinishedAt));
  return {
    jobs,
    recordsPerSecond: perSecond(2 * records, end - start),
    steadyRecordsPerSecond: warm ? steadyRate(warm, records, end, 2) : undefined,
    durationMs: end - start,
    cpuSeconds,
  };
}
