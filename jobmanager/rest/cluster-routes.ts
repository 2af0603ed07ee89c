// Cluster-level endpoints: overview, TaskManagers, logs, configuration, Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import type { Configuration } from '../../common/config.js';
import { readTail } from '../../common/files.js';
import type { Logger } from '../../common/logging.js';
import { unary } from '../../common/rpc.js';
import { ENGINE_VERSION } from '../../common/version.js';
import { RequestError, type Dispatcher } from '../dispatcher.js';
import type { JobManagerMetrics } from '../metrics.js';
import { jobOverview } from './job-json.js';
import type { ResourceManager } from '../resource-manager.js';

export interface ClusterContext {
  conf: Configuration;
  log: Logger;
  logFile: string;
  rm: ResourceManager;
  dispatcher: Dispatcher;
  metrics: JobManagerMetrics;
}

const LOG_TAIL_BYTES = 256 * 1024;

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

  app.get('/config', async () => ({
    'refresh-interval': 1000,
    'timezone-name': Intl.DateTimeFormat().resolvedOptions().timeZone,
    'timezone-offset': -new Date().getTimezoneOffset() * 60_000,
    'weir-version': ENGINE_VERSION,
    features: { 'web-submit': true, 'web-cancel': true },
  }));

  app.get('/taskmanagers', async () => ({
    taskmanagers: [...ctx.rm.taskManagers.values()].map((tm) => ({
      id: tm.id,
      path: tm.rpcAddress,
      dataPort: Number(tm.rpcAddress.split(':').pop()),
      timeSinceLastHeartbeat: tm.lastHeartbeat,
      slotsNumber: tm.slots,
      freeSlots: tm.allocations.filter((a) => a === null).length,
      hostname: tm.hostname,
      pid: tm.pid,
      registered: tm.registeredAt,
      metricsAddress: tm.metricsAddress,
      memory: { rss: tm.rssBytes, heapUsed: tm.heapUsedBytes },
    })),
  }));

  const taskManager = (id: string) => {
    const tm = ctx.rm.taskManagers.get(id);
    if (!tm) throw new RequestError(`TaskManager ${id} not found`, 404);
    return tm;
  };

  app.get<{ Params: { id: string } }>('/taskmanagers/:id', async (req) => {
    const tm = taskManager(req.params.id);
    return { id: tm.id, path: tm.rpcAddress, slotsNumber: tm.slots, freeSlots: tm.allocations.filter((a) => a === null).length, timeSinceLastHeartbeat: tm.lastHeartbeat, allocations: tm.allocations };
  });

  app.get<{ Params: { id: string } }>('/taskmanagers/:id/log', async (req, reply) => {
    const tm = taskManager(req.params.id);
    const res = await unary<{ maxBytes: number }, { text: string }>(tm.client, 'ReadLog', { maxBytes: LOG_TAIL_BYTES }, 5000).catch((e: Error) => {
      throw new RequestError(`cannot read the log of TaskManager ${tm.id}: ${e.message}`, 502);
    });
    return reply.type('text/plain; charset=utf-8').send(res.text);
  });

  app.get<{ Params: { id: string } }>('/taskmanagers/:id/metrics', async (req, reply) => {
    const tm = taskManager(req.params.id);
    if (!tm.metricsAddress) throw new RequestError(`TaskManager ${tm.id} announced no metrics endpoint`, 404);
    const res = await fetch(`http://${tm.metricsAddress}/metrics`, { signal: AbortSignal.timeout(5000) }).catch((e: Error) => {
      throw new RequestError(`cannot read the metrics of TaskManager ${tm.id}: ${e.message}`, 502);
    });
    return reply.type(res.headers.get('content-type') ?? 'text/plain').send(await res.text());
  });

  app.get('/jobmanager/log', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(await readTail(ctx.logFile, LOG_TAIL_BYTES)));

  app.get('/jobmanager/config', async () => Object.entries(ctx.conf.toMap()).map(([key, value]) => ({ key, value })));

  app.get('/metrics', async (_req, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.render()));
}
