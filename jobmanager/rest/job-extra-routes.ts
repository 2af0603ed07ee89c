// Job endpoints Flink's clients (RestClusterClient, the Kubernetes operator) call beyond the
// dashboard's: status, execution result, configuration, and manual checkpoints.
import type { FastifyInstance } from 'fastify';
import type { RestartStrategySettings } from '../../common/checkpoint.js';
import { isGloballyTerminal, type JobStatus } from '../../common/states.js';
import { RequestError } from '../dispatcher.js';
import type { ArchivedJob } from '../job-archive.js';
import { JobMaster } from '../job-master.js';
import { createRestartStrategy } from '../restart/restart-strategy.js';
import type { ClusterContext } from './cluster-routes.js';

/** What these views need of a job, live or archived. */
interface JobFacts {
  jid: string;
  name: string;
  state: JobStatus;
  startTime: number;
  endTime: number;
  /** The latest failure, as in /jobs/:jobid/exceptions. */
  failure: { exceptionName: string; stacktrace: string } | undefined;
  parallelism: number;
  /** Only /config needs it: computed on demand. */
  restartStrategy: () => string;
}

const CHECKPOINT_TYPES = ['CONFIGURED', 'FULL', 'INCREMENTAL'];

/** Flink's ApplicationStatus.fromJobStatus. */
function applicationStatus(state: JobStatus): string {
  if (state === 'FINISHED') return 'SUCCEEDED';
  if (state === 'FAILED') return 'FAILED';
  if (state === 'CANCELED') return 'CANCELED';
  return 'UNKNOWN';
}

function liveFacts(jm: JobMaster, ctx: ClusterContext): JobFacts {
  const g = jm.graph;
  const jg = g.jobGraph;
  const latest = g.exceptionHistory.at(-1);
  return {
    jid: jm.jobId,
    name: jg.name,
    state: jm.status,
    startTime: g.startTime,
    endTime: g.endTime,
    failure: latest,
    parallelism: Math.max(1, ...jg.vertices.map((v) => v.parallelism)),
    restartStrategy: () => {
      // The strategy the dispatcher built for the job (its own, else the cluster's), rebuilt for its description.
      const own = jg.config.restartStrategy as RestartStrategySettings | undefined;
      const { description } = createRestartStrategy(own, ctx.conf, jm.checkpointing.coordinator.isPeriodic);
      return own ? description : `Cluster level default restart strategy: ${description}`;
    },
  };
}

/** A job that ended before this JobManager started: what its frozen views still tell. */
function archivedFacts(a: ArchivedJob): JobFacts {
  const entries =
    (a.exceptions.exceptionHistory as { entries?: { exceptionName: string; stacktrace: string }[] } | undefined)
      ?.entries ?? [];
  const vertices = (a.details.vertices as { parallelism?: number }[] | undefined) ?? [];
  return {
    jid: a.jid,
    name: String(a.overview.name),
    state: a.overview.state as JobStatus,
    startTime: Number(a.overview['start-time']),
    endTime: Number(a.overview['end-time']),
    failure: entries[0],
    parallelism: Math.max(1, ...vertices.map((v) => v.parallelism ?? 1)),
    restartStrategy: () => 'unknown (the job ended before this JobManager started)',
  };
}

/** Flink's JobResult as its REST API serializes it. */
export function executionResultJson(f: JobFacts): Record<string, unknown> {
  if (!isGloballyTerminal(f.state)) return { status: { id: 'IN_PROGRESS' } };
  const result: Record<string, unknown> = {
    id: f.jid,
    'application-status': applicationStatus(f.state),
    'accumulator-results': {},
    'net-runtime': Math.max(0, f.endTime - f.startTime),
  };
  if (f.state === 'FAILED' && f.failure) {
    result['failure-cause'] = { class: f.failure.exceptionName, 'stack-trace': f.failure.stacktrace };
  }
  return { status: { id: 'COMPLETED' }, 'job-execution-result': result };
}

/** Flink's JobConfigInfo. Weir has no object reuse and no global job parameters. */
export function jobConfigJson(f: JobFacts): Record<string, unknown> {
  return {
    jid: f.jid,
    name: f.name,
    'execution-config': {
      'execution-mode': 'PIPELINED',
      'restart-strategy': f.restartStrategy(),
      'job-parallelism': f.parallelism,
      'object-reuse-mode': false,
      'user-config': {},
    },
  };
}

/** Flink's CheckpointTriggerRequestBody; `triggerId` (client-chosen ids) is not supported and ignored. */
function checkpointType(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new RequestError('the request body must be a JSON object');
  const type = (body as { checkpointType?: unknown }).checkpointType;
  if (type === undefined || type === null) return undefined;
  if (typeof type !== 'string' || !CHECKPOINT_TYPES.includes(type)) {
    throw new RequestError(`checkpointType must be one of ${CHECKPOINT_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  return type;
}

/** A plain Error from the checkpoint path is a CheckpointException to Flink's clients. */
function asCheckpointException(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.name === 'Error') err.name = 'CheckpointException';
  throw err;
}

export function registerJobExtraRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const d = ctx.dispatcher;
  const facts = (jobid: string): JobFacts => {
    const job = d.lookup(jobid);
    return job instanceof JobMaster ? liveFacts(job, ctx) : archivedFacts(job);
  };

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/status', async (req) => ({
    status: facts(req.params.jobid).state,
  }));

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/execution-result', async (req) =>
    executionResultJson(facts(req.params.jobid)),
  );

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/config', async (req) => jobConfigJson(facts(req.params.jobid)));

  // The requested checkpointType is checked, but the checkpoint is of the kind the job takes
  // anyway (Flink's CONFIGURED): the coordinator has no per-request choice.
  app.post<{ Params: { jobid: string } }>('/jobs/:jobid/checkpoints', async (req, reply) => {
    checkpointType(req.body);
    const jm = d.job(req.params.jobid);
    const work = Promise.resolve()
      .then(() => jm.triggerManualCheckpoint())
      .catch(asCheckpointException);
    const requestId = d.operations.start(`${jm.jobId}:checkpoint`, work, (r) => ({ checkpointId: r.checkpointId }));
    return reply.status(202).send({ 'request-id': requestId });
  });

  // Static siblings (/checkpoints/config, /checkpoints/details/:id) win over this parametric route.
  app.get<{ Params: { jobid: string; triggerid: string } }>('/jobs/:jobid/checkpoints/:triggerid', async (req) => {
    d.lookup(req.params.jobid);
    const status = d.operations.get(`${req.params.jobid}:checkpoint`, req.params.triggerid);
    if (!status)
      throw new RequestError(
        `There is no checkpoint operation with trigger id ${req.params.triggerid} for job ${req.params.jobid} (unknown, or older than 5 minutes).`,
        404,
      );
    return status;
  });
}
