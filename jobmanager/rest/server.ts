// The JobManager's REST endpoint (fastify): Flink-shaped paths and fields, errors as
// {"errors": [...]}, plus the web UI as static files at "/". With security.rest.token every route
// but the UI's files needs the bearer token; with security.ssl.rest.enabled it serves HTTPS.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { packageRoot } from '../../common/package-root.js';
import { RequestError } from '../dispatcher.js';
import { registerClusterRoutes, type ClusterContext } from './cluster-routes.js';
import { registerJarRoutes } from './jar-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { registerJobExtraRoutes } from './job-extra-routes.js';
import { registerCheckpointRoutes } from './checkpoint-routes.js';
import { registerDeploymentRoutes } from './deployment-routes.js';
import { registerMetricRoutes } from './metric-routes.js';
import { registerVertexRoutes } from './vertex-routes.js';
import { markPublicUi, registerRestAuth } from './rest-auth.js';
import { restSecurity } from './rest-security.js';
import { StatePaths } from './state-paths.js';
import { emptyCheckpointStats } from '../checkpoint/checkpoint-stats.js';
import { JobMaster } from '../job-master.js';

/** JSON and other non-upload bodies: the largest real one (a run request) is a few KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function createRestServer(ctx: ClusterContext): Promise<FastifyInstance> {
  const security = restSecurity(ctx.conf);
  const maxUpload = ctx.conf.getMemorySize('rest.server.max-content-length');
  const bodyLimit = Math.min(MAX_BODY_BYTES, maxUpload);
  // The routes do not depend on the raw server type, so an HTTPS instance is typed as the HTTP one.
  const app = Fastify({
    logger: false,
    bodyLimit,
    ...(security.tls ? { https: security.tls } : {}),
    // Jar ids are up to 161 characters (hash, '_', file name); longer parameters are refused (414).
    // Under routerOptions: Fastify 5 warns (FSTDEP022) when router options are given at the top level.
    routerOptions: { maxParamLength: 300 },
    // Malformed URLs and over-long parameters, refused by the router itself: the same error shape.
    frameworkErrors: (err, _req, reply) => {
      void (reply as unknown as FastifyReply)
        .code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400)
        .send({ errors: [err.message] });
    },
    // Flink's RestClient puts its API version in front of every path: /v1/jobs is /jobs.
    rewriteUrl: (req) => (req.url ?? '/').replace(/^\/v1(?=\/|$|\?)/, ''),
  }) as unknown as FastifyInstance;

  // First, so that it runs before any body is read, for every route registered after it.
  if (security.token !== undefined) registerRestAuth(app, security.token);

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    let status = 500;
    if (err instanceof RequestError) status = err.status;
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 600) status = err.statusCode;
    if (status >= 500) ctx.log.error({ err }, 'REST handler failed');
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `the request body is larger than ${bodyLimit} bytes` : err.message;
    reply.status(status).send({ errors: [message] });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ errors: [`Not found: ${req.method} ${req.url}`] });
  });

  refuseTunnels(app);

  // One bundle per upload; Flink's RestClient adds a small `request` field beside it.
  await app.register(fastifyMultipart, {
    limits: { fileSize: maxUpload, files: 1, fields: 16, fieldSize: 64 * 1024, parts: 32, headerPairs: 64 },
  });
  registerApi(app, ctx);
  await app.register(async (ui) => {
    markPublicUi(ui);
    await registerUi(ui);
  });
  return app;
}

/** Every API route (all but the UI's files); tests enumerate the routes through it. */
export function registerApi(app: FastifyInstance, ctx: ClusterContext): void {
  const paths = StatePaths.of(ctx.conf, ctx.conf.getOptionalString('process.working-dir') ?? dirname(ctx.logFile));
  registerClusterRoutes(app, ctx);
  registerJobRoutes(app, ctx, paths);
  registerJarRoutes(app, ctx, paths);
  registerJobExtraRoutes(app, ctx);
  registerVertexRoutes(app, ctx);
  registerMetricRoutes(app, ctx);
  registerDeploymentRoutes(app, ctx);
  registerCheckpointRoutes(app, (jobId) => {
    const job = ctx.dispatcher.jobs.get(jobId) ?? ctx.dispatcher.archive.get(jobId);
    if (!job) return undefined;
    if (job instanceof JobMaster) {
      const cp = job.checkpointing?.coordinator;
      return {
        stats: () => cp?.stats() ?? emptyCheckpointStats(),
        config: () => (cp?.isPeriodic ? cp.configJson() : undefined),
      };
    }
    return { stats: () => job.checkpoints ?? emptyCheckpointStats(), config: () => job.checkpointConfig };
  });
}

/**
 * CONNECT (and upgrade requests) bypass fastify: Node's HTTP server would close the connection
 * without a word. They get a plain 405 instead.
 */
function refuseTunnels(app: FastifyInstance): void {
  const body = JSON.stringify({ errors: ['this server does not tunnel or upgrade connections'] });
  const refuse = (_req: unknown, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };
  app.server.on('connect', refuse);
  app.server.on('upgrade', refuse);
}

async function registerUi(app: FastifyInstance): Promise<void> {
  const ui = join(packageRoot(), 'web-ui', 'dist');
  if (existsSync(join(ui, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: ui,
      prefix: '/',
      wildcard: true,
      index: ['index.html'],
      dotfiles: 'deny',
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain')
        .send('The web UI is not built (run npm run build). The REST API is available, e.g. GET /overview.\n'),
    );
  }
}
