// The vertices of GET /jobs/:jobid as Flink shows them: each vertex with its timing, task counts and
// IO metrics summed over its subtasks, and each subtask with its own.
import type { JobVertex } from '../../common/jobgraph.js';
import { EXECUTION_STATES } from '../../common/states.js';
import { ExecutionGraph, type Execution } from '../execution-graph.js';

/** How many executions are in each state (every state listed, 0 when none is). */
export function taskCounts(states: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(EXECUTION_STATES.map((s) => [s, 0]));
  for (const s of states) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

/** From `start` to `end`, or to now while it has not ended. */
export function duration(start: number, end: number): number {
  return (end > 0 ? end : Date.now()) - start;
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

/** A vertex with `execs`, its subtasks' current executions. */
export function vertexDetails(v: JobVertex, execs: Execution[]): Record<string, unknown> {
  const start = Math.min(...execs.map((e) => e.timestamps.DEPLOYING ?? Infinity));
  const ends = execs.map((e) => e.timestamps.FINISHED ?? e.timestamps.CANCELED ?? e.timestamps.FAILED ?? -1);
  const end = ends.every((t) => t > 0) ? Math.max(...ends) : -1;
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
    metrics: vertexMetrics(execs),
    // The vertex's event time: the lowest watermark of its subtasks (null before the first one).
    watermark: watermarkOf(execs.map((e) => e.metrics.watermark)),
    operators: v.operators.map((o) => ({ id: o.id, name: o.name, kind: o.kind, uid: o.uid ?? null })),
    subtasks: execs.map(subtaskDetails),
  };
}

/** The vertex's IO metrics: sums over its subtasks, their highest time rates and worst sink lag. */
function vertexMetrics(execs: Execution[]): Record<string, unknown> {
  const sum = (f: (e: Execution) => number) => execs.reduce((a, e) => a + f(e), 0);
  return {
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
  };
}

function subtaskDetails(e: Execution): Record<string, unknown> {
  return {
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
  };
}
