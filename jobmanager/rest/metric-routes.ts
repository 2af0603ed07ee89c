// Flink's JSON metrics endpoints (`?get=a,b` → [{"id", "value"}]; without `get`, the ids there are)
// for a job, a vertex, its subtasks (aggregated) and a TaskManager. A TaskManager's Prometheus text
// stays available: at /taskmanagers/:id/metrics/prometheus, or at /taskmanagers/:id/metrics for a
// client whose Accept header asks for text (a Prometheus scraper's does) and not for JSON.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isGloballyTerminal } from '../../common/states.js';
import { RequestError } from '../dispatcher.js';
import type { ArchivedJob } from '../job-archive.js';
import { JobMaster } from '../job-master.js';
import type { TaskManagerInfo } from '../resource-manager.js';
import type { ClusterContext } from './cluster-routes.js';
import { aggregatedMetrics, metricCollection, selectedSubtasks, taskMetrics } from './metric-json.js';
import { subtaskView, vertexView } from './vertex-routes.js';

type VertexParams = { jobid: string; vertexid: string };
/** Query parameters as fastify parses them: a repeated one is an array. */
type MetricsQuery = { get?: string | string[] };

interface CheckpointStatsJson {
  counts?: { completed?: number; failed?: number; in_progress?: number; total?: number };
  latest?: {
    completed?: { end_to_end_duration?: number; state_size?: number } | null;
    restored?: { restore_timestamp?: number } | null;
  };
}

/** Flink's job metrics (JobManagerJobMetricGroup) that Weir keeps. */
export function jobMetrics(job: JobMaster | ArchivedJob, now = Date.now()): Record<string, string> {
  const live = job instanceof JobMaster;
  const stats = (live ? job.checkpointing.coordinator.stats() : job.checkpoints) as CheckpointStatsJson | undefined;
  const out: Record<string, string> = {};
  if (live) {
    const g = job.graph;
    out.numRestarts = String(g.attempt);
    const running = g.statusTimestamps.RUNNING;
    // Flink's uptime: time RUNNING without interruption, -1 once the job ended.
    out.uptime = String(isGloballyTerminal(g.status) ? -1 : g.status === 'RUNNING' && running ? now - running : 0);
  }
  if (stats?.counts) {
    out.numberOfCompletedCheckpoints = String(stats.counts.completed ?? 0);
    out.numberOfFailedCheckpoints = String(stats.counts.failed ?? 0);
    out.numberOfInProgressCheckpoints = String(stats.counts.in_progress ?? 0);
    out.totalNumberOfCheckpoints = String(stats.counts.total ?? 0);
    // As Flink: -1 before the first completed checkpoint or restore.
    out.lastCheckpointDuration = String(stats.latest?.completed?.end_to_end_duration ?? -1);
    out.lastCheckpointSize = String(stats.latest?.completed?.state_size ?? -1);
    out.lastCheckpointRestoreTimestamp = String(stats.latest?.restored?.restore_timestamp ?? -1);
  }
  return out;
}

/** Flink's TaskManager metrics that Weir measures (from the TaskManager's heartbeats). */
export function taskManagerMetrics(tm: TaskManagerInfo): Record<string, string> {
  const free = tm.allocations.filter((a) => a === null).length;
  return {
    'Status.JVM.Memory.Heap.Used': String(tm.heapUsedBytes),
    // Beyond Flink: the process's resident set and its slots.
    'Status.Process.Memory.RSS': String(tm.rssBytes),
    'Status.Slots.Total': String(tm.slots),
    'Status.Slots.Free': String(free),
  };
}

function wantsPrometheusText(accept: string | undefined): boolean {
  const a = (accept ?? '').toLowerCase();
  return (a.includes('text/plain') || a.includes('openmetrics')) && !a.includes('application/json');
}

export function registerMetricRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const d = ctx.dispatcher;

  app.get<{ Params: { jobid: string }; Querystring: MetricsQuery }>('/jobs/:jobid/metrics', async (req) =>
    metricCollection(jobMetrics(d.lookup(req.params.jobid)), req.query.get),
  );

  // A vertex's task metrics, one per subtask: "<subtask>.<metric>", as Flink's metric store names them.
  app.get<{ Params: VertexParams; Querystring: MetricsQuery }>(
    '/jobs/:jobid/vertices/:vertexid/metrics',
    async (req) => {
      const v = vertexView(d, req.params.jobid, req.params.vertexid);
      const all = Object.fromEntries(
        v.subtasks.flatMap((s) => Object.entries(taskMetrics(s)).map(([k, val]) => [`${s.subtask}.${k}`, val])),
      );
      return metricCollection(all, req.query.get);
    },
  );

  app.get<{
    Params: VertexParams;
    Querystring: MetricsQuery & { agg?: string | string[]; subtasks?: string | string[] };
  }>('/jobs/:jobid/vertices/:vertexid/subtasks/metrics', async (req) => {
    const v = vertexView(d, req.params.jobid, req.params.vertexid);
    const pick = selectedSubtasks(req.query.subtasks, v.parallelism);
    const sets = v.subtasks.filter((s) => !pick || pick.has(s.subtask)).map(taskMetrics);
    return aggregatedMetrics(sets, req.query.get, req.query.agg);
  });

  app.get<{ Params: VertexParams & { subtaskindex: string }; Querystring: MetricsQuery }>(
    '/jobs/:jobid/vertices/:vertexid/subtasks/:subtaskindex/metrics',
    async (req) => {
      const s = subtaskView(vertexView(d, req.params.jobid, req.params.vertexid), req.params.subtaskindex);
      return metricCollection(taskMetrics(s), req.query.get);
    },
  );

  const taskManager = (id: string) => {
    const tm = ctx.rm.taskManagers.get(id);
    if (!tm) throw new RequestError(`TaskManager ${id} not found`, 404);
    return tm;
  };

  const prometheus = async (tm: TaskManagerInfo, reply: FastifyReply) => {
    if (!tm.metricsAddress) throw new RequestError(`TaskManager ${tm.id} announced no metrics endpoint`, 404);
    const res = await fetch(`http://${tm.metricsAddress}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(
      (e: Error) => {
        throw new RequestError(`cannot read the metrics of TaskManager ${tm.id}: ${e.message}`, 502);
      },
    );
    return reply.type(res.headers.get('content-type') ?? 'text/plain').send(await res.text());
  };

  app.get<{ Params: { id: string }; Querystring: MetricsQuery }>('/taskmanagers/:id/metrics', async (req, reply) => {
    const tm = taskManager(req.params.id);
    if (req.query.get === undefined && wantsPrometheusText(req.headers.accept)) return prometheus(tm, reply);
    return metricCollection(taskManagerMetrics(tm), req.query.get);
  });

  app.get<{ Params: { id: string } }>('/taskmanagers/:id/metrics/prometheus', async (req, reply) =>
    prometheus(taskManager(req.params.id), reply),
  );
}
