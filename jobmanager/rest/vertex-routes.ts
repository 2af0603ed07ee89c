// Flink's job vertex endpoints: details, one subtask, subtask times, TaskManagers, watermarks and
// backpressure (measured: each subtask's backPressuredTimeMsPerSecond, not stack sampling).
import type { FastifyInstance } from 'fastify';
import { RequestError, type Dispatcher } from '../dispatcher.js';
import { JobMaster } from '../job-master.js';
import type { ClusterContext } from './cluster-routes.js';
import { jobDetails } from './job-json.js';
import { taskMetrics } from './metric-json.js';
import {
  subtaskDetails,
  subtaskTimes,
  vertexBackPressure,
  vertexDetails,
  vertexTaskManagers,
  type SubtaskView,
  type VertexView,
} from './vertex-json.js';

type VertexParams = { jobid: string; vertexid: string };

/** The vertex as GET /jobs/:jobid shows it, live or archived; 404 when the job has no such vertex. */
export function vertexView(d: Dispatcher, jobid: string, vertexid: string): VertexView {
  const job = d.lookup(jobid);
  const details = job instanceof JobMaster ? jobDetails(job) : job.details;
  const v = (details.vertices as VertexView[] | undefined)?.find((x) => x.id === vertexid);
  if (!v) throw new RequestError(`vertex ${vertexid} not found in job ${jobid}`, 404);
  return v;
}

/** One subtask of the vertex; 404 for an index the vertex does not have. */
export function subtaskView(v: VertexView, index: string): SubtaskView {
  const s = /^\d+$/.test(index) ? v.subtasks.find((x) => x.subtask === Number(index)) : undefined;
  if (!s) throw new RequestError(`subtask ${index} not found in vertex ${v.id} (parallelism ${v.parallelism})`, 404);
  return s;
}

export function registerVertexRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const d = ctx.dispatcher;
  const vertex = (p: VertexParams) => vertexView(d, p.jobid, p.vertexid);

  app.get<{ Params: VertexParams }>('/jobs/:jobid/vertices/:vertexid', async (req) =>
    vertexDetails(vertex(req.params)),
  );

  app.get<{ Params: VertexParams & { subtaskindex: string } }>(
    '/jobs/:jobid/vertices/:vertexid/subtasks/:subtaskindex',
    async (req) => subtaskDetails(subtaskView(vertex(req.params), req.params.subtaskindex), Date.now()),
  );

  app.get<{ Params: VertexParams }>('/jobs/:jobid/vertices/:vertexid/subtasktimes', async (req) =>
    subtaskTimes(vertex(req.params)),
  );

  app.get<{ Params: VertexParams }>('/jobs/:jobid/vertices/:vertexid/taskmanagers', async (req) =>
    vertexTaskManagers(vertex(req.params)),
  );

  // Flink's JobVertexWatermarksHandler: each subtask's currentInputWatermark as a metric.
  app.get<{ Params: VertexParams }>('/jobs/:jobid/vertices/:vertexid/watermarks', async (req) =>
    vertex(req.params).subtasks.map((s) => ({
      id: `${s.subtask}.currentInputWatermark`,
      value: taskMetrics(s).currentInputWatermark,
    })),
  );

  app.get<{ Params: VertexParams }>('/jobs/:jobid/vertices/:vertexid/backpressure', async (req) =>
    vertexBackPressure(vertex(req.params)),
  );
}
