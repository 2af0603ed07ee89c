// Flink-shaped JSON views of a job (the fields Flink's REST API and its users rely on).
import type { ExecutionGraph } from '../execution-graph.js';
import type { ArchivedJob } from '../job-archive.js';
import type { JobMaster } from '../job-master.js';
import { duration, taskCounts, vertexDetails } from './job-vertex-json.js';

export { timeRates } from './job-vertex-json.js';

export function jobOverview(jm: JobMaster): Record<string, unknown> {
  const g = jm.graph;
  const execs = g.allExecutions();
  const c = taskCounts(execs.map((e) => e.state));
  return {
    jid: jm.jobId,
    name: g.jobGraph.name,
    state: g.status,
    'start-time': g.startTime,
    'end-time': g.endTime,
    duration: duration(g.startTime, g.endTime),
    'last-modification': Math.max(...Object.values(g.statusTimestamps).map(Number)),
    tasks: {
      total: execs.length,
      created: c.CREATED,
      scheduled: c.SCHEDULED,
      deploying: c.DEPLOYING,
      running: c.RUNNING,
      finished: c.FINISHED,
      canceling: c.CANCELING,
      canceled: c.CANCELED,
      failed: c.FAILED,
      reconciling: 0,
      initializing: c.INITIALIZING,
    },
  };
}

export function jobDetails(jm: JobMaster): Record<string, unknown> {
  const g = jm.graph;
  const jg = g.jobGraph;
  const vertices = jg.vertices.map((v, vi) => vertexDetails(v, g.executions[vi]!));
  return {
    jid: jm.jobId,
    name: jg.name,
    isStoppable: false,
    state: g.status,
    'start-time': g.startTime,
    'end-time': g.endTime,
    duration: duration(g.startTime, g.endTime),
    maxParallelism: jg.maxParallelism,
    now: Date.now(),
    timestamps: jobStatusTimestamps(g),
    vertices,
    'status-counts': taskCounts(g.allExecutions().map((e) => e.state)),
    plan: jobPlan(jm),
    warnings: jg.warnings,
    // Beyond Flink: what restarting or upgrading the job needs, and where its state came from.
    'jar-id': jm.jarId ?? null,
    'program-args': jm.programArgs,
    parallelism: jm.defaultParallelism,
    'restored-from': restoredFromJson(jm),
  };
}

/** Flink's job statuses, in its order. */
const JOB_STATUSES = [
  'INITIALIZING',
  'CREATED',
  'RUNNING',
  'FAILING',
  'FAILED',
  'CANCELLING',
  'CANCELED',
  'FINISHED',
  'RESTARTING',
  'SUSPENDED',
  'RECONCILING',
];

/** When the job entered each of Flink's job statuses (0: never). */
function jobStatusTimestamps(g: ExecutionGraph): Record<string, number> {
  return Object.fromEntries(
    JOB_STATUSES.map((s) => [s, g.statusTimestamps[s as keyof typeof g.statusTimestamps] ?? 0]),
  );
}

function restoredFromJson(jm: JobMaster): Record<string, unknown> | null {
  const r = jm.restoredFrom;
  return r ? { path: r.path, 'job-id': r.jobId, 'checkpoint-id': r.checkpointId, 'is-savepoint': r.isSavepoint } : null;
}

export function jobPlan(jm: JobMaster): Record<string, unknown> {
  const jg = jm.graph.jobGraph;
  return {
    jid: jm.jobId,
    name: jg.name,
    type: 'STREAMING',
    nodes: jg.vertices.map((v) => ({
      id: v.id,
      parallelism: v.parallelism,
      operator: '',
      operator_strategy: '',
      description: v.name,
      inputs: jg.edges
        .filter((e) => e.target === v.id)
        .map((e, num) => ({
          num,
          id: e.source,
          ship_strategy: e.partitioner.toUpperCase(),
          exchange: 'pipelined_bounded',
        })),
    })),
  };
}

/** Everything the REST API shows of a job, frozen when it ends. */
export function archivedViews(jm: JobMaster): ArchivedJob {
  const cp = jm.checkpointing?.coordinator;
  return {
    jid: jm.jobId,
    overview: jobOverview(jm),
    details: jobDetails(jm),
    exceptions: jobExceptions(jm),
    plan: jobPlan(jm),
    ...(cp ? { checkpoints: cp.stats(), ...(cp.isPeriodic ? { checkpointConfig: cp.configJson() } : {}) } : {}),
  };
}

export function jobExceptions(jm: JobMaster): Record<string, unknown> {
  // As Flink: the root exception is the latest failure; the history lists the newest first.
  const h = [...jm.graph.exceptionHistory].reverse();
  const root = h[0];
  // Older failures beyond web.exception-history-size were dropped: say so, as Flink does.
  const truncated = jm.graph.exceptionHistory.dropped > 0;
  return {
    'root-exception': root?.stacktrace ?? null,
    timestamp: root?.timestamp ?? null,
    'all-exceptions': h.map((e) => ({
      exception: e.stacktrace,
      task: e.taskName,
      location: e.location,
      timestamp: e.timestamp,
    })),
    truncated,
    exceptionHistory: {
      entries: h.map((e) => ({
        exceptionName: e.exceptionName,
        stacktrace: e.stacktrace,
        timestamp: e.timestamp,
        taskName: e.taskName,
        location: e.location,
        taskManagerId: e.taskManagerId,
        concurrentExceptions: [],
      })),
      truncated,
    },
  };
}
