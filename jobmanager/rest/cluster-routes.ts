// Cluster-level endpoints: overview, TaskManagers, logs, configuration, Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import type { Configuration } from '../../common/config.js';
import { readLogTail } from '../../common/files.js';
import type { Logger } from '../../common/logging.js';
import { unary } from '../../common/rpc.js';
import { ENGINE_VERSION } from '../../common/version.js';
import { RequestError, type Dispatcher } from '../dispatcher.js';
import type { JobManagerMetrics } from '../metrics.js';
import { jobOverview } from './job-json.js';
import { taskManagerJson } from './taskmanager-json.js';
import type { ResourceManager } from '../resource-manager.js';
import type { DeploymentService } from '../deployments/deployment-service.js';

export interface ClusterContext {
  conf: Configuration;
  log: Logger;
  logFile: string;
  rm: ResourceManager;
  dispatcher: Dispatcher;
  metrics: JobManagerMetrics;
  /** Declarative deployments (weir apply); absent where routes are only enumerated. */
  deployments?: DeploymentService;
}

const LOG_TAIL_BYTES = 256 * 1024;

/** Flink's GlobalConfiguration.isSensitive: values of such keys never leave the process. */
const SENSITIVE = [
  'password',
  'secret',
  'token',
  'apikey',
  'auth-params',
  'service-key',
  'basic-auth',
  'jaas.config',
  'http-headers',
  'fs.azure.account.key',
];
const HIDDEN = '******';

export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase();
  return SENSITIVE.some((s) => k.includes(s));
}

/**
 * The Flink release whose REST API Weir follows. Flink's clients read `flink-version` from /config
 * (the Kubernetes operator shows it as the cluster's version); `flink-revision` names Weir instead.
 */
export const FLINK_API_VERSION = '1.20.0';

export function registerClusterRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  app.get('/overview', async () => {
    const jobs = ctx.dispatcher.overviews(jobOverview);
    const count = (s: string[]) => jobs.filter((j) => s.includes(String(j.state))).length;
    return {
      taskmanagers: ctx.rm.taskManagers.size,
      'slots-total': ctx.rm.totalSlots(),
      'slots-available': ctx.rm.freeSlots(),
      'jobs-running': count(['RUNNING', 'CREATED', 'FAILING', 'CANCELLING', 'RESTARTING', 'INITIALIZING']),
      'jobs-finished': count(['FINISHED']),
      'jobs-cancelled': count(['CANCELED']),
      'jobs-failed': count(['FAILED']),
      'weir-version': ENGINE_VERSION,
    };
  });

  // Flink's DashboardConfiguration, plus what Weir's web UI needs.
  app.get('/config', async () => ({
    'refresh-interval': 1000,
    'timezone-name': Intl.DateTimeFormat().resolvedOptions().timeZone,
    'timezone-offset': -new Date().getTimezoneOffset() * 60_000,
    'flink-version': FLINK_API_VERSION,
    'flink-revision': `Weir ${ENGINE_VERSION}`,
    'weir-version': ENGINE_VERSION,
    // No rescaling of running jobs and no history server in Weir.
    features: { 'web-submit': true, 'web-cancel': true, 'web-rescale': false, 'web-history': false },
    'savepoints-dir': ctx.conf.getOptionalString('state.savepoints.dir') ?? null,
  }));

  app.get('/taskmanagers', async () => ({ taskmanagers: [...ctx.rm.taskManagers.values()].map(taskManagerJson) }));

  const taskManager = (id: string) => {
    const tm = ctx.rm.taskManagers.get(id);
    if (!tm) throw new RequestError(`TaskManager ${id} not found`, 404);
    return tm;
  };

  app.get<{ Params: { id: string } }>('/taskmanagers/:id', async (req) => {
    const tm = taskManager(req.params.id);
    return { ...taskManagerJson(tm), allocations: tm.allocations };
  });

  app.get<{ Params: { id: string } }>('/taskmanagers/:id/log', async (req, reply) => {
    const tm = taskManager(req.params.id);
    const res = await unary<{ maxBytes: number }, { text: string }>(
      tm.client,
      'ReadLog',
      { maxBytes: LOG_TAIL_BYTES },
      5000,
    ).catch((e: Error) => {
      throw new RequestError(`cannot read the log of TaskManager ${tm.id}: ${e.message}`, 502);
    });
    return reply.type('text/plain; charset=utf-8').send(res.text);
  });

  // /taskmanagers/:id/metrics (Flink's JSON, and the Prometheus text): metric-routes.ts.

  app.get('/jobmanager/log', async (_req, reply) =>
    reply.type('text/plain; charset=utf-8').send(await readLogTail(ctx.logFile, LOG_TAIL_BYTES)),
  );

  app.get('/jobmanager/config', async () =>
    Object.entries(ctx.conf.toMap()).map(([key, value]) => ({ key, value: isSensitiveKey(key) ? HIDDEN : value })),
  );

  app.get('/metrics', async (_req, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.render()));
}
