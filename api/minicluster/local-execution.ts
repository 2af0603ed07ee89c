// What a local environment's executeAsync() and a stream's executeAndCollect() start: the planned
// job on an in-process mini cluster. Loaded on demand, so that bundles never load the runtime
// through the API.
import type { DataStream } from '../datastream.js';
import { localExecutionOf, type LocalExecution } from '../environment.js';
import type { BuiltJob } from '../job-graph-builder.js';
import { planOf } from '../transformation.js';
import type { JobClient } from './job-client.js';
import { startMiniClusterJob } from './mini-cluster.js';

export async function startLocalJob(planned: BuiltJob, local: LocalExecution): Promise<JobClient> {
  const client = await startMiniClusterJob({
    jobGraph: planned.jobGraph,
    userCode: planned.userCode,
    configuration: local.configuration,
  });
  local.onJobSubmitted?.(client);
  return client;
}

/**
 * Runs the job with a sink that gathers `stream`'s records in this process (parallelism 1, as
 * Flink's collect sink). With `limit`, the job is canceled once that many arrived and they are
 * returned; without, everything the job produced, once it finished.
 */
export async function collectLocally<T>(
  stream: DataStream<T>,
  jobName: string | undefined,
  limit: number | undefined,
): Promise<T[]> {
  const env = stream.getExecutionEnvironment();
  if (!localExecutionOf(env)) {
    throw new Error(
      "executeAndCollect() runs the job in this process, which a job's main() run by the engine cannot; use StreamExecutionEnvironment.getExecutionEnvironment() in a test or script",
    );
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
    throw new RangeError(`limit must be a non-negative integer, got ${String(limit)}`);
  const records: T[] = [];
  let client: JobClient | undefined;
  let reached = limit === 0;
  // A plain function, so every subtask shares it (function objects are copied per subtask).
  const collect = (value: T) => {
    if (reached) return;
    records.push(value);
    if (limit !== undefined && records.length >= limit) {
      reached = true;
      void client?.cancel();
    }
  };
  stream.addSink(collect).name('Collect Sink').setParallelism(1);
  if (jobName !== undefined) planOf(env).jobName = jobName;
  client = await env.executeAsync();
  if (reached) await client.cancel();
  try {
    await client.getJobExecutionResult();
  } catch (e) {
    if (!reached) throw e;
  }
  return records;
}
