// The JobManager's REST endpoint (fastify): Flink-shaped paths and fields, errors as
// {"errors": [...]}, plus the web UI as static files at "/".
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { packageRoot } from '../../common/rpc.js';
import { RequestError } from '../dispatcher.js';
import { registerClusterRoutes, type ClusterContext } from './cluster-routes.js';
import { registerJarRoutes } from './jar-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { registerJobExtraRoutes } from './job-extra-routes.js';
import { registerCheckpointRoutes } from './checkpoint-routes.js';
import { emptyCheckpointStats } from '../checkpoint/checkpoint-stats.js';
import { JobMaster } from '../job-master.js';

export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export async function createRestServer(ctx: ClusterContext): Promise<FastifyInstance> {
  // Flink's RestClient puts its API version in front of every path: /v1/jobs is /jobs.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, rewriteUrl: (req) => (req.url ?? '/').replace(/^\/v1(?=\/|$|\?)/, '') });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    let status = 500;
    if (err instanceof RequestError) status = err.status;
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 600) status = err.statusCode;
    if (status >= 500) ctx.log.error({ err }, 'REST handler failed');
    reply.status(status).send({ errors: [err.message] });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ errors: [`Not found: ${req.method} ${req.url}`] });
  });

  await app.register(fastifyMultipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
  registerClusterRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerJarRoutes(app, ctx);
  registerJobExtraRoutes(app, ctx);
  registerCheckpointRoutes(app, (jobId) => {
    const job = ctx.dispatcher.jobs.get(jobId) ?? ctx.dispatcher.archive.get(jobId);
    if (!job) return undefined;
    if (job instanceof JobMaster) {
      const cp = job.checkpointing?.coordinator;
      return { stats: () => cp?.stats() ?? emptyCheckpointStats(), config: () => (cp?.isPeriodic ? cp.configJson() : undefined) };
    }
    return { stats: () => job.checkpoints ?? emptyCheckpointStats(), config: () => job.checkpointConfig };
  });

  const ui = join(packageRoot(), 'web-ui', 'dist');
  if (existsSync(join(ui, 'index.html'))) {
    await app.register(fastifyStatic, { root: ui, prefix: '/', wildcard: true, index: ['index.html'] });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('The web UI is not built (run npm run build). The REST API is available, e.g. GET /overview.\n'),
    );
  }
  return app;
}
