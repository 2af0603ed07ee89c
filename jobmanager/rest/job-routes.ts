// Job endpoints: listing, details, cancellation, exceptions.
import type { FastifyInstance } from 'fastify';
import { RequestError } from '../dispatcher.js';
import type { ArchivedJob } from '../job-archive.js';
import { JobMaster } from '../job-master.js';
import type { ClusterContext } from './cluster-routes.js';
import { jobDetails, jobExceptions, jobOverview, jobPlan } from './job-json.js';
import { registerSavepointRoutes } from './savepoint-routes.js';
import type { StatePaths } from './state-paths.js';

export function registerJobRoutes(app: FastifyInstance, ctx: ClusterContext, paths: StatePaths): void {
  const d = ctx.dispatcher;

  const view = <T>(jobid: string, live: (jm: JobMaster) => T, archived: (a: ArchivedJob) => T): T => {
    const job = d.lookup(jobid);
    return job instanceof JobMaster ? live(job) : archived(job);
  };

  app.get('/jobs', async () => ({ jobs: d.overviews(jobOverview).map((o) => ({ id: o.jid, status: o.state })) }));

  app.get('/jobs/overview', async () => ({ jobs: d.overviews(jobOverview) }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid', async (req) =>
    view(req.params.jobid, jobDetails, (a) => a.details),
  );

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/plan', async (req) => ({
    plan: view(req.params.jobid, jobPlan, (a) => a.plan),
  }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/exceptions', async (req) =>
    view(req.params.jobid, jobExceptions, (a) => a.exceptions),
  );

  app.patch<{ Params: { jobid: string }; Querystring: { mode?: string } }>('/jobs/:jobid', async (req, reply) => {
    const mode = req.query.mode ?? 'cancel';
    if (mode === 'cancel') d.cancel(req.params.jobid);
    // Flink's old graceful stop: here a stop-with-savepoint into state.savepoints.dir.
    else if (mode === 'stop') startStop(req.params.jobid, undefined, false);
    else throw new RequestError(`unsupported mode '${mode}' (expected 'cancel' or 'stop')`);
    return reply.status(202).send({});
  });

  registerSavepointRoutes(app, d, paths, (jobId, target, drain) => startStop(jobId, target, drain));

  function startStop(jobId: string, target: unknown, drain: boolean): string {
    const jm = d.liveJob(jobId, 'stop with a savepoint');
    const dir = d.savepointTarget(target as string | undefined);
    return d.operations.start(jobId, jm.stopWithSavepoint(dir, drain), (location) => ({ location }));
  }
}
