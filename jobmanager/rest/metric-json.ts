// Flink's JSON metrics views: a metric collection is `[{"id", "value"}]` with the value as a string
// (Flink's Metric), or `[{"id"}]` listing what exists when no `get` is given; aggregated subtask
// metrics are `[{"id", "min", "max", "avg", "sum", "skew"}]` (AggregatedMetric).
import { RequestError } from '../dispatcher.js';
import type { SubtaskView } from './vertex-json.js';

/** Flink's Long.MIN_VALUE watermark: what its tools read as "no watermark". */
const NO_WATERMARK = '-9223372036854775808';

/** A task's metrics by Flink's names (TaskIOMetricGroup, currentInputWatermark), from its subtask view. */
export function taskMetrics(s: SubtaskView): Record<string, string> {
  const n = (k: string) => String(Number(s.metrics[k] ?? 0));
  return {
    numRecordsIn: n('read-records'),
    numRecordsOut: n('write-records'),
    numBytesIn: n('read-bytes'),
    numBytesOut: n('write-bytes'),
    busyTimeMsPerSecond: n('busyTimeMsPerSecond'),
    idleTimeMsPerSecond: n('idleTimeMsPerSecond'),
    backPressuredTimeMsPerSecond: n('backPressuredTimeMsPerSecond'),
    accumulatedBusyTime: n('accumulated-busy-time'),
    accumulatedIdleTime: n('accumulated-idle-time'),
    accumulatedBackPressuredTime: n('accumulated-backpressured-time'),
    currentInputWatermark: s.watermark === null ? NO_WATERMARK : String(s.watermark),
  };
}

/**
 * A comma-separated query parameter such as `get` (Flink's MetricsFilterParameter); a repeated one
 * (`?get=a&get=b`) counts as one list. Undefined: not given.
 */
export function requestedIds(get: unknown): string[] | undefined {
  if (get === undefined) return undefined;
  const parts = Array.isArray(get) ? get : [get];
  if (!parts.every((p): p is string => typeof p === 'string'))
    throw new RequestError('query parameters must be comma-separated strings');
  return parts
    .join(',')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Flink's MetricCollectionResponseBody: the requested metrics that exist, or every id without `get`. */
export function metricCollection(metrics: Record<string, string>, get: unknown): { id: string; value?: string }[] {
  const ids = requestedIds(get);
  if (ids === undefined) return Object.keys(metrics).map((id) => ({ id }));
  return ids.filter((id) => Object.hasOwn(metrics, id)).map((id) => ({ id, value: metrics[id]! }));
}

const AGGREGATIONS = ['min', 'max', 'avg', 'sum', 'skew'] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

/** Flink's `agg` parameter; without it every aggregation is returned. */
function aggregations(agg: unknown): Aggregation[] {
  const out = requestedIds(agg)?.map((a) => a.toLowerCase());
  if (out === undefined) return [...AGGREGATIONS];
  for (const a of out)
    if (!(AGGREGATIONS as readonly string[]).includes(a))
      throw new RequestError(`unknown aggregation '${a}' (expected ${AGGREGATIONS.join(', ')})`);
  return out as Aggregation[];
}

/** Flink's DoubleDataSkew: average absolute deviation over the average, in percent, at most 100. */
function skew(values: number[]): number {
  if (values.length === 0) return 0;
  const avg = values.reduce((a, v) => a + v, 0) / values.length;
  if (avg === 0) return 0;
  const dev = values.reduce((a, v) => a + Math.abs(avg - v), 0) / values.length;
  return Math.min((dev / avg) * 100, 100);
}

/** Flink's AggregatedMetricsResponseBody over several metric sets (subtasks); ids without `get`. */
export function aggregatedMetrics(
  sets: Record<string, string>[],
  get: unknown,
  agg: unknown,
): Record<string, unknown>[] {
  const ids = requestedIds(get);
  if (ids === undefined) return [...new Set(sets.flatMap((m) => Object.keys(m)))].map((id) => ({ id }));
  const modes = aggregations(agg);
  const out: Record<string, unknown>[] = [];
  for (const id of ids) {
    const values = sets
      .map((m) => m[id])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .filter((v) => Number.isFinite(v));
    if (values.length === 0) continue;
    const sum = values.reduce((a, v) => a + v, 0);
    const all: Record<Aggregation, number> = {
      min: Math.min(...values),
      max: Math.max(...values),
      avg: sum / values.length,
      sum,
      skew: skew(values),
    };
    out.push({ id, ...Object.fromEntries(modes.map((m) => [m, all[m]])) });
  }
  return out;
}

/** Flink's `subtasks` parameter: indexes and ranges ("0,2-3"); undefined: all. */
export function selectedSubtasks(param: unknown, parallelism: number): Set<number> | undefined {
  const parts = requestedIds(param);
  if (parts === undefined) return undefined;
  const out = new Set<number>();
  for (const part of parts) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new RequestError(`invalid subtask index or range '${part}'`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= Math.min(to, parallelism - 1); i++) out.add(i);
  }
  return out;
}
