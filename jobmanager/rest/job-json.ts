// Flink-shaped JSON views of a job (the fields Flink's REST API and its users rely on).
import { EXECUTION_STATES } from '../../common/states.js';
import { ExecutionGraph, type Execution } from '../execution-graph.js';
import type { ArchivedJob } from '../job-archive.js';
import type { JobMaster } from '../job-master.js';

function taskCounts(states: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(EXECUTION_STATES.map((s) => [s, 0]));
  for (const s of states) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

function worstLag(lags: number[]): number | null {
  const valid = lags.filter((l) => l >= 0);
  return valid.length ? Math.round(Math.max(...valid) * 10) / 10 : null;
}

function watermarkOf(watermarks: number[]): number | null {
  const min = Math.min(...watermarks);
  return min <= Number.MIN_SAFE_INTEGER ? null : min;
}

/**
 * Flink's busyTimeMsPerSecond, idleTimeMsPerSecond, backPressuredTimeMsPerSecond of a subtask as last
 * reported; only a RUNNING subtask has them (others are 0: no time is being measured).
 */
export function timeRates(e: Execution): { busy: number; idle: number; backPressured: number } {
  if (e.state !== 'RUNNING') return { busy: 0, idle: 0, backPressured: 0 };
  const m = e.metrics;
  return { busy: m.busyTimeMsPerSecond, idle: m.idleTimeMsPerSecond, backPressured: m.backPressuredTimeMsPerSecond };
}

/** A vertex's rates as Flink's web UI shows them: the highest over its subtasks. */
function vertexTimeRates(execs: Execution[]): Record<string, number> {
  const rates = execs.map(timeRates);
  const max = (f: (r: ReturnType<typeof timeRates>) => number) => Math.max(0, ...rates.map(f));
  return {
    busyTimeMsPerSecond: max((r) => r.busy),
    idleTimeMsPerSecond: max((r) => r.idle),
    backPressuredTimeMsPerSecond: max((r) => r.backPressured),
  };
}

function duration(start: number, end: number): number {
  return (end > 0 ? end : Date.now()) - start;
}

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
  const vertices = jg.vertices.map((v, vi) => {
    const execs = g.executions[vi]!;
    const start = Math.min(...execs.map((e) => e.timestamps.DEPLOYING ?? Infinity));
    const ends = execs.map((e) => e.timestamps.FINISHED ?? e.timestamps.CANCELED ?? e.timestamps.FAILED ?? -1);
    const end = ends.every((t) => t > 0) ? Math.max(...ends) : -1;
    const sum = (f: (e: (typeof execs)[number]) => number) => execs.reduce((a, e) => a + f(e), 0);
    return {
      id: v.id,
      name: v.name,
      maxParallelism: v.maxParallelism,
      parallelism: v.parallelism,
      status: ExecutionGraph.aggregateState(execs),
      'start-time': Number.isFinite(start) ? start : -1,
      'end-time': end,
      duration: Number.isFinite(start) ? duration(start, end) : -1,
      tasks: taskCounts(execs.map((e) => e.state)),
      metrics: {
        'read-bytes': sum((e) => e.metrics.bytesIn),
        'read-bytes-complete': true,
        'write-bytes': sum((e) => e.metrics.bytesOut),
        'write-bytes-complete': true,
        'read-records': sum((e) => e.metrics.recordsIn),
        'read-records-complete': true,
        'write-records': sum((e) => e.metrics.recordsOut),
        'write-records-complete': true,
        'accumulated-backpressured-time': sum((e) => e.metrics.backPressuredMs),
        'accumulated-idle-time': sum((e) => e.metrics.accumulatedIdleMs),
        'accumulated-busy-time': sum((e) => e.metrics.accumulatedBusyMs),
        // The highest of the subtasks' rates (what Flink's job graph colours the vertex by).
        ...vertexTimeRates(execs),
        // Beyond Flink: what sources emitted and sinks received, so fully chained jobs show their flow.
        'source-records': sum((e) => e.metrics.sourceRecords),
        'sink-records': sum((e) => e.metrics.sinkRecords),
        // Keys, windows and buffered join rows held in state, so growth is visible.
        'state-entries': sum((e) => e.metrics.stateEntries),
        // Event-time lag at this vertex's sinks (now - record timestamp), worst subtask; null without sinks or timestamps.
        'sink-lag-p50': worstLag(execs.map((e) => e.metrics.sinkLagP50)),
        'sink-lag-p99': worstLag(execs.map((e) => e.metrics.sinkLagP99)),
      },
      // The vertex's event time: the lowest watermark of its subtasks (null before the first one).
      watermark: watermarkOf(execs.map((e) => e.metrics.watermark)),
      operators: v.operators.map((o) => ({ id: o.id, name: o.name, kind: o.kind, uid: o.uid ?? null })),
      subtasks: execs.map((e) => ({
        subtask: e.subtaskIndex,
        status: e.state,
        attempt: e.attempt,
        'taskmanager-id': e.taskManagerId ?? null,
        endpoint: e.taskManagerAddress ?? null,
        'start-time': e.timestamps.DEPLOYING ?? -1,
        timestamps: e.timestamps,
        metrics: {
          'read-records': e.metrics.recordsIn,
          'write-records': e.metrics.recordsOut,
          'read-bytes': e.metrics.bytesIn,
          'write-bytes': e.metrics.bytesOut,
          'source-records': e.metrics.sourceRecords,
          'sink-records': e.metrics.sinkRecords,
          'state-entries': e.metrics.stateEntries,
          'accumulated-backpressured-time': e.metrics.backPressuredMs,
          'accumulated-idle-time': e.metrics.accumulatedIdleMs,
          'accumulated-busy-time': e.metrics.accumulatedBusyMs,
          busyTimeMsPerSecond: timeRates(e).busy,
          idleTimeMsPerSecond: timeRates(e).idle,
          backPressuredTimeMsPerSecond: timeRates(e).backPressured,
        },
        watermark: watermarkOf([e.metrics.watermark]),
      })),
    };
  });
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
    timestamps: Object.fromEntries(
      [
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
      ].map((s) => [s, g.statusTimestamps[s as keyof typeof g.statusTimestamps] ?? 0]),
    ),
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
