// The synchronous half of a local environment's execute(): the JobGraph as the planner would build
// it, taken when execute() is called (as Flink builds its StreamGraph), after which the
// environment's pipeline starts empty again. No runtime imports: environment.ts loads this in
// every bundle.
import type { BuiltJob } from '../job-graph-builder.js';
import { buildJobGraph } from '../job-graph-builder.js';
import { planOf } from '../transformation.js';
import type { StreamExecutionEnvironment } from '../environment.js';

/** Flink's default job name. */
const DEFAULT_JOB_NAME = 'Weir Streaming Job';

export function planLocalJob(env: StreamExecutionEnvironment): BuiltJob {
  const plan = planOf(env);
  if (plan.transformations.length === 0) throw new Error('no operators defined in the job: nothing to execute');
  const { jobGraph, userCode } = buildJobGraph(env, DEFAULT_JOB_NAME);
  plan.transformations.length = 0;
  plan.jobName = undefined;
  // Through JSON as from the planner: the graph must be what a cluster would get.
  return { jobGraph: JSON.parse(JSON.stringify(jobGraph)) as typeof jobGraph, userCode };
}
