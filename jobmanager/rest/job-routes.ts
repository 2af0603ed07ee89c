// Job endpoints: listing, details, cancellation, exceptions.
import type { FastifyInstance } from 'fastify';
import { RequestError } from '../dispatcher.js';
import type { ArchivedJob } from '../job-archive.js';
import { JobMaster } from '../job-master.js';
import type { ClusterContext } from './cluster-routes.js';
import { jobDetails, jobExceptions, jobOverview, jobPlan } from './job-json.js';

export function registerJobRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const d = ctx.dispatcher;

  const view = <T>(jobid: string, live: (jm: JobMaster) => T, archived: (a: ArchivedJob) => T): T => {
    const job = d.lookup(jobid);
    return job instanceof JobMaster ? live(job) : archived(job);
  };

  app.get('/jobs', async () => ({ jobs: d.overviews(jobOverview).map((o) => ({ id: o.jid, status: o.state })) }));

  app.get('/jobs/overview', async () => ({ jobs: d.overviews(jobOverview) }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid', async (req) => view(req.params.jobid, jobDetails, (a) => a.details));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/plan', async (req) => ({ plan: view(req.params.jobid, jobPlan, (a) => a.plan) }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/exceptions', async (req) => view(req.params.jobid, jobExceptions, (a) => a.exceptions));

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
