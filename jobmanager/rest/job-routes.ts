// Job endpoints: listing, details, cancellation, exceptions.
import type { FastifyInstance } from 'fastify';
import { RequestError } from '../dispatcher.js';
import type { ClusterContext } from './cluster-routes.js';
import { jobDetails, jobExceptions, jobOverview, jobPlan } from './job-json.js';

export function registerJobRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const d = ctx.dispatcher;

  app.get('/jobs', async () => ({ jobs: [...d.jobs.values()].map((j) => ({ id: j.jobId, status: j.status })) }));

  app.get('/jobs/overview', async () => ({
    jobs: [...d.jobs.values()].sort((a, b) => b.graph.startTime - a.graph.startTime).map(jobOverview),
  }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid', async (req) => jobDetails(d.job(req.params.jobid)));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/plan', async (req) => ({ plan: jobPlan(d.job(req.params.jobid)) }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/exceptions', async (req) => jobExceptions(d.job(req.params.jobid)));

  app.patch<{ Params: { jobid: string }; Querystring: { mode?: string } }>('/jobs/:jobid', async (req, reply) => {
    const mode = req.query.mode ?? 'cancel';
    if (mode !== 'cancel') throw new RequestError(`unsupported mode '${mode}' (only 'cancel')`);
    d.cancel(req.params.jobid);
    return reply.status(202).send({});
  });

  const notYet = (what: string) => async (req: { params: { jobid: string } }) => {
    d.job(req.params.jobid);
    throw new RequestError(`${what} are not supported yet`, 501);
  };
  app.post<{ Params: { jobid: string } }>('/jobs/:jobid/savepoints', notYet('savepoints'));
  app.post<{ Params: { jobid: string } }>('/jobs/:jobid/stop', notYet('stop-with-savepoint and savepoints'));
}
