// Flink-shaped JSON of one job vertex (JobVertexDetailsInfo, SubtaskExecutionAttemptDetailsInfo,
// SubtasksTimesInfo, JobVertexTaskManagersInfo, JobVertexBackPressureInfo), built from the vertex as
// GET /jobs/:jobid shows it, so a live job and an archived one answer alike.
import { aggregateExecutionState, EXECUTION_STATES } from '../../common/states.js';

/** A subtask as jobDetails() renders it. */
export interface SubtaskView {
  subtask: number;
  status: string;
  attempt: number;
  'taskmanager-id': string | null;
  endpoint: string | null;
  'start-time': number;
  timestamps: Record<string, number>;
  metrics: Record<string, number>;
  watermark: number | null;
}

/** A vertex as jobDetails() renders it. */
export interface VertexView {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  status: string;
  metrics: Record<string, unknown>;
  subtasks: SubtaskView[];
}

const TERMINAL = ['FINISHED', 'CANCELED', 'FAILED'];
/** The states Flink's status-duration reports, in the order an execution passes them. */
const STATUS_DURATION_STATES = ['CREATED', 'SCHEDULED', 'DEPLOYING', 'INITIALIZING', 'RUNNING'];
/** Flink's IOMetricsInfo fields that AggregatedTaskDetailsInfo summarizes. */
const IO_METRICS = [
  'read-bytes',
  'write-bytes',
  'read-records',
  'write-records',
  'accumulated-backpressured-time',
  'accumulated-busy-time',
  'accumulated-idle-time',
];

/** Flink's thresholds on the backpressured ratio (JobVertexBackPressureHandler). */
export function backPressureLevel(ratio: number): 'ok' | 'low' | 'high' {
  if (ratio <= 0.1) return 'ok';
  if (ratio <= 0.5) return 'low';
  return 'high';
}

function endTime(s: SubtaskView): number {
  const ends = TERMINAL.map((st) => s.timestamps[st]).filter((t): t is number => typeof t === 'number' && t > 0);
  return TERMINAL.includes(s.status) && ends.length ? Math.max(...ends) : -1;
}

function subtaskDuration(s: SubtaskView, now: number): number {
  const start = s['start-time'];
  if (!(start > 0)) return -1;
  const end = endTime(s);
  return (end > 0 ? end : now) - start;
}

/** Flink's IOMetricsInfo of a subtask (the -complete flags: Weir measures every one of them). */
function ioMetrics(m: Record<string, number>): Record<string, unknown> {
  const n = (k: string) => Number(m[k] ?? 0);
  return {
    'read-bytes': n('read-bytes'),
    'read-bytes-complete': true,
    'write-bytes': n('write-bytes'),
    'write-bytes-complete': true,
    'read-records': n('read-records'),
    'read-records-complete': true,
    'write-records': n('write-records'),
    'write-records-complete': true,
    'accumulated-backpressured-time': n('accumulated-backpressured-time'),
    'accumulated-idle-time': n('accumulated-idle-time'),
    'accumulated-busy-time': n('accumulated-busy-time'),
  };
}

/** Time spent in each state before the next one (the current one: up to now), as Flink's status-duration. */
function statusDuration(s: SubtaskView, now: number): Record<string, number> {
  const reached: [string, number][] = [];
  for (const st of EXECUTION_STATES) {
    const t = s.timestamps[st];
    if (typeof t === 'number' && t > 0) reached.push([st, t]);
  }
  reached.sort((a, b) => a[1] - b[1]);
  const out: Record<string, number> = {};
  for (const st of STATUS_DURATION_STATES) {
    const i = reached.findIndex(([r]) => r === st);
    if (i < 0) out[st] = 0;
    else out[st] = (reached[i + 1]?.[1] ?? (s.status === st ? now : reached[i]![1])) - reached[i]![1];
  }
  return out;
}

/** Flink's SubtaskExecutionAttemptDetailsInfo. */
export function subtaskDetails(s: SubtaskView, now: number): Record<string, unknown> {
  return {
    subtask: s.subtask,
    status: s.status,
    attempt: s.attempt,
    endpoint: s.endpoint ?? '(unassigned)',
    'start-time': s['start-time'],
    'end-time': endTime(s),
    duration: subtaskDuration(s, now),
    metrics: ioMetrics(s.metrics),
    'taskmanager-id': s['taskmanager-id'] ?? '(unassigned)',
    'status-duration': statusDuration(s, now),
  };
}

/** Flink's AggregatedTaskDetailsInfo statistics of one value over subtasks. */
function summary(values: number[]): Record<string, number> {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return { min: 0, max: 0, avg: 0, sum: 0, median: 0, p25: 0, p75: 0, p95: 0 };
  const sum = v.reduce((a, x) => a + x, 0);
  // Flink uses commons-math Percentile (its default estimation): position p(n+1), interpolated.
  const pct = (p: number) => {
    const pos = (p / 100) * (v.length + 1);
    if (pos < 1) return v[0]!;
    if (pos >= v.length) return v[v.length - 1]!;
    const lo = v[Math.floor(pos) - 1]!;
    const hi = v[Math.floor(pos)]!;
    return Math.round(lo + (pos - Math.floor(pos)) * (hi - lo));
  };
  return {
    min: v[0]!,
    max: v[v.length - 1]!,
    avg: Math.round(sum / v.length),
    sum,
    median: pct(50),
    p25: pct(25),
    p75: pct(75),
    p95: pct(95),
  };
}

function aggregated(subtasks: SubtaskView[], now: number): Record<string, unknown> {
  const io = subtasks.map((s) => ioMetrics(s.metrics));
  const durations = subtasks.map((s) => statusDuration(s, now));
  return {
    metrics: Object.fromEntries(IO_METRICS.map((k) => [k, summary(io.map((m) => Number(m[k])))])),
    'status-duration': Object.fromEntries(
      STATUS_DURATION_STATES.map((st) => [st, summary(durations.map((d) => d[st]!))]),
    ),
  };
}

/** Flink's JobVertexDetailsInfo. */
export function vertexDetails(v: VertexView, now = Date.now()): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    parallelism: v.parallelism,
    maxParallelism: v.maxParallelism,
    now,
    subtasks: v.subtasks.map((s) => subtaskDetails(s, now)),
    aggregated: aggregated(v.subtasks, now),
  };
}

/** Flink's SubtasksTimesInfo: when each subtask entered each state. */
export function subtaskTimes(v: VertexView, now = Date.now()): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    now,
    subtasks: v.subtasks.map((s) => ({
      subtask: s.subtask,
      endpoint: s.endpoint ?? '(unassigned)',
      duration: subtaskDuration(s, now),
      timestamps: Object.fromEntries(EXECUTION_STATES.map((st) => [st, s.timestamps[st] ?? 0])),
    })),
  };
}

/** Flink's JobVertexTaskManagersInfo: the vertex's subtasks grouped by the TaskManager running them. */
export function vertexTaskManagers(v: VertexView, now = Date.now()): Record<string, unknown> {
  const groups = new Map<string, SubtaskView[]>();
  for (const s of v.subtasks) {
    const key = s['taskmanager-id'] ?? '(unassigned)';
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return {
    id: v.id,
    name: v.name,
    now,
    taskmanagers: [...groups.entries()].map(([tmId, subs]) => {
      const starts = subs.map((s) => s['start-time']).filter((t) => t > 0);
      const start = starts.length ? Math.min(...starts) : -1;
      const ends = subs.map(endTime);
      const end = ends.every((t) => t > 0) ? Math.max(...ends) : -1;
      const counts: Record<string, number> = Object.fromEntries(EXECUTION_STATES.map((st) => [st, 0]));
      for (const s of subs) counts[s.status] = (counts[s.status] ?? 0) + 1;
      const io = subs.map((s) => ioMetrics(s.metrics));
      const total = (k: string) => io.reduce((a, m) => a + Number(m[k]), 0);
      return {
        endpoint: subs[0]!.endpoint ?? '(unassigned)',
        status: aggregateExecutionState(subs.map((s) => s.status)),
        'start-time': start,
        'end-time': end,
        duration: start > 0 ? (end > 0 ? end : now) - start : -1,
        metrics: {
          ...Object.fromEntries(IO_METRICS.map((k) => [k, total(k)])),
          'read-bytes-complete': true,
          'write-bytes-complete': true,
          'read-records-complete': true,
          'write-records-complete': true,
        },
        'status-counts': counts,
        'taskmanager-id': tmId,
        aggregated: aggregated(subs, now),
      };
    }),
  };
}

/**
 * Flink's JobVertexBackPressureInfo from the subtasks' backPressuredTimeMsPerSecond (ratio),
 * idleTimeMsPerSecond and busyTimeMsPerSecond over 1000. As Flink: `deprecated` without a running subtask.
 */
export function vertexBackPressure(v: VertexView, now = Date.now()): Record<string, unknown> {
  const running = v.subtasks.filter((s) => s.status === 'RUNNING');
  if (running.length === 0) return { status: 'deprecated' };
  const ratio = (s: SubtaskView, k: string) => Math.round(Number(s.metrics[k] ?? 0)) / 1000;
  const subtasks = running.map((s) => {
    const r = ratio(s, 'backPressuredTimeMsPerSecond');
    return {
      subtask: s.subtask,
      'attempt-number': s.attempt,
      'backpressure-level': backPressureLevel(r),
      ratio: r,
      idleRatio: ratio(s, 'idleTimeMsPerSecond'),
      busyRatio: ratio(s, 'busyTimeMsPerSecond'),
    };
  });
  return {
    status: 'ok',
    'backpressure-level': backPressureLevel(Math.max(...subtasks.map((s) => s.ratio))),
    'end-timestamp': now,
    subtasks,
  };
}
